"""Encoder–decoder forecaster: summarise the history, then unroll a decoder over the horizon."""

from __future__ import annotations

import random
from typing import Any, Literal

import torch
from torch import nn

from seqlab.nets.attention import Attention, check_attention
from seqlab.nets.base import NetInput, SequenceNet
from seqlab.nets.recurrent import ALL_CELLS, check_recurrent, recurrent_stack
from seqlab.nets.regularization import drop_hidden_weights
from seqlab.spec import TaskSpec


class EncoderDecoder(SequenceNet):
    """An encoder RNN reads the window; its final state starts a decoder RNN that emits one
    horizon step at a time.

    The decoder's input at step ``k`` is the target value(s) of step ``k - 1`` (the window's last
    observed value for the first step) and the known future covariates of step ``k`` (day type,
    calendar), when the data set has them. In training the previous value is the truth with
    probability ``teacher_forcing × teacher_decay^epoch`` (scheduled sampling: the decoder
    gradually learns to live on its own forecasts); in evaluation it is always its own forecast.

    With ``attention`` (``additive`` or ``dot``, see `Attention`) every decoder step also looks
    back at all the encoder's outputs instead of only its final state; the weights of the last
    forward pass are kept for a heat map (`attention_map`).
    """

    task_kinds = frozenset({"forecasting"})
    predicts_targets = True

    @classmethod
    def incompatibility(cls, spec: TaskSpec, **options: Any) -> str | None:
        reason = super().incompatibility(spec, **options)
        if reason is None and not spec.target_index:
            reason = "its decoder starts from the last observed target, not among the inputs"
        return reason

    @classmethod
    def check_options(cls, **options: Any) -> None:
        check_recurrent(options, ALL_CELLS)
        if "attention" in options:
            check_attention(options["attention"])

    def __init__(
        self,
        spec: TaskSpec,
        cell: Literal["rnn", "lstm", "gru", "peephole_lstm"] = "gru",
        hidden_size: int = 32,
        num_layers: int = 1,
        dropout: float = 0.0,
        weight_drop: float = 0.0,
        teacher_forcing: float = 1.0,
        teacher_decay: float = 0.95,
        impl: Literal["fused", "scratch"] = "fused",
        attention: Literal["none", "additive", "dot"] = "none",
    ) -> None:
        super().__init__()
        self.check_options(cell=cell, impl=impl, attention=attention)
        self.target_index = list(spec.target_index)
        self.width = len(spec.target_index)
        self.horizon = spec.horizon
        self.teacher_forcing, self.teacher_decay = teacher_forcing, teacher_decay
        stack = (hidden_size, num_layers, dropout, False, impl)
        self.encoder = recurrent_stack(cell, spec.input_size, *stack)
        self.decoder = recurrent_stack(cell, self.width + spec.covariates, *stack)
        for rnn in (self.encoder, self.decoder):
            drop_hidden_weights(rnn, weight_drop)
        self.project = nn.Linear(hidden_size, self.width)
        # built last and only when asked for: without it, the weights start as they always did
        self.attention = None if attention == "none" else Attention(attention, hidden_size)
        self.weights: torch.Tensor | None = None
        self.output_size = spec.output_size

    def teacher_ratio(self, epoch: int) -> float:
        """Probability of feeding the decoder the true previous value, at training ``epoch``."""
        return self.teacher_forcing * self.teacher_decay**epoch

    def forward(self, inputs: NetInput) -> torch.Tensor:
        """The forecast of every horizon step; ``inputs.future`` (known covariates of each target
        step) join each decoder step's input, ``inputs.teacher`` (training targets) replace
        its previous forecast with probability `teacher_ratio` of ``inputs.epoch``."""
        x, future, teacher = inputs.x, inputs.future, inputs.teacher
        memory, state = self.encoder(x)
        keys = None if self.attention is None else self.attention.keys(memory)
        weights = []
        previous = x[:, -1:, self.target_index]
        truth = None if teacher is None else teacher.view(len(x), self.horizon, self.width)
        ratio = self.teacher_ratio(inputs.epoch)
        outputs = []
        for step in range(self.horizon):
            known = [] if future is None else [future[:, step : step + 1]]
            output, state = self.decoder(torch.cat([previous, *known], dim=-1), state)
            if self.attention is not None:
                output, step_weights = self.attention(output, memory, keys)
                weights.append(step_weights)
            forecast = self.project(output)
            outputs.append(forecast)
            use_truth = truth is not None and random.random() < ratio
            previous = truth[:, step : step + 1] if use_truth else forecast
        if weights:
            self.weights = torch.stack(weights, dim=1).detach()
        return torch.cat(outputs, dim=1).flatten(1)

    def attention_map(self) -> torch.Tensor | None:
        return self.weights
