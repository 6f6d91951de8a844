"""1-D convolutions: the reference's temporal convnet, Conv1D+GRU, and a dilated causal stack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from seqlab.errors import ConfigError
from seqlab.nets.base import NetInput, SequenceNet, per_step_incompatibility
from seqlab.nets.recurrent import Recurrent, check_recurrent
from seqlab.spec import TaskSpec

KERNEL_SIZES = (24, 12, 6)
POOL_SIZE = 2


def stack_length(kernel_sizes: Sequence[int], pool_size: int) -> int:
    """The fewest steps a Conv1D stack with max-pooling between its layers reads: the last
    convolution needs ``kernel`` steps, each pooling before it ``pool_size`` times as many, each
    convolution ``kernel - 1`` more (69 for the reference's 24, 12, 6 with pooling 2)."""
    steps = 1
    for i, kernel in enumerate(reversed(kernel_sizes)):
        steps += kernel - 1
        if i < len(kernel_sizes) - 1:
            steps *= pool_size
    return steps


def fitting_kernels(kernel_sizes: Sequence[int], pool_size: int, length: int) -> list[int] | None:
    """The kernels halved until the stack reads ``length`` steps (for an error's suggestion)."""
    kernels = list(kernel_sizes)
    while stack_length(kernels, pool_size) > length and any(k > 1 for k in kernels):
        kernels = [max(1, k // 2) for k in kernels]
    return kernels if stack_length(kernels, pool_size) <= length else None


def pad_to_length(x: torch.Tensor, length: int) -> torch.Tensor:
    """Right-pad ``(batch, time, features)`` with zero steps up to ``length`` steps. Zero is what
    the token embedding gives the padding id, so a short text reads as a text padded further."""
    short = length - x.shape[1]
    return nn.functional.pad(x, (0, 0, 0, short)) if short > 0 else x


class Conv1DStack(SequenceNet):
    """Conv1D + ReLU blocks, max-pooling between them, global average pooling at the end.

    The defaults are the reference's stack: Conv1D(8, 24) → pool 2 → Conv1D(8, 12) → pool 2 →
    Conv1D(8, 6) → global average. The stack reads at least ``min_length`` steps (69 with the
    defaults, `stack_length`): a data set with shorter fixed windows (Chicago's 56 days) is
    refused at set-up, naming the window and the kernels that fit; inputs of varying length
    (IMDB's reviews) that fall short are padded with zero steps, as the data pad their batches.
    """

    @classmethod
    def check_options(cls, **options: Any) -> None:
        filters = list(options.get("filters", (8, 8, 8)))
        kernel_sizes = list(options.get("kernel_sizes", KERNEL_SIZES))
        if len(filters) != len(kernel_sizes) or not kernel_sizes:
            raise ConfigError(
                f"model.filters={filters} and model.kernel_sizes={kernel_sizes} need one entry "
                "per convolution, at least one"
            )
        for key, values in (("filters", filters), ("kernel_sizes", kernel_sizes)):
            if min(values) < 1:
                raise ConfigError(f"model.{key}={values}: every entry must be 1 or more")
        if options.get("pool_size", POOL_SIZE) < 1:
            raise ConfigError(f"model.pool_size={options['pool_size']} must be 1 or more")

    @classmethod
    def incompatibility(
        cls,
        spec: TaskSpec,
        kernel_sizes: Sequence[int] = KERNEL_SIZES,
        pool_size: int = POOL_SIZE,
        **options: Any,
    ) -> str | None:
        reason = super().incompatibility(spec, **options)
        length = spec.sequence_length
        valid = len(kernel_sizes) and min(kernel_sizes) >= 1 and pool_size >= 1
        if reason is not None or length is None or not valid:
            return reason  # bad options are the constructor's to report
        needed = stack_length(kernel_sizes, pool_size)
        if length >= needed:
            return None
        window = "data.pad_to" if spec.kind == "classification" else "data.sequence_length"
        kernels = fitting_kernels(kernel_sizes, pool_size, length)
        shorter = (
            f", or shorter kernels (e.g. model.kernel_sizes=[{','.join(map(str, kernels))}], "
            f"which read {stack_length(kernels, pool_size)} steps)"
            if kernels
            else ", or fewer layers or a smaller model.pool_size"
        )
        return (
            f"its kernels (model.kernel_sizes=[{','.join(map(str, kernel_sizes))}], "
            f"model.pool_size={pool_size}) read at least {needed} steps, and "
            f"data={spec.data_name}'s windows have {length}; set {window}={needed} or more"
            f"{shorter}"
        )

    def __init__(
        self,
        spec: TaskSpec,
        filters: Sequence[int] = (8, 8, 8),
        kernel_sizes: Sequence[int] = KERNEL_SIZES,
        pool_size: int = POOL_SIZE,
    ) -> None:
        super().__init__()
        self.check_options(filters=filters, kernel_sizes=kernel_sizes, pool_size=pool_size)
        layers: list[nn.Module] = []
        channels = spec.input_size
        for i, (width, kernel) in enumerate(zip(filters, kernel_sizes, strict=True)):
            if i:
                layers.append(nn.MaxPool1d(pool_size))
            layers += [nn.Conv1d(channels, width, kernel), nn.ReLU()]
            channels = width
        self.layers = nn.Sequential(*layers)
        self.min_length = stack_length(kernel_sizes, pool_size)
        self.output_size = channels

    def forward(self, inputs: NetInput) -> torch.Tensor:
        x = pad_to_length(inputs.x, self.min_length)
        return self.layers(x.transpose(1, 2)).mean(dim=2)


class ConvGRU(SequenceNet):
    """A strided Conv1D front end, then a GRU stack (the reference's Conv1D(32, 4, stride 2)+GRU).

    The convolution turns every ``kernel_size`` consecutive steps into one feature vector and,
    with ``stride`` 2, halves the sequence the GRU has to walk: cheaper, and the GRU's memory
    spans twice the time. A sequence shorter than one kernel (a few-word text) is padded to one.
    """

    @classmethod
    def check_options(cls, **options: Any) -> None:
        check_recurrent(options)

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
        impl: str = "fused",
    ) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(spec.input_size, filters, kernel_size, stride=stride), nn.ReLU()
        )
        self.min_length = kernel_size
        self.gru = Recurrent(
            replace(spec, input_size=filters),
            cell="gru",
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout,
            output_dropout=output_dropout,
            weight_drop=weight_drop,
            impl=impl,
        )
        self.output_size = self.gru.output_size

    def forward(self, inputs: NetInput) -> torch.Tensor:
        x = pad_to_length(inputs.x, self.min_length)
        return self.gru(NetInput(self.conv(x.transpose(1, 2)).transpose(1, 2)))


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
        if per_step and (steps := per_step_incompatibility(spec)) is not None:
            raise ConfigError(f"model.per_step=true: {steps}")  # the task checks this first
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

    def forward(self, inputs: NetInput) -> torch.Tensor:
        features = self.layers(inputs.x.transpose(1, 2)).transpose(1, 2)
        return features if self.per_step else features[:, -1]
