"""Densely connected nets over the flattened window: the references' first learned models."""

from __future__ import annotations

import torch
from torch import nn

from seqlab.nets.base import NetInput, SequenceNet
from seqlab.spec import TaskSpec


class Dense(SequenceNet):
    """Flatten the window, then ``units`` ReLU units (Flatten → Dense(16) in the reference)."""

    fixed_length = True

    def __init__(self, spec: TaskSpec, units: int = 16, dropout: float = 0.0) -> None:
        super().__init__()
        if spec.sequence_length is None:  # the task checks `incompatibility` first
            raise ValueError("Dense needs fixed-length windows (spec.sequence_length)")
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(spec.sequence_length * spec.input_size, units),
            nn.ReLU(),
            nn.Dropout(dropout),
        )
        self.output_size = units

    def forward(self, inputs: NetInput) -> torch.Tensor:
        return self.layers(inputs.x)


class Linear(SequenceNet):
    """The flattened window itself: with the task's linear head, a linear autoregressive model
    (the reference's ``Dense(1, input_shape=[56])``)."""

    fixed_length = True

    def __init__(self, spec: TaskSpec) -> None:
        super().__init__()
        if spec.sequence_length is None:  # the task checks `incompatibility` first
            raise ValueError("Linear needs fixed-length windows (spec.sequence_length)")
        self.flatten = nn.Flatten()
        self.output_size = spec.sequence_length * spec.input_size

    def forward(self, inputs: NetInput) -> torch.Tensor:
        return self.flatten(inputs.x)
