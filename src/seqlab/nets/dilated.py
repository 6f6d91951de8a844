"""Causal dilated Conv1D stack (WaveNet style) under an LSTM: the reference chorale model."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from seqlab.nets.base import NetInput, SequenceNet
from seqlab.nets.recurrent import check_recurrent, recurrent_stack
from seqlab.spec import TaskSpec

State = tuple[list[torch.Tensor], tuple[torch.Tensor, torch.Tensor] | None] | None


class DilatedConvLSTM(SequenceNet):
    """Embedding → causal Conv1D + ReLU + batch norm blocks (dilations 1, 2, 4, …) → LSTM.

    The defaults are the reference's Bach model: Embedding(47, 5), Conv1D 32/48/64/96 filters of
    kernel 2 with dilation 1/2/4/8, LSTM(256) over every step. Each convolution keeps the last
    ``(kernel - 1) * dilation`` inputs it saw as state (zeros at the start: the causal padding),
    so a sequence fed in pieces, or one token at a time while generating, gives the same features
    as the whole sequence at once.
    """

    input_kinds = frozenset({"tokens"})
    task_kinds = frozenset({"language_model"})

    @classmethod
    def check_options(cls, **options: Any) -> None:
        check_recurrent(options)

    def __init__(
        self,
        spec: TaskSpec,
        embedding_dim: int = 5,
        filters: tuple[int, ...] = (32, 48, 64, 96),
        kernel_size: int = 2,
        hidden_size: int = 256,
        num_layers: int = 1,
        dropout: float = 0.0,
        impl: str = "fused",
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(spec.input_size, embedding_dim)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        channels = embedding_dim
        for i, width in enumerate(filters):
            self.convs.append(nn.Conv1d(channels, width, kernel_size, dilation=2**i))
            self.norms.append(nn.BatchNorm1d(width))
            channels = width
        self.lstm = recurrent_stack("lstm", channels, hidden_size, num_layers, dropout, impl=impl)
        self.dropout = nn.Dropout(dropout)
        self.output_size = hidden_size

    def forward(self, inputs: NetInput) -> tuple[torch.Tensor, State]:
        x = self.embedding(inputs.x).transpose(1, 2)  # (batch, channels, time)
        state = inputs.state
        buffers, lstm_state = state if state is not None else (None, None)
        kept = []
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            past = (conv.kernel_size[0] - 1) * conv.dilation[0]
            x = F.pad(x, (past, 0)) if buffers is None else torch.cat([buffers[i], x], dim=2)
            kept.append(x[:, :, x.shape[2] - past :])
            x = norm(F.relu(conv(x)))
        features, lstm_state = self.lstm(self.dropout(x.transpose(1, 2)), lstm_state)
        return self.dropout(features), (kept, lstm_state)
