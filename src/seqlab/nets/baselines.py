"""Common-sense forecasters: the numbers every learned model must beat."""

from __future__ import annotations

from typing import Any

import torch

from seqlab.nets.base import NetInput, SequenceNet
from seqlab.spec import TaskSpec


class Naive(SequenceNet):
    """Forecasts that each target repeats its value one season (``lag`` steps) earlier.

    ``lag=1`` is the last observed value for every target ("temperature in 24 h = temperature
    now"); ``lag=7`` on daily data is the seasonal naive forecast: each future day gets the value
    of the latest observed day of the same weekday. Inputs and targets share their scaling,
    so the copied value is already in target space. It has no parameters and is never trained.
    """

    task_kinds = frozenset({"forecasting"})
    predicts_targets = True

    def __init__(self, spec: TaskSpec, lag: int = 1) -> None:
        super().__init__()
        self.target_index = list(spec.target_index)
        # step j ahead of the last input (j = lead … lead + horizon - 1) copies the input
        # ceil(j / lag) seasons back: row -1 + j - ceil(j / lag) * lag from the window's end
        ahead = range(spec.lead, spec.lead + spec.horizon)
        self.rows = [-1 + j - -(-j // lag) * lag for j in ahead]
        self.output_size = spec.output_size

    @classmethod
    def incompatibility(cls, spec: TaskSpec, **options: Any) -> str | None:
        reason = super().incompatibility(spec, **options)
        if reason is None and not spec.target_index:
            reason = "it copies past target values, and this data set's inputs do not hold them"
        return reason

    def forward(self, inputs: NetInput) -> torch.Tensor:
        return inputs.x[:, self.rows][:, :, self.target_index].flatten(1)


class Majority(SequenceNet):
    """The class most frequent among the training labels, whatever the text: the floor every
    classifier must clear (50 % on IMDB's balanced test set).

    Its value, a logit of +1 or -1 toward that class (with more than two classes: +1 for it, -1
    for each other), is set from the training labels by the task (`fit_labels`), not by
    gradient steps: it has no parameters and is never trained. A tie goes to the first class.
    """

    task_kinds = frozenset({"classification"})
    input_kinds = frozenset({"tokens", "bag"})
    predicts_targets = True

    def __init__(self, spec: TaskSpec) -> None:
        super().__init__()
        shape = (spec.output_size,) if spec.output_size > 1 else ()
        self.register_buffer("logit", torch.full(shape, -1.0))
        self.output_size = spec.output_size

    def fit_labels(self, labels: torch.Tensor) -> None:
        """Point the logit(s) at the majority of ``labels`` (class numbers)."""
        if self.output_size == 1:
            self.logit.fill_(1.0 if labels.float().mean() > 0.5 else -1.0)
            return
        counts = torch.bincount(labels, minlength=self.output_size)
        self.logit.fill_(-1.0)
        self.logit[int(counts.argmax())] = 1.0

    def forward(self, inputs: NetInput) -> torch.Tensor:
        return self.logit.expand(len(inputs.x), self.output_size)
