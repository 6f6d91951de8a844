"""What a task can offer beyond training, declared: the commands and the run's artefacts step ask
for these by type (``isinstance``), never by probing for an attribute. A new task kind that
offers one of them implements its methods and is served by predict.py, generate.py and the
pictures of a run without touching them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

import torch

from seqlab.data.base import LanguageData
from seqlab.spec import TaskSpec


class Forecasts(NamedTuple):
    """The test split's forecasts of the first target in its own units, ``(windows, horizon)``
    each, for pictures."""

    predictions: torch.Tensor
    targets: torch.Tensor
    naive: torch.Tensor | None  # the data set's naive forecaster (``spec.season`` steps back)
    spec: TaskSpec


@runtime_checkable
class Forecaster(Protocol):
    """A task whose last test pass can be drawn against the truth (forecast.png, horizons.png)."""

    def test_forecasts(self) -> Forecasts | None: ...


@runtime_checkable
class Classifier(Protocol):
    """A task that labels texts: class probabilities for ``predict.py`` and a confusion matrix
    of its last test pass (confusion_matrix.png)."""

    def predict_proba(self, *inputs: torch.Tensor) -> torch.Tensor: ...

    def test_confusion_matrix(self) -> tuple[torch.Tensor, tuple[str, ...]] | None: ...


@runtime_checkable
class Generator(Protocol):
    """A task that generates: a sample from a prompt, written by the data set's `LanguageData`
    (``generate.py`` and a run's ``sample.*``)."""

    def write_sample(
        self, datamodule: LanguageData, path: Path, prompt: str | None = None, **options: Any
    ) -> dict[str, Any]: ...
