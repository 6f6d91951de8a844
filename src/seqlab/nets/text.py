"""Text architectures: the bag-of-words MLP and the reference's text CNN."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from seqlab.nets.base import NetInput, SequenceNet
from seqlab.spec import TaskSpec


class BagOfWords(SequenceNet):
    """Dense layers over one bag-of-n-grams vector per text (multi-hot, counts or TF-IDF).

    The reference's model: Dense(16, relu) → Dropout(0.5) → head. Word order is gone, so it is
    cheap; with bigrams it is the number every sequence model has to beat.
    """

    input_kinds = frozenset({"bag"})
    task_kinds = frozenset({"classification"})

    @classmethod
    def incompatibility(cls, spec: TaskSpec, **options: Any) -> str | None:
        reason = super().incompatibility(spec, **options)
        if reason is not None and spec.kind in cls.task_kinds and spec.input_kind == "tokens":
            reason = (
                f"it reads one bag-of-words vector per text, and data={spec.data_name} yields word "
                "sequences; set data.output_mode=multi_hot (or count, tf_idf)"
            )
        return reason

    def __init__(
        self, spec: TaskSpec, units: tuple[int, ...] = (16,), dropout: float = 0.5
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = spec.input_size
        for size in units:
            linear = nn.Linear(width, size)
            # Keras' glorot-uniform and zero bias: PyTorch's default bound, 1/sqrt(20,000), is
            # 2.4x narrower, and from it the unigram model ends 0.6-1.0 points of accuracy lower
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)
            layers += [linear, nn.ReLU(), nn.Dropout(dropout)]
            width = size
        self.layers = nn.Sequential(*layers)
        self.output_size = width

    def forward(self, inputs: NetInput) -> torch.Tensor:
        return self.layers(inputs.x)


class TextCNN(SequenceNet):
    """Conv1D over word vectors, global max pooling over time, then a dense layer.

    The reference's sentiment CNN: Conv1D(250, 3, relu) → GlobalMaxPooling1D → Dense(250) →
    Dropout(0.2) → relu. With ``lengths`` the windows that lie in padding are left out of the max.
    """

    def __init__(
        self,
        spec: TaskSpec,
        filters: int = 250,
        kernel_size: int = 3,
        units: int = 250,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.conv = nn.Conv1d(spec.input_size, filters, kernel_size)
        self.dense = nn.Sequential(nn.Linear(filters, units), nn.Dropout(dropout), nn.ReLU())
        self.output_size = units

    def forward(self, inputs: NetInput) -> torch.Tensor:
        x, lengths = inputs.x, inputs.lengths
        short = self.kernel_size - x.shape[1]
        if short > 0:  # a text shorter than one window: pad it to one
            x = nn.functional.pad(x, (0, 0, 0, short))
        maps = torch.relu(self.conv(x.transpose(1, 2)))
        if lengths is not None:
            windows = (lengths - self.kernel_size + 1).clamp(min=1).to(maps.device)
            valid = torch.arange(maps.shape[2], device=maps.device) < windows[:, None]
            maps = maps.masked_fill(~valid[:, None, :], 0.0)  # relu outputs are >= 0
        return self.dense(maps.amax(dim=2))
