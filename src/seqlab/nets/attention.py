"""Attention of a decoder over an encoder's outputs: Bahdanau's additive or Luong's dot score."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from seqlab.errors import ConfigError

ATTENTION = ("none", "additive", "dot")
Score = Literal["additive", "dot"]


def check_attention(value: str) -> None:
    """Refuse an unknown ``model.attention`` naming the choices."""
    if value not in ATTENTION:
        raise ConfigError(
            f"model.attention={value!r} is not an attention; choose {', '.join(ATTENTION)} "
            "(additive: Bahdanau's score, dot: Luong's)"
        )


class Attention(nn.Module):
    """Weights over the encoder's steps for one decoder output, and the context they average.

    ``additive`` scores ``v · tanh(W_q q + W_k m)`` (Bahdanau et al. 2015), ``dot`` scores
    ``q · m / sqrt(size)`` (Luong et al. 2015, scaled). Either way the decoder's output and its
    context make the attentional state ``tanh(W_c [q; c])`` that the forecast is read from
    (Luong's placement: the recurrence itself is unchanged).
    """

    def __init__(self, score: Score, size: int) -> None:
        super().__init__()
        self.score = score
        if score == "additive":
            self.query = nn.Linear(size, size, bias=False)
            self.key = nn.Linear(size, size)
            self.energy = nn.Linear(size, 1, bias=False)
        self.combine = nn.Linear(2 * size, size)

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        """What the scores compare a query with, computed once per window."""
        return self.key(memory) if self.score == "additive" else memory

    def forward(
        self, query: torch.Tensor, memory: torch.Tensor, keys: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``query`` (batch, 1, size), ``memory`` and ``keys`` (batch, steps, size) → the
        attentional state (batch, 1, size) and the weights (batch, steps), which sum to 1."""
        if self.score == "additive":
            scores = self.energy(torch.tanh(self.query(query) + keys)).squeeze(-1)
        else:
            scores = (keys @ query.transpose(1, 2)).squeeze(-1) / math.sqrt(query.shape[-1])
        weights = torch.softmax(scores, dim=-1)
        context = weights[:, None] @ memory
        return torch.tanh(self.combine(torch.cat([query, context], dim=-1))), weights
