"""Fixtures: tiny data sets in the upstream formats, declared with their own checksums."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from seqlab.data import sources
from tests.helpers import HOURLY_COLUMNS, JENA_COLUMNS, git_blob, jena_rows


@pytest.fixture
def jena_hourly_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir holding a small hourly extract, declared with its own checksum."""
    data_dir = tmp_path / "data"
    (data_dir / "jena").mkdir(parents=True, exist_ok=True)
    path = data_dir / "jena" / sources.SOURCES["jena_hourly"].filename
    path.write_text("\n".join(jena_rows(900, 60, HOURLY_COLUMNS)) + "\n")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setitem(
        sources.SOURCES, "jena_hourly", replace(sources.SOURCES["jena_hourly"], sha256=(digest,))
    )
    return data_dir


@pytest.fixture
def jena_canonical_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir with a small canonical 10-minute zip (a repeated row, a wind sentinel)."""
    data_dir = tmp_path / "data"
    (data_dir / "jena").mkdir(parents=True, exist_ok=True)
    lines = jena_rows(6 * 900, 10, JENA_COLUMNS)
    lines.insert(40, lines[39])  # a repeated timestamp, as the real file has
    wind = JENA_COLUMNS.index("wv (m/s)") + 1
    fields = lines[7].split(",")
    fields[wind] = "-9999.00"
    lines[7] = ",".join(fields)
    member = "jena_climate_2009_2016.csv"
    content = ("\n".join(lines) + "\n").encode()
    with zipfile.ZipFile(data_dir / "jena" / sources.SOURCES["jena"].filename, "w") as archive:
        archive.writestr(member, content)
    monkeypatch.setitem(
        sources.SOURCES,
        "jena",
        replace(sources.SOURCES["jena"], member_git_blobs={member: git_blob(content)}),
    )
    return data_dir


@pytest.fixture
def imdb_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir with a small aclImdb_v1.tar.gz (same tree as upstream), its own checksum."""
    from tests.imdb_fixture import write_imdb_archive

    data_dir = tmp_path / "data"
    (data_dir / "imdb").mkdir(parents=True, exist_ok=True)
    path = data_dir / "imdb" / sources.SOURCES["imdb"].filename
    write_imdb_archive(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setitem(sources.SOURCES, "imdb", replace(sources.SOURCES["imdb"], sha256=(digest,)))
    return data_dir
