"""Common-sense forecasters: the numbers every learned model must beat."""

from __future__ import annotations

import torch

from seqlab.data.spec import TaskSpec
from seqlab.nets.base import SequenceNet


class Naive(SequenceNet):
    """Forecasts that the target repeats the value it had ``lag`` steps before the window's end.

    ``lag=1`` is the last observed value ("temperature in 24 h = temperature now"); ``lag=7`` on
    daily data is the seasonal naive forecast. Inputs and targets share their standardisation,
    so the copied value is already in target space. It has no parameters and is never trained.
    """

    task_kinds = frozenset({"forecasting"})
    predicts_targets = True

    def __init__(self, spec: TaskSpec, lag: int = 1) -> None:
        super().__init__()
        self.target_index = list(spec.target_index)
        self.horizon = spec.horizon
        self.lag = lag
        self.output_size = spec.output_size

    @classmethod
    def incompatibility(cls, spec: TaskSpec) -> str | None:
        reason = super().incompatibility(spec)
        if reason is None and not spec.target_index:
            reason = "it copies past target values, and this data set's inputs do not hold them"
        return reason

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = x[:, -self.lag, self.target_index]
        return last.repeat(1, self.horizon)
