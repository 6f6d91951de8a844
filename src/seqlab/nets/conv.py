"""1-D convolutions: the reference's temporal convnet, Conv1D+GRU, and a dilated causal stack."""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from seqlab.data.spec import TaskSpec
from seqlab.nets.base import SequenceNet
from seqlab.nets.recurrent import Recurrent
from seqlab.nets.seq2seq import Seq2Seq


class Conv1DStack(SequenceNet):
    """Conv1D + ReLU blocks, max-pooling between them, global average pooling at the end.

    The defaults are the reference's stack: Conv1D(8, 24) → pool 2 → Conv1D(8, 12) → pool 2 →
    Conv1D(8, 6) → global average.
    """

    def __init__(
        self,
        spec: TaskSpec,
        filters: tuple[int, ...] = (8, 8, 8),
        kernel_sizes: tuple[int, ...] = (24, 12, 6),
        pool_size: int = 2,
    ) -> None:
        super().__init__()
        if len(filters) != len(kernel_sizes):
            raise ValueError("filters and kernel_sizes need one entry per convolution")
        layers: list[nn.Module] = []
        channels = spec.input_size
        for i, (width, kernel) in enumerate(zip(filters, kernel_sizes, strict=True)):
            if i:
                layers.append(nn.MaxPool1d(pool_size))
            layers += [nn.Conv1d(channels, width, kernel), nn.ReLU()]
            channels = width
        self.layers = nn.Sequential(*layers)
        self.output_size = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.transpose(1, 2)).mean(dim=2)


class ConvGRU(SequenceNet):
    """A strided Conv1D front end, then a GRU stack (the reference's Conv1D(32, 4, stride 2)+GRU).

    The convolution turns every ``kernel_size`` consecutive steps into one feature vector and,
    with ``stride`` 2, halves the sequence the GRU has to walk: cheaper, and the GRU's memory
    spans twice the time.
    """

    def __init__(
        self,
        spec: TaskSpec,
        filters: int = 32,
        kernel_size: int = 4,
        stride: int = 2,
        hidden_size: int = 32,
        num_layers: int = 1,
        dropout: float = 0.0,
        output_dropout: float = 0.0,
        weight_drop: float = 0.0,
    ) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(spec.input_size, filters, kernel_size, stride=stride), nn.ReLU()
        )
        self.gru = Recurrent(
            replace(spec, input_size=filters),
            cell="gru",
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout,
            output_dropout=output_dropout,
            weight_drop=weight_drop,
        )
        self.output_size = self.gru.output_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gru(self.conv(x.transpose(1, 2)).transpose(1, 2))


class WaveNet(SequenceNet):
    """Causal dilated Conv1D stack (WaveNet style): dilations 1, 2, 4, 8, … repeated.

    Each layer doubles the receptive field, so a few layers see the whole window at the cost of
    a handful of convolutions; left padding keeps every output causal. With ``per_step`` (the
    reference's set-up) the head forecasts at every time step and the task trains on all of
    them; otherwise only the last step's features are used.
    """

    def __init__(
        self,
        spec: TaskSpec,
        filters: int = 32,
        kernel_size: int = 2,
        dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 2, 4, 8),
        dropout: float = 0.0,
        per_step: bool = False,
    ) -> None:
        super().__init__()
        if per_step and Seq2Seq.incompatibility(spec) is not None:
            raise ValueError(f"per_step: {Seq2Seq.incompatibility(spec)}")
        layers: list[nn.Module] = []
        channels = spec.input_size
        for dilation in dilations:
            layers += [
                nn.ConstantPad1d(((kernel_size - 1) * dilation, 0), 0.0),
                nn.Conv1d(channels, filters, kernel_size, dilation=dilation),
                nn.ReLU(),
            ]
            channels = filters
        self.layers = nn.Sequential(*layers, nn.Dropout(dropout))
        self.per_step = per_step
        self.output_size = filters

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.layers(x.transpose(1, 2)).transpose(1, 2)
        return features if self.per_step else features[:, -1]
