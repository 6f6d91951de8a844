"""Recurrent cells written from the lecture decks' equations, and one loop that unrolls any of them.

``model.impl=scratch`` builds every recurrent layer from these instead of PyTorch's fused kernels
(nn.RNN / nn.LSTM / nn.GRU), so the theory can be read, changed and watched in the code: every
hidden state ``h_t`` is a tensor of its own (`seqlab.run.gradflow` reads their gradients). A
`ScratchStack` has the fused layers' parameter names, shapes, initialisation and ``forward``
signature, so a checkpoint of one loads into the other and the nets that hold a stack do not know
which they got. The fused kernels are much faster (``benchmarks/README.md``); these are for
learning and for cells the kernels do not offer (``peephole_lstm``).

Every cell's gates have the decks' form ``σ(W x_t + U h_{t-1} + b)`` (deck 004, "Types of gates").
The input term ``W x_t + b`` does not depend on the state, so the loop computes it for all steps
in one matrix product before unrolling, and a cell receives it as ``wx``; only ``U h_{t-1}`` is
computed step by step. The gates are stacked in PyTorch's order, so that a fused layer's weights
give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from seqlab.nets.regularization import flat_weights

State = tuple[Tensor, ...]  # (h,) or (h, c), each (batch, hidden)


class Hidden(NamedTuple):
    """A layer's hidden-to-hidden weights ``U`` (stacked gates × hidden), their bias, and the
    peephole vectors (LSTM with peepholes only)."""

    weight: Tensor
    bias: Tensor
    peephole: Tensor | None = None


def rnn_step(wx: Tensor, state: State, u: Hidden) -> State:
    """Simple RNN (deck 000: ``S_t = activation(W X_t + U S_{t-1})``; deck 003: tanh, as Keras'
    SimpleRNN): ``h_t = tanh(W x_t + U h_{t-1} + b)``."""
    (h,) = state
    return (torch.tanh(wx + F.linear(h, u.weight, u.bias)),)


def gru_step(wx: Tensor, state: State, u: Hidden) -> State:
    """GRU (deck 001: reset gate ``r``, update gate ``z``, candidate ``h~``; Cho et al. 2014).

    Two details follow PyTorch's kernel (and Keras' default ``reset_after=True``) rather than the
    deck: ``r`` scales ``U h_{t-1}`` after the product, not ``h_{t-1}`` before it, and ``z`` is
    the share of the old state kept, where the deck's ``z`` weighs the new candidate.
    """
    (h,) = state
    x_r, x_z, x_n = wx.chunk(3, dim=-1)
    h_r, h_z, h_n = F.linear(h, u.weight, u.bias).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    candidate = torch.tanh(x_n + r * h_n)
    return ((1 - z) * candidate + z * h,)


def lstm_step(wx: Tensor, state: State, u: Hidden) -> State:
    """LSTM (deck 001, Hochreiter & Schmidhuber 1997; deck 003: ``h`` the short-term state,
    ``c`` the long-term one): input (update) gate ``i``, forget gate ``f``, output gate ``o`` and
    candidate ``g``; ``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)``. The sum in ``c_t``
    is the "conveyor belt" (deck 000) along which gradients pass without being squashed."""
    h, c = state
    i, f, g, o = (wx + F.linear(h, u.weight, u.bias)).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def peephole_lstm_step(wx: Tensor, state: State, u: Hidden) -> State:
    """LSTM with peepholes (Gers & Schmidhuber 2000): deck 001's LSTM whose gates also look at
    the long-term state, the input and forget gates at ``c_{t-1}``, the output gate at ``c_t``,
    each through a vector of per-unit weights ``p`` (no fused kernel offers it)."""
    h, c = state
    p_i, p_f, p_o = u.peephole
    i, f, g, o = (wx + F.linear(h, u.weight, u.bias)).chunk(4, dim=-1)
    c = torch.sigmoid(f + p_f * c) * c + torch.sigmoid(i + p_i * c) * torch.tanh(g)
    return torch.sigmoid(o + p_o * c) * torch.tanh(c), c


@dataclass(frozen=True)
class Cell:
    """A cell's equations and what its weights look like: how many gate blocks ``W`` and ``U``
    stack, how many state tensors it carries, whether it has peephole vectors."""

    step: Callable[[Tensor, State, Hidden], State]
    gates: int
    states: int = 1
    peepholes: bool = False


CELLS: dict[str, Cell] = {
    "rnn": Cell(rnn_step, gates=1),
    "gru": Cell(gru_step, gates=3),
    "lstm": Cell(lstm_step, gates=4, states=2),
    "peephole_lstm": Cell(peephole_lstm_step, gates=4, states=2, peepholes=True),
}


def unroll(
    cell: Cell,
    wx: Tensor,
    state: State,
    hidden: Hidden,
    lengths: Tensor | None = None,
    record: list[Tensor] | None = None,
) -> tuple[Tensor, State]:
    """Run ``cell`` over the steps of ``wx`` (batch, time, gates × hidden: the input terms)
    from ``state``; the outputs ``h_t`` of every step (batch, time, hidden) and the last state.

    ``lengths`` (batch,): true lengths of right-padded sequences. A sequence's state stops
    changing after its last true step, so the last state is each sequence's own, as the fused
    path reads it. ``record``: a list that receives every step's ``h_t``, kept with its gradient
    after backward (how much step ``t`` still influences the loss).
    """
    outputs = []
    for t in range(wx.size(1)):
        new = cell.step(wx[:, t], state, hidden)
        if lengths is not None:
            alive = (t < lengths)[:, None]
            new = tuple(torch.where(alive, n, s) for n, s in zip(new, state, strict=True))
        state = new
        if record is not None:
            state[0].retain_grad()
            record.append(state[0])
        outputs.append(state[0])
    return torch.stack(outputs, dim=1), state


def reversal(lengths: Tensor, steps: int) -> Tensor:
    """Indices (batch, steps) that reverse each right-padded sequence within its true length and
    leave its padding where it is: read backwards, a sequence starts at its true end and its
    padding trails, as a forward reading's does. Applying them twice restores the order."""
    positions = torch.arange(steps, device=lengths.device)
    last = (lengths - 1).clamp(min=0)
    return torch.where(positions < lengths[:, None], last[:, None] - positions, positions)


def reverse(x: Tensor, lengths: Tensor | None) -> Tensor:
    """``x`` (batch, time, ...) in reading order of the backward direction (`reversal`)."""
    if lengths is None:
        return x.flip(1)
    rows = torch.arange(x.size(0), device=x.device)[:, None]
    return x[rows, reversal(lengths, x.size(1))]


class ScratchStack(nn.Module):
    """A batch-first stack of ``num_layers`` cells unrolled by `unroll`, a drop-in for the fused
    ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``: the same parameters (``weight_ih_l0``, ...,
    ``_reverse`` for the backward direction) initialised alike, the same state layout
    ``(layers × directions, batch, hidden)`` (a pair ``(h, c)`` for LSTMs), ``dropout`` between
    layers, DropConnect through `flat_weights`. ``forward`` also takes ``lengths``.

    Setting ``record`` to a list makes the next forward pass append, per layer and direction,
    its name, every step's ``h_t`` in reading order and the lengths (`seqlab.run.gradflow`).
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.cell_name, self.cell = cell, CELLS[cell]
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.dropout, self.bidirectional = dropout, bidirectional
        self.record: list[tuple[str, list[Tensor], Tensor | None]] | None = None
        self.suffixes = ("", "_reverse") if bidirectional else ("",)
        gates = self.cell.gates * hidden_size
        self._flat_weights_names: list[str] = []
        peepholes = []
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * len(self.suffixes)
            for suffix in self.suffixes:
                shapes = {"weight_ih": (gates, width), "weight_hh": (gates, hidden_size)}
                shapes |= {"bias_ih": (gates,), "bias_hh": (gates,)}
                for kind, shape in shapes.items():
                    self._add(f"{kind}_l{layer}{suffix}", shape)
                peepholes.append(f"peephole_l{layer}{suffix}")
        if self.cell.peepholes:  # last, so the other weights start as a fused LSTM's would
            for name in peepholes:
                self._add(name, (3, hidden_size))
        bound = hidden_size**-0.5  # PyTorch's recurrent initialisation, in its order
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def _add(self, name: str, shape: tuple[int, ...]) -> None:
        self.register_parameter(name, nn.Parameter(torch.empty(shape)))
        self._flat_weights_names.append(name)

    def forward(
        self,
        x: Tensor,
        state: Tensor | tuple[Tensor, Tensor] | None = None,
        lengths: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
        """``x`` (batch, time, features) → outputs of the top layer at every step
        (batch, time, directions × hidden) and the final state, as the fused layers return them.
        With ``lengths`` the backward direction reads each sequence from its true end, and the
        final states are those after each sequence's true steps."""
        weights = flat_weights(self)
        if state is None:
            zeros = x.new_zeros(self.num_layers * len(self.suffixes), len(x), self.hidden_size)
            state = (zeros,) * self.cell.states
        states = state if isinstance(state, tuple) else (state,)
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self.suffixes):
                name = f"_l{layer}{suffix}"
                hidden = Hidden(
                    weights[f"weight_hh{name}"],
                    weights[f"bias_hh{name}"],
                    weights.get(f"peephole{name}"),
                )
                read = x if not suffix else reverse(x, lengths)
                wx = F.linear(read, weights[f"weight_ih{name}"], weights[f"bias_ih{name}"])
                index = layer * len(self.suffixes) + direction
                record = None if self.record is None else []
                out, last = unroll(
                    self.cell, wx, tuple(s[index] for s in states), hidden, lengths, record
                )
                if record is not None:
                    self.record.append((name[1:], record, lengths))
                outputs.append(out if not suffix else reverse(out, lengths))
                finals.append(last)
            x = torch.cat(outputs, dim=-1)
            if layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, self.training)
        final = tuple(torch.stack(parts) for parts in zip(*finals, strict=True))
        return x, final if self.cell.states == 2 else final[0]
