"""Jena climate: temperature 24 hours ahead from 120 hourly steps, as in the reference example."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from seqlab.data import sources
from seqlab.data.base import DataModule
from seqlab.data.tables import Table, read_csv_table
from seqlab.data.windows import DatedWindows, WindowDataset, window_starts
from seqlab.errors import DataError
from seqlab.spec import TaskSpec

TIME_COLUMN = "Date Time"
TIME_FORMAT = "%d.%m.%Y %H:%M:%S"
STEPS_PER_HOUR = 6  # the canonical file has one row every 10 minutes
WIND_COLUMNS = ("wv (m/s)", "max. wv (m/s)")  # -9999 marks a missing wind reading


def load_jena(path: Path, every: int) -> Table:
    """Read either form of the data set into hourly rows of numeric features.

    Both forms get the treatment the mirror's hourly extract was built with (sort by time, drop
    repeated timestamps, clip the wind sentinel at 0), then every ``every``-th row is kept, so the
    canonical 10-minute file (``every=6``) yields the same rows as the extract (``every=1``).
    Each step copies only when it changes something: the series is held once.
    """
    table = read_csv_table(path, TIME_COLUMN, TIME_FORMAT, floors=dict.fromkeys(WIND_COLUMNS, 0.0))
    times, values = table.times, table.values
    if not times.is_monotonic_increasing:
        order = np.argsort(times.to_numpy(), kind="stable")
        times, values = times[order], values[order]
    first = ~times.duplicated(keep="first")
    if not first.all():
        times, values = times[first], values[first]
    if every > 1:
        times, values = times[::every], values[::every].copy()
    return Table(times, values, table.columns)


def cycles(index: pd.DatetimeIndex) -> pd.DataFrame:
    """Time of day and day of year as points on the unit circle: the two cycles that drive
    temperature, known for any future hour, so the network need not infer them from the series.
    """
    day = 2 * np.pi * (index.hour + index.minute / 60) / 24
    year = 2 * np.pi * (index.dayofyear - 1) / 365.25
    columns = {
        "day_sin": np.sin(day),
        "day_cos": np.cos(day),
        "year_sin": np.sin(year),
        "year_cos": np.cos(year),
    }
    return pd.DataFrame(columns, index=index)


class JenaDataModule(DatedWindows, DataModule):
    """Chronological 50 / 25 / 25 % split, standardised with training statistics only.

    A sample is ``sequence_length`` hourly steps of every feature; its target is ``target`` the
    ``delay`` hours after the window's last step, or with ``horizon`` > 1 the ``horizon``
    consecutive hours ending there (``horizon=24, delay=24``: each of the next 24 hours, the
    targets continuing the input series as sequence-to-sequence models need). ``calendar`` adds
    the time of day and the day of year (``cycles``) as four more features. The series lives
    once in memory; windows are index ranges into it. Looks for the canonical Keras zip, then the
    mirror's hourly extract, then downloads the canonical zip.
    """

    def __init__(
        self,
        data_dir: str | Path,
        sequence_length: int = 120,
        delay: int = 24,
        horizon: int = 1,
        target: str = "T (degC)",
        features: list[str] | None = None,
        calendar: bool = False,
        train_fraction: float = 0.5,
        val_fraction: float = 0.25,
        batch_size: int = 256,
        num_workers: int = 0,
        download: bool = True,
    ) -> None:
        super().__init__(data_dir)
        self.save_hyperparameters(logger=False)

    def locate(self) -> Path:
        canonical, hourly = sources.SOURCES["jena"], sources.SOURCES["jena_hourly"]
        for source in (canonical, hourly):
            found = sources.find(source, self.data_dir)
            if found is not None:
                sources.verify(found, source)
                return found
        return self.fetch("jena")

    def build(self, path: Path) -> None:
        canonical = path.name == sources.SOURCES["jena"].filename
        table = load_jena(path, every=STEPS_PER_HOUR if canonical else 1)
        columns = self._select(table.columns, path)
        values, measured = table.values, len(columns)
        if columns != table.columns:
            values = values[:, [table.columns.index(c) for c in columns]]
        if self.hparams.calendar:
            calendar = cycles(table.times)
            values = np.hstack([values, calendar.to_numpy(np.float32)])
            columns = [*columns, *calendar.columns]
        values = torch.from_numpy(values)
        rows = len(values)
        n_train = int(self.hparams.train_fraction * rows)
        n_val = int(self.hparams.val_fraction * rows)
        mean = values[:n_train].mean(dim=0)
        std = values[:n_train].std(dim=0, unbiased=False)
        series = values.sub_(mean).div_(std)  # in place: the table's array is ours alone
        target_index = columns.index(self.hparams.target)
        length, horizon = self.hparams.sequence_length, self.hparams.horizon
        if not 1 <= horizon <= self.hparams.delay:
            raise DataError(
                f"data.horizon={horizon} must lie in 1..data.delay ({self.hparams.delay}): the "
                f"targets are the `horizon` hours ending `delay` hours after the window"
            )
        last_offset = length - 1 + self.hparams.delay
        offsets = torch.arange(last_offset - horizon + 1, last_offset + 1)
        times = table.times.to_numpy()
        bounds = {
            "train": (0, n_train),
            "val": (n_train, n_train + n_val),
            "test": (n_train + n_val, rows),
        }
        for split, (begin, end) in bounds.items():
            try:
                starts = window_starts(begin, end, length, last_offset, rows)
            except ValueError as error:
                raise DataError(
                    f"{path}, {split} split: {error} (data.sequence_length={length}, "
                    f"data.delay={self.hparams.delay}); shorten them"
                ) from error
            self.datasets[split] = WindowDataset(
                series, series[:, target_index], starts, length, offsets, times=times
            )
        self.spec = TaskSpec(
            data_name="jena",
            kind="forecasting",
            input_kind="real",
            input_size=series.shape[1],
            output_size=horizon,
            sequence_length=length,
            horizon=horizon,
            lead=self.hparams.delay - horizon + 1,
            target_names=(self.hparams.target,),
            target_index=(target_index,),
            series_index=tuple(range(measured)),  # the calendar columns come last
            target_mean=(float(mean[target_index]),),
            target_std=(float(std[target_index]),),
            unit="°C",
            feature_names=tuple(columns),
        )
        self.provenance = {
            "file": str(path),
            "form": "canonical 10-minute file, every 6th row" if canonical else "hourly extract",
            "features": columns,
            "rows": rows,
            "windows": {split: len(ds) for split, ds in self.datasets.items()},
        }

    def _select(self, available: list[str], path: Path) -> list[str]:
        """The configured feature columns, the target among them."""
        wanted = self.hparams.features or list(available)
        missing = [c for c in [*wanted, self.hparams.target] if c not in available]
        if missing:
            raise DataError(
                f"{path}: column(s) {missing} not found; it has {available}. "
                f"Set data.features / data.target to columns of this file."
            )
        if self.hparams.target not in wanted:
            wanted = [*wanted, self.hparams.target]
        return list(wanted)
