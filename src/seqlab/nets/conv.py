"""1-D convolution stack with pooling: the reference's temporal convnet."""

from __future__ import annotations

import torch
from torch import nn

from seqlab.data.spec import TaskSpec
from seqlab.nets.base import SequenceNet


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
