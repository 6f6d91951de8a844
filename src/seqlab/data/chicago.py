"""Chicago transit (CTA) daily boardings: next-day or next-14-days ridership, as in the reference.

The reference's preparation: columns date, day_type, bus, rail (total dropped), sorted by date,
duplicate rows dropped, riders scaled by 1e-6; train 2016-01…2018-12, validation 2019-01…2019-05,
test 2019-06 onwards; 56-day windows cut inside each split, so the first validation target is
the 57th day of the validation span and every model is scored on the same target days.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch

from seqlab.data.base import DataModule
from seqlab.data.windows import DatedWindows, WindowDataset, window_starts
from seqlab.errors import DataError
from seqlab.spec import TaskSpec

MEMBER = "ridership/CTA_-_Ridership_-_Daily_Boarding_Totals.csv"
COLUMNS = ("date", "day_type", "bus", "rail", "total")  # the upstream header, renamed
DATE_FORMAT = "%m/%d/%Y"
DAY_TYPES = ("A", "U", "W")  # Saturday, Sunday/holiday, weekday
SCALE = 1e-6  # riders -> millions of riders, the scale the networks see
TARGETS = {"bus": ("bus",), "rail": ("rail",), "both": ("bus", "rail")}
SPLITS = {
    "train": ("2016-01", "2018-12"),
    "val": ("2019-01", "2019-05"),
    "test": ("2019-06", None),
}


def load_ridership(path: Path) -> pd.DataFrame:
    """The daily table indexed by date: day_type, bus, rail (riders), as the reference has it.

    Sorted by date; duplicate rows dropped the reference's way (``drop_duplicates`` on the
    date-indexed table, which removes the file's repeated days).
    """
    try:
        frame = pd.read_csv(path, on_bad_lines="error")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise DataError(f"{path} is not a well-formed CSV file ({error}).") from error
    if len(frame.columns) != len(COLUMNS):
        raise DataError(
            f"{path}: expected {len(COLUMNS)} columns (service_date, day_type, bus, "
            f"rail_boardings, total_rides), found {list(frame.columns)}"
        )
    frame.columns = list(COLUMNS)
    dates = pd.to_datetime(frame["date"], format=DATE_FORMAT, errors="coerce")
    riders = frame[["bus", "rail"]].apply(pd.to_numeric, errors="coerce")
    bad = frame.index[dates.isna() | riders.isna().any(axis=1) | ~frame["day_type"].isin(DAY_TYPES)]
    if len(bad):
        raise DataError(
            f"{path}, line {int(bad[0]) + 2}: a date that is not {DATE_FORMAT}, a non-numeric "
            f"rider count or a day type outside {DAY_TYPES} ({len(bad)} such row(s)). "
            f"The file is damaged: delete it and fetch it again."
        )
    frame = frame.assign(date=dates, bus=riders["bus"], rail=riders["rail"])
    frame = frame.sort_values("date", kind="stable").set_index("date").drop(columns="total")
    return frame.drop_duplicates()


def known_in_advance(frame: pd.DataFrame, calendar: bool) -> pd.DataFrame:
    """What is known about each day before it happens: its day type, optionally its calendar.

    Day type one-hot (A, U, W); with ``calendar``, also the weekday one-hot and the day of the
    year as a point on the unit circle (the yearly cycle: holidays, summer, school terms).
    """
    parts = [pd.get_dummies(frame["day_type"]).reindex(columns=DAY_TYPES, fill_value=False)]
    parts[0].columns = [f"day_type_{t}" for t in DAY_TYPES]
    if calendar:
        weekday = pd.get_dummies(frame.index.dayofweek).reindex(columns=range(7), fill_value=False)
        weekday.index = frame.index
        weekday.columns = [f"weekday_{d}" for d in range(7)]
        angle = 2 * np.pi * (frame.index.dayofyear.to_numpy() - 1) / 365.25
        cycle = pd.DataFrame({"year_sin": np.sin(angle), "year_cos": np.cos(angle)}, frame.index)
        parts += [weekday, cycle]
    return pd.concat(parts, axis=1).astype("float32")


class ChicagoDataModule(DatedWindows, DataModule):
    """CTA ridership windows: ``sequence_length`` days in, the next ``horizon`` days of ``target``.

    ``features=univariate`` feeds the target series only; ``multivariate`` feeds bus, rail and
    the next day's type one-hot (5 inputs, the reference's multivariate model), plus the next
    day's calendar with ``calendar=true``. Inputs and targets are riders × 1e-6 (not
    standardised, as in the reference); the spec's scale turns errors back into riders. Each
    batch also carries the known future (day type, calendar) of every target day, which an
    encoder–decoder feeds its decoder. forecast.png shows the first half of 2020: the collapse.
    """

    plot_from = "2020-01-06"
    plot_steps = 26 * 7

    def __init__(
        self,
        data_dir: str | Path,
        cache_dir: str | Path,
        sequence_length: int = 56,
        horizon: int = 1,
        target: str = "rail",
        features: Literal["univariate", "multivariate"] = "univariate",
        calendar: bool = False,
        batch_size: int = 32,
        num_workers: int = 0,
        download: bool = True,
    ) -> None:
        super().__init__(data_dir, cache_dir)
        self.save_hyperparameters(logger=False)

    def locate(self) -> Path:
        return self.extracted("chicago") / MEMBER

    def build(self, path: Path) -> None:
        self._check_options()
        frame = load_ridership(path)
        targets = TARGETS[self.hparams.target]
        known = known_in_advance(frame, self.hparams.calendar)
        table = frame[["bus", "rail"]] * SCALE
        if self.hparams.features == "univariate":
            inputs = table[list(targets)]
        else:  # the next day's known values ride along with today's counts
            upcoming = known.shift(-1).fillna(0.0).add_prefix("next_")
            inputs = pd.concat([table, upcoming], axis=1)
        series = torch.from_numpy(inputs.to_numpy(dtype="float32", copy=True))
        covariates = torch.from_numpy(known.to_numpy(dtype="float32", copy=True))
        target_index = [list(inputs.columns).index(t) for t in targets]
        length, horizon = self.hparams.sequence_length, self.hparams.horizon
        offsets = torch.arange(length, length + horizon)
        times = frame.index.to_numpy()
        days: dict[str, tuple[str, str]] = {}
        for split, (first, last) in SPLITS.items():
            rows = frame.index.get_indexer(frame.loc[first:last].index)
            if len(rows) <= length + horizon - 1:
                raise DataError(
                    f"data=chicago {split} split has {len(rows)} days, too few for a "
                    f"{length}-day window and a {horizon}-day horizon: lower data.sequence_length "
                    f"or data.horizon"
                )
            begin, end = int(rows[0]), int(rows[-1]) + 1
            starts = window_starts(begin, end, length, length + horizon - 1, end, True)
            self.datasets[split] = WindowDataset(
                series, series[:, target_index], starts, length, offsets, covariates, times
            )
            first_target = frame.index[int(starts[0]) + length]
            days[split] = (str(first_target.date()), str(frame.index[end - 1].date()))
        self.spec = TaskSpec(
            data_name="chicago",
            kind="forecasting",
            input_kind="real",
            input_size=series.shape[1],
            output_size=horizon * len(targets),
            sequence_length=length,
            horizon=horizon,
            lead=1,
            covariates=covariates.shape[1],
            target_names=targets,
            target_index=tuple(target_index),
            series_index=tuple(i for i, c in enumerate(inputs.columns) if c in TARGETS["both"]),
            season=7,
            target_mean=(0.0,) * len(targets),
            target_std=(1 / SCALE,) * len(targets),
            unit="riders",
            feature_names=tuple(inputs.columns),
        )
        self.provenance = {
            "file": str(path),
            "rows": len(frame),
            "features": list(inputs.columns),
            "covariates": list(known.columns),
            "windows": {split: len(ds) for split, ds in self.datasets.items()},
            "target_days": days,
        }

    def _check_options(self) -> None:
        """Bad options fail here, before anything is read or trained."""
        hp = self.hparams
        if hp.target not in TARGETS:
            raise DataError(
                f"data.target={hp.target!r} is not a column of data=chicago; "
                f"choose one of {sorted(TARGETS)}"
            )
        if hp.features not in ("univariate", "multivariate"):
            raise DataError(f"data.features={hp.features!r}: choose univariate or multivariate")
        if hp.horizon < 1 or hp.sequence_length < 1:
            raise DataError(
                f"data.horizon ({hp.horizon}) and data.sequence_length ({hp.sequence_length}) "
                f"must be at least 1"
            )
