"""Sequence-to-sequence forecasting: a recurrent stack with a head at every time step."""

from __future__ import annotations

from typing import Any

import torch

from seqlab.errors import ConfigError
from seqlab.nets.base import NetInput
from seqlab.nets.recurrent import Recurrent
from seqlab.spec import TaskSpec


class Seq2Seq(Recurrent):
    """The recurrent stack's output at every step; the task's head forecasts ``horizon`` values
    from each of them (Keras' ``return_sequences=True`` then ``Dense(14)``).

    Every step gets a loss, so the gradient reaches the early steps directly instead of only
    through the last state: more signal per window, steadier training. The window's own series
    supplies the targets of the earlier steps, so the targets must continue the inputs.
    """

    per_step = True

    @classmethod
    def check_options(cls, **options: Any) -> None:
        if options.get("bidirectional"):
            raise ConfigError(
                "model.bidirectional=true: a seq2seq forecaster reads forwards, its steps may not "
                "see ahead; set model.bidirectional=false"
            )
        super().check_options(**options)

    def __init__(self, spec: TaskSpec, **recurrent: Any) -> None:
        self.check_options(**recurrent)
        super().__init__(spec, **recurrent)

    def forward(self, inputs: NetInput) -> torch.Tensor:
        """Features at every step (lengths are not read: every step is scored, windows of one
        length have no padding)."""
        outputs, _ = self.rnn(inputs.x)
        return self.output_dropout(outputs)
