"""Reading CSV tables with one clear error for every way a file can be malformed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from seqlab.errors import DataError


def read_csv_table(path: Path, time_column: str, time_format: str) -> pd.DataFrame:
    """A numeric table indexed by its parsed time column.

    A row with the wrong number of fields, a value that is not a number or a time that does not
    parse raises ``DataError`` naming the file, the line and what was expected.
    """
    try:
        frame = pd.read_csv(path, on_bad_lines="error")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise DataError(
            f"{path} is not a well-formed CSV file ({error}). Delete it and fetch it again."
        ) from error
    if time_column not in frame.columns:
        raise DataError(f"{path}: no {time_column!r} column; its header is {list(frame.columns)}")
    times = pd.to_datetime(frame.pop(time_column), format=time_format, errors="coerce")
    _reject(path, frame.index[times.isna()], f"a {time_column!r} that is not {time_format}")
    numbers = frame.apply(pd.to_numeric, errors="coerce")
    _reject(path, frame.index[numbers.isna().any(axis=1)], "a missing or non-numeric value")
    numbers.index = pd.DatetimeIndex(times, name=time_column)
    return numbers.astype("float64")


def _reject(path: Path, bad_rows: pd.Index, what: str) -> None:
    if len(bad_rows):
        line = int(bad_rows[0]) + 2  # 1-based, after the header line
        raise DataError(
            f"{path}, line {line}: {what} ({len(bad_rows)} such row(s)). "
            f"The file is damaged: delete it and fetch it again."
        )
