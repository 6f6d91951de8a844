"""Transformer encoder: self-attention over the whole window, for every task kind."""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from torch import nn

from seqlab.errors import ConfigError
from seqlab.nets.base import NetInput, SequenceNet
from seqlab.spec import TaskSpec

POSITIONS = ("sinusoidal", "learned")
POOLS = ("last", "mean", "max")


def sinusoids(length: int, width: int) -> torch.Tensor:
    """The fixed position codes of *Attention Is All You Need*: ``(length, width)``."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(1e4) / width))
    codes = torch.zeros(length, width)
    codes[:, 0::2] = torch.sin(position * rate)
    codes[:, 1::2] = torch.cos(position * rate[: width // 2])
    return codes


class Transformer(SequenceNet):
    """Input projection (or token embedding) + positions → pre-norm encoder layers → features.

    One class for the three task kinds, told apart by the spec, as the task reads them:

    - forecasting: every step attends to every other; the features are the last step's
      (``pool="last"``) or the steps' mean / max. ``patch`` steps can make one token (PatchTST):
      attention costs the square of the window's length, and Jena's 120 hourly steps as 20
      six-hour patches train many times faster. With ``per_step`` a causal mask makes the
      features of step ``t`` depend on steps ``<= t`` only, so every step can be scored.
    - classification: it reads ``NetInput.lengths``, so padded positions are masked out of
      attention and of the pooling; a text's features do not depend on the padding its batch
      gave it.
    - language modelling: a causal mask and features at every step, ``NetInput.state`` the
      context so far.
      There is no recurrent state to carry across batches (``carries_state = False``: the task
      scores every window on its own); the "state" is the last ``max_length - 1`` tokens, so that
      generation, one token at a time, sees the context a window would have.

    Token ids (language models) are embedded here; the classification task hands over its own
    embedding (``task.embedding_dim``, pretrained vectors) as real-valued steps.
    """

    input_kinds = frozenset({"real", "tokens"})
    task_kinds = frozenset({"forecasting", "classification", "language_model"})
    carries_state = False

    @classmethod
    def check_options(cls, **options: Any) -> None:
        if options.get("positions", "sinusoidal") not in POSITIONS:
            raise ConfigError(
                f"model.positions={options['positions']!r} is not a position encoding; "
                f"choose {' or '.join(POSITIONS)}"
            )
        if options.get("pool", "last") not in POOLS:
            raise ConfigError(
                f"model.pool={options['pool']!r} is not a pooling of the encoder's outputs; "
                f"choose {', '.join(POOLS)}"
            )
        d_model, heads = options.get("d_model", 64), options.get("num_heads", 4)
        if isinstance(d_model, int) and isinstance(heads, int) and heads > 0 and d_model % heads:
            raise ConfigError(
                f"model.d_model={d_model} does not split into model.num_heads={heads} heads; "
                "choose a d_model divisible by num_heads"
            )

    @classmethod
    def incompatibility(cls, spec: TaskSpec, **options: Any) -> str | None:
        reason = super().incompatibility(spec, **options)
        if reason is not None:
            return reason
        if options.get("patch", 1) > 1 and (spec.kind != "forecasting" or options.get("per_step")):
            return (
                "with model.patch > 1 it reads patches of steps, which only a forecaster "
                "without model.per_step scores; set model.patch=1"
            )
        longest = options.get("max_length", 1024)
        if (spec.sequence_length or 0) > longest:
            return (
                f"its positions reach {longest} steps and data={spec.data_name}'s windows have "
                f"{spec.sequence_length}; set model.max_length={spec.sequence_length}"
            )
        return None

    def __init__(
        self,
        spec: TaskSpec,
        d_model: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        feedforward: int = 128,
        dropout: float = 0.1,
        positions: Literal["sinusoidal", "learned"] = "sinusoidal",
        max_length: int = 1024,
        pool: Literal["last", "mean", "max"] = "last",
        per_step: bool = False,
        patch: int = 1,
    ) -> None:
        super().__init__()
        self.check_options(positions=positions, pool=pool, d_model=d_model, num_heads=num_heads)
        self.language_model = spec.kind == "language_model"
        self.per_step = per_step or self.language_model
        self.causal = self.per_step
        self.pool = pool
        self.max_length = max_length
        self.patch = patch
        if spec.input_kind == "tokens":
            self.inputs: nn.Module = nn.Embedding(spec.input_size, d_model)
        else:
            self.inputs = nn.Linear(spec.input_size * patch, d_model)
        if positions == "learned":
            # on the inputs' own scale (unit-variance embeddings, sinusoids of amplitude 1): a
            # table started near zero leaves attention blind to order for many epochs
            self.positions = nn.Parameter(torch.randn(max_length, d_model))
        else:
            self.register_buffer("positions", sinusoids(max_length, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            d_model, num_heads, feedforward, dropout, batch_first=True, norm_first=True
        )
        # pre-norm layers leave their sum un-normalised: one LayerNorm after the stack
        self.encoder = nn.TransformerEncoder(
            layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False
        )
        self.output_size = d_model

    def encode(self, x: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        """``(batch, time, d_model)`` features of every step; ``padding`` marks masked steps."""
        if self.patch > 1:  # the earliest steps that do not fill a patch are left out
            whole = x.shape[1] // self.patch * self.patch
            x = x[:, x.shape[1] - whole :].reshape(len(x), whole // self.patch, -1)
        steps = x.shape[1]
        if steps > self.max_length:
            raise ValueError(f"{steps} steps, but positions reach {self.max_length}")
        h = self.dropout(self.inputs(x) + self.positions[:steps])
        if not self.causal:
            return self.encoder(h, src_key_padding_mask=padding)
        mask = nn.Transformer.generate_square_subsequent_mask(steps, device=x.device)
        return self.encoder(h, mask=mask, src_key_padding_mask=padding, is_causal=True)

    def forward(self, inputs: NetInput) -> Any:
        """Forecasting / classification: features (padding past ``inputs.lengths`` masked out).
        Language modelling: (features at every step, the context so far as the state)."""
        x, lengths = inputs.x, inputs.lengths
        if self.language_model:
            return self._language_model(x, inputs.state)
        padding = None
        if lengths is not None and bool((lengths < x.shape[1]).any()):
            lengths = lengths.to(x.device).clamp(min=1)
            padding = torch.arange(x.shape[1], device=x.device) >= lengths[:, None]
        features = self.encode(x, padding)
        if self.per_step:
            return features
        if self.pool == "last":
            if padding is None:
                return features[:, -1]
            return features[torch.arange(len(x), device=x.device), lengths - 1]
        if padding is None:
            return features.mean(dim=1) if self.pool == "mean" else features.max(dim=1).values
        if self.pool == "mean":
            kept = (~padding)[..., None].to(features.dtype)
            return (features * kept).sum(dim=1) / kept.sum(dim=1)
        return features.masked_fill(padding[..., None], float("-inf")).max(dim=1).values

    def _language_model(
        self, tokens: torch.Tensor, context: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Features of ``tokens`` after ``context`` (earlier tokens, as generation feeds them)."""
        fresh = tokens.shape[1]
        seen = tokens if context is None else torch.cat([context, tokens], dim=1)
        seen = seen[:, -self.max_length :]
        features = self.encode(seen)[:, -fresh:]
        return features, seen[:, -(self.max_length - 1) :]
