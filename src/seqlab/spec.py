"""The task spec: what a DataModule's samples are, so any architecture can meet any data set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TaskKind = Literal["forecasting", "classification", "language_model"]
InputKind = Literal["real", "tokens", "bag"]  # bag: one vector per text (bag of n-grams)
IGNORE = -100  # target of a padding position: no loss, no accuracy (cross_entropy's default)


@dataclass(frozen=True)
class TaskSpec:
    """Published by a DataModule after ``setup``; consumed by the task LightningModule.

    Forecasting targets are standardised with the training statistics of the target variable;
    ``target_mean`` / ``target_std`` turn predictions back into natural units (``unit``) so every
    reported error reads in °C or riders, not in z-scores.
    """

    data_name: str
    kind: TaskKind
    input_kind: InputKind
    input_size: int  # features per step (real) or vocabulary size (tokens)
    output_size: int  # values predicted per sample
    sequence_length: int | None = None
    horizon: int = 1  # consecutive future steps predicted per target
    lead: int = 1  # steps from the window's last input to the first target (Jena: 24 h)
    covariates: int = 0  # known-future values per target step, yielded as the batch's third part
    target_names: tuple[str, ...] = ()
    target_index: tuple[int, ...] = ()  # which input features are the targets, if any
    # input features that are measured series (not calendar or day-type covariates): what a
    # level-invariant forecast (``task.level``) rescales per window; empty: the targets only
    series_index: tuple[int, ...] = ()
    # series one net reads each on its own (task.channels=independent): NetInput.channel says
    # which of them each window is, for a net that learns something per series
    channels: int = 1
    season: int = 1  # steps back the data set's naive forecast copies (Chicago: 7 days)
    target_mean: tuple[float, ...] = ()
    target_std: tuple[float, ...] = ()
    unit: str = ""
    feature_names: tuple[str, ...] = field(default=(), repr=False)

    def describe(self) -> str:
        """One line for error messages: what this data set offers a model."""
        width = "vocabulary" if self.input_kind == "tokens" else "features"
        return (
            f"data={self.data_name}: {self.kind} task, {self.input_kind} inputs "
            f"({self.input_size} {width}), "
            f"{self.output_size} output(s)"
        )
