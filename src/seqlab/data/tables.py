"""Reading CSV tables with one clear error for every way a file can be malformed."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np
import pandas as pd

from seqlab.errors import DataError

CHUNK_ROWS = 2048


class Table(NamedTuple):
    """Rows of float32 numbers, one row per time."""

    times: pd.DatetimeIndex
    values: np.ndarray  # (rows, columns), float32
    columns: list[str]


def read_csv_table(
    path: Path, time_column: str, time_format: str, floors: Mapping[str, float] | None = None
) -> Table:
    """The numeric columns of a CSV file (plain or a one-file zip) and its parsed time column.

    Rows are parsed a chunk at a time into an array sized by a first pass that counts lines: the
    whole file as pandas objects (times as Python strings, numbers as float64) would take several
    times the memory of the float32 table it becomes. ``floors`` raises the values of a column
    that lie below its floor (a sentinel such as -9999 for a missing reading).

    A row with the wrong number of fields, a value that is not a number or a time that does not
    parse raises ``DataError`` naming the file, the line and what was expected.
    """
    capacity = _count_lines(path)
    rows, values, times, columns = 0, np.empty((0, 0), np.float32), np.empty(0), []
    for chunk in _chunks(path):
        if not rows:
            if time_column not in chunk.columns:
                raise DataError(
                    f"{path}: no {time_column!r} column; its header is {list(chunk.columns)}"
                )
            columns = [c for c in chunk.columns if c != time_column]
            values = np.empty((capacity, len(columns)), np.float32)
            times = np.empty(capacity, "datetime64[ns]")
        stamps = pd.to_datetime(chunk.pop(time_column), format=time_format, errors="coerce")
        _reject(path, chunk.index[stamps.isna()], f"a {time_column!r} that is not {time_format}")
        numbers = chunk.apply(pd.to_numeric, errors="coerce")
        _reject(path, chunk.index[numbers.isna().any(axis=1)], "a missing or non-numeric value")
        block = values[rows : rows + len(chunk)]
        block[:] = numbers.to_numpy(np.float32)
        for column, floor in (floors or {}).items():
            if column in columns:
                j = columns.index(column)
                np.maximum(block[:, j], floor, out=block[:, j])
        times[rows : rows + len(chunk)] = stamps.to_numpy("datetime64[ns]")
        rows += len(chunk)
    if not rows:
        raise DataError(f"{path} holds no data rows. Delete it and fetch it again.")
    return Table(pd.DatetimeIndex(times[:rows], name=time_column), values[:rows], columns)


@contextmanager
def _open(path: Path) -> Iterator[IO[bytes]]:
    """The file's bytes, or those of the one file inside a zip archive."""
    if path.suffix != ".zip":
        with path.open("rb") as stream:
            yield stream
        return
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if len(names) != 1:
            raise DataError(f"{path} should hold one CSV file; it holds {names}")
        with archive.open(names[0]) as stream:
            yield stream


def _count_lines(path: Path) -> int:
    """An upper bound on the data rows: the line count (a last line may lack its newline)."""
    with _open(path) as stream:
        return sum(block.count(b"\n") for block in iter(lambda: stream.read(1 << 20), b"")) + 1


def _chunks(path: Path) -> Iterator[pd.DataFrame]:
    try:
        with (
            _open(path) as stream,
            pd.read_csv(
                stream, on_bad_lines="error", chunksize=CHUNK_ROWS, encoding="utf-8"
            ) as reader,
        ):
            yield from reader
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, zipfile.BadZipFile) as error:
        raise DataError(
            f"{path} is not a well-formed CSV file ({error}). Delete it and fetch it again."
        ) from error


def _reject(path: Path, bad_rows: pd.Index, what: str) -> None:
    if len(bad_rows):
        line = int(bad_rows[0]) + 2  # 1-based, after the header line
        raise DataError(
            f"{path}, line {line}: {what} ({len(bad_rows)} such row(s)). "
            f"The file is damaged: delete it and fetch it again."
        )
