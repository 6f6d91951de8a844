"""Any CSV of series (``data=csv``) and the long-horizon benchmark's Weather file
(``data=weather``).

The split follows the long-horizon benchmark's protocol, as Time-Series-Library's
``Dataset_Custom`` computes it (``data_provider/data_loader.py``): the first ``int(n * 0.7)`` rows
train, the last ``int(n * 0.2)`` test, the rest validate; the validation and test windows start
``sequence_length`` rows before their split, so that every target row of a split is scored; each
column is standardised with the statistics of the training rows. ``val_start`` / ``test_start``
split by dates instead. Every problem a real file can have is one `DataError` naming the file, the
place and the option that gets past it; a duplicate time or a gap is a warning with its place.
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from seqlab.data.base import DataModule
from seqlab.data.jena import cycles
from seqlab.data.windows import DatedWindows, WindowDataset, window_starts
from seqlab.errors import DataError
from seqlab.spec import TaskSpec

FEATURES = ("all", "target")  # or a list of column names
CALENDAR = ("day_sin", "day_cos", "year_sin", "year_cos")  # `jena.cycles`' columns
FILLS = ("ffill", "interpolate", "drop")
SHOWN = 5  # rows named in a message


def decode(raw: bytes, path: Path) -> tuple[str, str]:
    """The file's text and its encoding: UTF-8 (with or without a byte-order mark), else
    Latin-1, which reads any byte (the Weather file's header has non-UTF-8 unit signs in some
    copies)."""
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return raw.decode(encoding), encoding.removesuffix("-sig")
        except UnicodeDecodeError:
            continue
    raise DataError(f"{path}: cannot decode the file")  # unreachable: latin-1 reads any byte


def rows_named(lines: np.ndarray | pd.Index) -> str:
    """``line 3, 7, 9 and 12 more`` for a message (file lines, 1-based, the header line 1)."""
    shown = ", ".join(str(int(line)) for line in list(lines)[:SHOWN])
    more = f" and {len(lines) - SHOWN} more" if len(lines) > SHOWN else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def read_series(path: Path) -> tuple[pd.DataFrame, str]:
    """The CSV file as text columns (nothing parsed yet), and its encoding."""
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataError(f"data.path={path} {what}; give the CSV file of your series")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read data.path={path}: {error.strerror or error}") from error
    text, encoding = decode(raw, path)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "no columns"
        raise DataError(f"{path} is not a well-formed CSV file: {first}") from error
    if frame.empty:
        raise DataError(f"{path} holds a header but no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, encoding


def numbers(frame: pd.DataFrame, columns: list[str], path: Path, fill: str | None) -> np.ndarray:
    """The columns as float32; a value that is not a number names its line and column, missing
    values name their lines and the ``data.fill`` that gets past them."""
    values = frame[columns].apply(lambda c: c.str.strip())
    parsed = values.apply(pd.to_numeric, errors="coerce")
    missing = values.isin(["", "nan", "NaN", "NA", "N/A", "null", "None"])
    bad = parsed.isna() & ~missing
    if bad.any().any():
        row, column = next((r, c) for c in columns for r in frame.index[bad[c]])
        raise DataError(
            f"{path}, line {row + 2}, column {column!r}: {values.at[row, column]!r} is not a "
            f"number ({int(bad.values.sum())} such value(s)); fix the file or leave the column "
            "out of data.features / data.target"
        )
    holes = parsed.isna().any(axis=1)
    if holes.any() and fill is None:
        columns_with = [c for c in columns if parsed[c].isna().any()]
        raise DataError(
            f"{path}: missing values on {rows_named(frame.index[holes] + 2)} (columns "
            f"{columns_with}); set data.fill=ffill, interpolate or drop to get past them"
        )
    if fill == "ffill":
        parsed = parsed.ffill().bfill()
    elif fill == "interpolate":
        parsed = parsed.interpolate(limit_direction="both")
    return parsed.to_numpy(np.float32)


class SeriesDataModule(DatedWindows, DataModule):
    """Windows of ``sequence_length`` rows of the input columns; targets the ``horizon`` rows of
    the ``target`` column(s) from ``lead`` rows after the window's last row.

    ``target``: a column, a list of columns, or ``all`` (every column: all in and out, the
    benchmark's "M"). ``features``: ``all`` (every column but the time column), ``target`` (the
    targets only) or a list of columns; the targets are always among the inputs, so
    level-invariant forecasting and the naive forecaster work. ``calendar`` adds the time of day
    and the day of year of each row (from the time column). ``time_column`` null reads the rows
    in file order, undated. ``source`` names a declared data file (``data=weather``) instead
    of ``path``.
    """

    def __init__(
        self,
        data_dir: str | Path,
        path: str | None = None,
        source: str | None = None,
        name: str = "csv",
        target: str | list[str] | None = None,
        features: str | list[str] = "all",
        time_column: str | None = "date",
        sequence_length: int = 96,
        horizon: int = 1,
        lead: int = 1,
        train_fraction: float = 0.7,
        test_fraction: float = 0.2,
        val_start: str | None = None,
        test_start: str | None = None,
        scale: bool = True,
        calendar: bool = False,
        fill: str | None = None,
        unit: str = "",
        batch_size: int = 32,
        num_workers: int = 0,
        download: bool = True,
    ) -> None:
        super().__init__(data_dir)
        self.save_hyperparameters(logger=False)

    def locate(self) -> Path:
        if self.hparams.source is not None:
            return self.fetch(self.hparams.source)
        if not self.hparams.path:
            raise DataError(
                "data=csv needs the file: data.path=<your.csv> data.target=<column> "
                "(`python train.py data=csv --help` lists the options)"
            )
        return Path(str(self.hparams.path)).expanduser()

    def targets(self, available: list[str]) -> list[str]:
        """The target columns; ``all``: every column but the time column, in file order."""
        target = self.hparams.target
        if target == "all":
            return list(available)
        if not target:
            raise DataError("data.target: name the column(s) to forecast, e.g. data.target=units")
        return [str(target)] if isinstance(target, str) else [str(t) for t in target]

    def inputs(self, available: list[str], targets: list[str]) -> list[str]:
        """The input columns, the targets among them (last, in ``targets``' order, when all)."""
        features = self.hparams.features
        if features == "all":
            wanted = [c for c in available if c not in targets]
        elif features == "target":
            wanted = []
        elif isinstance(features, str):
            raise DataError(
                f"data.features={features}: choose all, target or a list of columns "
                "(data.features=[a,b])"
            )
        else:
            wanted = [str(c) for c in features if str(c) not in targets]
        return [*wanted, *targets]

    def build(self, path: Path) -> None:
        frame, encoding = read_series(path)
        hp = self.hparams
        time_column = hp.time_column
        available = [c for c in frame.columns if c != time_column]
        targets = self.targets(available)
        columns = self.inputs(available, targets)
        wanted = [*columns, *([time_column] if time_column else [])]
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            fix = (
                "; set data.time_column to yours, or null to read the rows in file order"
                if time_column in missing
                else ""
            )
            raise DataError(f"{path}: no column {missing[0]!r}; it has {list(frame.columns)}{fix}")
        if hp.fill is not None and hp.fill not in FILLS:
            raise DataError(f"data.fill={hp.fill}: choose one of {', '.join(FILLS)} (or null)")
        values = numbers(frame, columns, path, hp.fill)
        times = self._times(frame, path) if time_column else None
        if hp.fill == "drop":
            kept = ~np.isnan(values).any(axis=1)
            values, times = values[kept], None if times is None else times[kept]
        if hp.calendar:
            if times is None:
                raise DataError("data.calendar=true needs the time column; set data.time_column")
            calendar = cycles(pd.DatetimeIndex(times))
            values = np.hstack([values, calendar.to_numpy(np.float32)])
            columns = [*columns, *calendar.columns]
        series = torch.from_numpy(np.ascontiguousarray(values))
        bounds = self._bounds(len(series), times, path)
        mean = series[: bounds["train"][1]].mean(dim=0)
        # sklearn's StandardScaler, as the benchmark's code: the population std (ddof 0)
        std = series[: bounds["train"][1]].std(dim=0, unbiased=False).clamp_min(1e-8)
        if hp.scale:
            series = (series - mean) / std
        else:
            mean, std = torch.zeros_like(mean), torch.ones_like(std)
        target_index = [columns.index(t) for t in targets]
        length, horizon, lead = hp.sequence_length, hp.horizon, hp.lead
        last_offset = length - 1 + lead + horizon - 1
        offsets = torch.arange(length - 1 + lead, last_offset + 1)
        for split, (begin, end) in bounds.items():
            starts = window_starts(begin, end, length, last_offset, len(series), True)
            self.datasets[split] = WindowDataset(
                series, series[:, target_index], starts, length, offsets, times=times
            )
        self.spec = TaskSpec(
            data_name=hp.name,
            kind="forecasting",
            input_kind="real",
            input_size=series.shape[1],
            output_size=horizon * len(targets),
            sequence_length=length,
            horizon=horizon,
            lead=lead,
            target_names=tuple(targets),
            target_index=tuple(target_index),
            series_index=tuple(range(len(columns) - (4 if hp.calendar else 0))),
            target_mean=tuple(float(mean[i]) for i in target_index),
            target_std=tuple(float(std[i]) for i in target_index),
            unit=hp.unit,
            feature_names=tuple(columns),
        )
        self.scaler = {"mean": mean.tolist(), "std": std.tolist()}
        self.provenance = {
            "file": str(path),
            "encoding": encoding,
            "features": columns,
            "targets": targets,
            "rows": len(series),
            "splits": {split: [int(b), int(e)] for split, (b, e) in bounds.items()},
            "windows": {split: len(ds) for split, ds in self.datasets.items()},
        }

    def _times(self, frame: pd.DataFrame, path: Path) -> np.ndarray:
        """The time column parsed; unparsable or unsorted times are errors, a repeated time
        or a gap in the usual step a warning naming its place."""
        column = self.hparams.time_column
        stamps = pd.to_datetime(frame[column].str.strip(), errors="coerce", format="mixed")
        if stamps.isna().any():
            lines = frame.index[stamps.isna()] + 2
            raise DataError(
                f"{path}: {column!r} is not a time on {rows_named(lines)} (e.g. "
                f"{frame[column].iloc[lines[0] - 2]!r}); fix those rows, or set "
                "data.time_column=null to read the rows in file order"
            )
        times = stamps.to_numpy("datetime64[ns]")
        steps = np.diff(times)
        back = np.flatnonzero(steps < np.timedelta64(0))
        if len(back):
            raise DataError(
                f"{path}: {column!r} is not sorted: line {back[0] + 3} "
                f"({frame[column].iloc[back[0] + 1]}) comes before line {back[0] + 2}; sort the "
                "file by time (or set data.time_column=null to keep the file's order)"
            )
        repeated = np.flatnonzero(steps == np.timedelta64(0))
        if len(repeated):
            warnings.warn(
                f"{path}: {column!r} repeats a time on {rows_named(repeated + 3)} "
                f"({frame[column].iloc[repeated[0] + 1]}); the rows are kept in file order",
                stacklevel=2,
            )
        if len(steps):
            usual = np.median(steps[steps > np.timedelta64(0)]) if (steps > 0).any() else None
            gaps = np.flatnonzero(steps > 1.5 * usual) if usual is not None else []
            if len(gaps):
                warnings.warn(
                    f"{path}: {len(gaps)} gap(s) in {column!r} longer than its usual step "
                    f"({pd.Timedelta(usual)}), the first before line {gaps[0] + 3} "
                    f"({frame[column].iloc[gaps[0] + 1]}); windows span them as if they were "
                    "one step",
                    stacklevel=2,
                )
        return times

    def _bounds(
        self, rows: int, times: np.ndarray | None, path: Path
    ) -> dict[str, tuple[int, int]]:
        """Each split's rows, the validation and test ones reaching ``sequence_length`` rows
        back into the split before them (their windows' inputs)."""
        hp = self.hparams
        length, last = hp.sequence_length, hp.sequence_length + hp.lead + hp.horizon - 1
        if hp.val_start or hp.test_start:
            if times is None or not (hp.val_start and hp.test_start):
                raise DataError(
                    "splitting by dates needs both data.val_start and data.test_start, and the "
                    "time column"
                )
            n_train, test_begin = (
                int(np.searchsorted(times, np.datetime64(pd.Timestamp(str(d)))))
                for d in (hp.val_start, hp.test_start)
            )
            n_test = rows - test_begin
        else:
            if not (hp.train_fraction > 0 and hp.test_fraction > 0) or (
                hp.train_fraction + hp.test_fraction >= 1
            ):
                raise DataError(
                    f"data.train_fraction={hp.train_fraction} and data.test_fraction="
                    f"{hp.test_fraction} must be positive and leave rows to validate on"
                )
            n_train, n_test = int(rows * hp.train_fraction), int(rows * hp.test_fraction)
        n_val = rows - n_train - n_test
        if min(n_train, n_val, n_test) < last:  # every split holds one window's targets at least
            share = min(n_train, n_val, n_test) / rows
            need = int(np.ceil(last / share)) + 1 if share > 0 else None
            raise DataError(
                f"{path}: {rows} rows are too short for windows of {length} rows + "
                f"{hp.lead + hp.horizon - 1} ahead in every split (train {n_train}, val "
                f"{n_val}, test {n_test} rows; each needs {last}): "
                + (f"give a file of at least {need} rows, " if need else "")
                + "or shorten data.sequence_length / data.horizon"
            )
        return {
            "train": (0, n_train),
            "val": (n_train - length, n_train + n_val),
            "test": (rows - n_test - length, rows),
        }

    def state_dict(self) -> dict[str, Any]:
        """What a forecast of a new file needs without this file: the spec (columns, targets)
        and each column's training mean and std; saved in every checkpoint."""
        if self.spec is None:
            return {}
        return {"spec": dataclasses.asdict(self.spec), **self.scaler}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if "spec" in state_dict and self.spec is None:
            saved = state_dict["spec"]
            self.spec = TaskSpec(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()}
            )
            self.scaler = {"mean": state_dict["mean"], "std": state_dict["std"]}

    def publish_spec(self) -> TaskSpec:
        if self.spec is None:
            raise DataError("the series' columns are not known: call setup() first")
        return self.spec

    def window_of(self, path: Path) -> tuple[torch.Tensor, np.ndarray | None]:
        """The last ``sequence_length`` rows of ``path`` (a file with the training file's
        columns), standardised with the training statistics, and the forecast steps' times."""
        spec, hp = self.publish_spec(), self.hparams
        frame, _ = read_series(Path(path))
        measured = [c for c in spec.feature_names if c not in CALENDAR]
        missing = [c for c in measured if c not in frame.columns]
        if missing:
            raise DataError(
                f"{path}: no column {missing[0]!r}, which the model was trained on; it has "
                f"{list(frame.columns)}"
            )
        rows = len(frame)
        if rows < spec.sequence_length:
            raise DataError(
                f"{path}: {rows} rows; the model reads {spec.sequence_length} rows back, so give "
                f"at least {spec.sequence_length}"
            )
        frame = frame.iloc[rows - spec.sequence_length :].reset_index(drop=True)
        values = numbers(frame, measured, Path(path), hp.fill if hp.fill != "drop" else None)
        times = self._times(frame, Path(path)) if hp.time_column else None
        if hp.calendar:
            values = np.hstack([values, cycles(pd.DatetimeIndex(times)).to_numpy(np.float32)])
        mean, std = (torch.tensor(self.scaler[k]) for k in ("mean", "std"))
        window = (torch.tensor(values) - mean) / std
        ahead = None
        if times is not None:
            step = np.median(np.diff(times)) if len(times) > 1 else np.timedelta64(0)
            ahead = times[-1] + step * np.arange(spec.lead, spec.lead + spec.horizon)
        return window[None], ahead

    def target_times(self, split: str) -> np.ndarray:
        if self.datasets[split].times is None:
            return np.arange(len(self.datasets[split]))  # undated: rows in file order
        return super().target_times(split)

    def plot_stretch(self, times: np.ndarray) -> slice:
        if not np.issubdtype(times.dtype, np.datetime64):
            return slice(0, self.plot_steps)
        return super().plot_stretch(times)
