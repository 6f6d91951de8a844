"""Recurrent regularisation that keeps the fused kernels: DropConnect on recurrent weights, and
dropout with one mask per sequence.

Keras' ``recurrent_dropout`` drops units of the hidden state at every step, which forces a
step-by-step Python loop (no cuDNN, no fused CPU kernel). Dropping *weights* instead — one mask
on the hidden-to-hidden matrices per forward pass, as in AWD-LSTM's weight drop — regularises
the recurrence the same way, yet the whole sequence still runs through one fused kernel call.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from seqlab.errors import ConfigError


def drop_hidden_weights(rnn: nn.Module, p: float) -> None:
    """Make ``rnn`` run with DropConnect rate ``p`` on its hidden-to-hidden weights in training.

    A forward pre-hook hands the fused kernel (which reads ``rnn._flat_weights``) dropped copies
    of the ``weight_hh_*`` matrices; a forward hook hands it the parameters back. The parameters,
    their names and the state dict stay as they are, and evaluation uses the full weights. A
    stack of scratch cells (`seqlab.nets.cells.ScratchStack`) reads `flat_weights` itself.
    """
    if not 0.0 <= p < 1.0:
        raise ConfigError(f"model.weight_drop={p} must lie in [0, 1) (0: no DropConnect)")
    rnn.weight_drop = p
    if not p or not isinstance(rnn, nn.RNNBase):
        return  # rate 0 adds no hooks; scratch stacks read the rate in `flat_weights`

    def before(module: nn.RNNBase, _: Any) -> None:
        module._flat_weights = list(flat_weights(module).values())

    def after(module: nn.RNNBase, _: Any, __: Any) -> None:
        module._flat_weights = [getattr(module, name) for name in module._flat_weights_names]

    rnn.register_forward_pre_hook(before)
    rnn.register_forward_hook(after)


def flat_weights(rnn: nn.Module) -> dict[str, Tensor]:
    """The weights a forward pass of ``rnn`` uses now, by name: in training, with DropConnect
    (`drop_hidden_weights`) on the hidden-to-hidden matrices; otherwise the parameters."""
    p = getattr(rnn, "weight_drop", 0.0) if rnn.training else 0.0
    return {
        name: F.dropout(w, p, True) if p and name.startswith("weight_hh") else w
        for name in rnn._flat_weights_names
        for w in [getattr(rnn, name)]
    }


class SequenceDropout(nn.Module):
    """Dropout whose mask is drawn once per sequence and feature, the same at every step.

    Gal & Ghahramani's variational dropout (AWD-LSTM's locked dropout) on ``(batch, steps,
    features)``: a unit is either present for the whole sequence or absent from it, which
    regularises a recurrent stack better than a fresh mask per step, and draws ``steps`` times
    fewer random numbers (on the CPU, the per-step masks took 15 % of a Verne training step,
    profiled on one thread).
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ConfigError(f"model.dropout={p} must lie in [0, 1)")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or not self.p:
            return x
        keep = torch.empty(x.size(0), 1, x.size(2), dtype=x.dtype, device=x.device)
        return x * keep.bernoulli_(1.0 - self.p).div_(1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"
