"""Character-level language model: embedding → LSTM / GRU stack, features at every step."""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

from seqlab.nets.base import NetInput, SequenceNet
from seqlab.nets.recurrent import check_recurrent, recurrent_stack
from seqlab.nets.regularization import SequenceDropout, drop_hidden_weights
from seqlab.spec import TaskSpec

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None
# cells whose state the language-model task carries and steps
LM_CELLS = ("lstm", "gru", "peephole_lstm")


class CharLM(SequenceNet):
    """``forward(tokens, state) -> (features, state)`` with features for every step.

    The state goes in and out so the task can carry it across consecutive batches (truncated
    BPTT) and step through generation one token at a time. ``dropout`` acts on the embeddings,
    between stacked layers and on the output features (the same rate at all three places);
    ``variational=True`` draws the embeddings' and features' masks once per sequence
    (`SequenceDropout`) instead of at every step; ``weight_drop`` is DropConnect on the
    hidden-to-hidden weights (AWD-LSTM's recurrent regularisation, which keeps the fused kernel).
    """

    input_kinds = frozenset({"tokens"})
    task_kinds = frozenset({"language_model"})

    @classmethod
    def check_options(cls, **options: Any) -> None:
        check_recurrent(options, LM_CELLS)

    def __init__(
        self,
        spec: TaskSpec,
        cell: Literal["lstm", "gru", "peephole_lstm"] = "lstm",
        embedding_dim: int = 256,
        hidden_size: int = 512,
        num_layers: int = 1,
        dropout: float = 0.0,
        variational: bool = False,
        weight_drop: float = 0.0,
        impl: Literal["fused", "scratch"] = "fused",
    ) -> None:
        super().__init__()
        self.check_options(cell=cell, impl=impl)
        self.embedding = nn.Embedding(spec.input_size, embedding_dim)
        self.rnn = recurrent_stack(cell, embedding_dim, hidden_size, num_layers, dropout, impl=impl)
        drop_hidden_weights(self.rnn, weight_drop)
        self.dropout = SequenceDropout(dropout) if variational else nn.Dropout(dropout)
        self.output_size = hidden_size

    def forward(self, inputs: NetInput) -> tuple[torch.Tensor, State]:
        features, state = self.rnn(self.dropout(self.embedding(inputs.x)), inputs.state)
        return self.dropout(features), state
