"""Recurrent stacks (simple RNN, LSTM, GRU) on PyTorch's fused kernels."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from seqlab.data.spec import TaskSpec
from seqlab.nets.base import SequenceNet
from seqlab.nets.regularization import drop_hidden_weights

CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class Recurrent(SequenceNet):
    """A stack of ``num_layers`` recurrent layers; the features are the final hidden state.

    ``dropout`` acts between stacked layers, ``output_dropout`` on the features handed to the head
    (the reference's ``Dropout(0.5)`` after the last GRU). ``weight_drop`` is DropConnect on
    the hidden-to-hidden weights, the fused-kernel counterpart of Keras' ``recurrent_dropout``
    (see ``nets/regularization.py``). For a bidirectional stack the features are the forward and
    backward final states side by side.
    """

    def __init__(
        self,
        spec: TaskSpec,
        cell: Literal["rnn", "lstm", "gru"] = "lstm",
        hidden_size: int = 32,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        output_dropout: float = 0.0,
        weight_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.cell = cell
        self.rnn = CELLS[cell](
            spec.input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        if weight_drop:
            drop_hidden_weights(self.rnn, weight_drop)
        self.output_dropout = nn.Dropout(output_dropout)
        self.output_size = hidden_size * (2 if bidirectional else 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``lengths`` (batch,): true lengths of right-padded sequences. They are packed, so
        padding never reaches the state and the features are each sequence's own final state."""
        if lengths is not None:
            x = nn.utils.rnn.pack_padded_sequence(
                x, lengths.cpu(), batch_first=True, enforce_sorted=False
            )
        _, state = self.rnn(x)
        hidden = state[0] if self.cell == "lstm" else state
        directions = 2 if self.rnn.bidirectional else 1
        features = torch.cat(list(hidden[-directions:]), dim=-1)
        return self.output_dropout(features)
