"""What every DataModule shares: where its files live, its splits, its spec, its three loaders.

A data set subclasses `DataModule` and writes two methods: `locate` (find or download its files)
and `build` (turn them into ``datasets``, ``spec`` and ``provenance``). Set-up runs once,
whichever of fit, validate, test or predict asks first. Beyond batches, a DataModule may offer
a declared capability: `LanguageData` (what the language-model task needs), `DatedData` (dates
for a forecast's pictures), `TextData` (new texts encoded for predict.py), `SeriesData` (a new
file's last window, for predict.py's forecasts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from seqlab.data import sources
from seqlab.spec import TaskSpec


def batch_as_is(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Collate for datasets whose ``__getitems__`` already returns a whole batch."""
    return batch


class DataModule(L.LightningDataModule):
    """Base of the data sets: ``data_dir`` (upstream files, may be read-only), ``cache_dir``
    (what is extracted or derived from them), and after `setup` the ``datasets`` per split,
    the task ``spec`` they yield and the ``provenance`` recorded in metrics.json.

    The loaders shuffle the training split only; every dataset returns a whole batch from
    ``__getitems__``. A data set that batches differently (length buckets, parallel streams)
    overrides `batching`. Subclasses call ``save_hyperparameters`` (``batch_size``,
    ``download``, optionally ``num_workers``).
    """

    def __init__(self, data_dir: str | Path, cache_dir: str | Path | None = None) -> None:
        super().__init__()
        self.data_dir = Path(data_dir)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.path: Path | None = None  # what `locate` found
        self.datasets: dict[str, Dataset] = {}
        self.spec: TaskSpec | None = None
        self.provenance: dict[str, Any] = {}

    def locate(self) -> Path:
        """The data set's file or extracted folder, fetched (`fetch`) if need be."""
        raise NotImplementedError

    def build(self, path: Path) -> None:
        """Fill ``datasets``, ``spec`` and ``provenance`` from what `locate` found."""
        raise NotImplementedError

    def fetch(self, name: str) -> Path:
        """The upstream file of ``sources.SOURCES[name]``: found in ``data_dir`` or downloaded."""
        return sources.fetch(sources.SOURCES[name], self.data_dir, self.hparams.download)

    def extracted(self, name: str) -> Path:
        """The archive of ``sources.SOURCES[name]`` (`fetch`), unpacked once under ``cache_dir``."""
        return sources.extract(self.fetch(name), self.cache_dir, sources.SOURCES[name])

    def prepare_data(self) -> None:
        self.path = self.locate()

    def setup(self, stage: str | None = None) -> None:
        if self.spec is None:
            self.path = self.path or self.locate()
            self.build(self.path)

    def streamed(self, split: str) -> bool:
        """Whether consecutive batches of ``split`` continue the same sequences, row by row (a
        task may then carry its state across them); otherwise samples are independent."""
        return False

    def batching(self, split: str) -> dict[str, Any]:
        """The DataLoader options that cut ``split`` into batches."""
        return {"batch_size": self.hparams.batch_size, "shuffle": split == "train"}

    def loader(self, split: str) -> DataLoader:
        workers = self.hparams.get("num_workers", 0)
        return DataLoader(
            self.datasets[split],
            collate_fn=batch_as_is,
            num_workers=workers,
            persistent_workers=workers > 0,
            **self.batching(split),
        )

    def train_dataloader(self) -> DataLoader:
        return self.loader("train")

    def val_dataloader(self) -> DataLoader:
        return self.loader("val")

    def test_dataloader(self) -> DataLoader:
        return self.loader("test")


@runtime_checkable
class LanguageData(Protocol):
    """What the language-model task asks of its DataModule: the stream layout of each split
    (`DataModule.streamed`) and a sample, from a prompt to files a person can read or hear."""

    sample_length: int  # tokens generated for the end-of-training sample
    token_name: str  # what a token is, for speed reports ("chars", "notes")
    never_generate: tuple[int, ...]  # token ids a sample must not contain (e.g. "unknown")

    def streamed(self, split: str) -> bool: ...

    def prompt_tokens(self, prompt: str | None) -> torch.Tensor:
        """The token ids generation starts from; ``None``: the data set's default prompt."""
        ...

    def write_sample(self, tokens: torch.Tensor, prompt_length: int, path: Path) -> list[Path]:
        """Save a generated sequence (prompt included) beside ``path`` (suffixes added)."""
        ...


@runtime_checkable
class DatedData(Protocol):
    """A forecasting DataModule whose samples have dates (`windows.DatedWindows`): pictures put
    them on their time axis and show the stretch of the test split that matters."""

    def target_times(self, split: str) -> np.ndarray: ...

    def plot_stretch(self, times: np.ndarray) -> slice: ...


@runtime_checkable
class SeriesData(Protocol):
    """A forecasting DataModule that reads a new file of the series it was trained on, with
    the columns and scaling it fitted in training, and restores those from a checkpoint
    without reading its data: what predict.py needs to forecast a CSV's future."""

    def window_of(self, path: Path) -> tuple[torch.Tensor, np.ndarray | None]:
        """The file's last window, standardised as in training ``(1, time, features)``, and
        the times of the forecast steps (None for an undated file)."""
        ...

    def publish_spec(self) -> TaskSpec:
        """The spec of the fitted state (after `setup` or `load_state_dict`)."""
        ...


@runtime_checkable
class TextData(Protocol):
    """A DataModule that turns new texts into model inputs with what it fitted in training (a
    vocabulary), and restores that from a checkpoint without reading its data: what predict.py
    needs to classify text."""

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, ...]: ...

    def publish_spec(self) -> TaskSpec:
        """The spec of the fitted state (after `setup` or `load_state_dict`)."""
        ...
