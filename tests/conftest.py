"""Fixtures: tiny data sets in the upstream formats, declared with their own checksums."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from seqlab.data import sources
from tests.helpers import HOURLY_COLUMNS, JENA_COLUMNS, git_blob, jena_rows


@pytest.fixture(autouse=True, scope="session")
def _own_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests' extractions and token caches go to a folder of their own, never into the
    user's (.cache/seqlab): a tiny fake archive unpacked there was once read as the real one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEQLAB_CACHE_DIR", str(tmp_path_factory.mktemp("seqlab-cache")))
        yield


@pytest.fixture
def jena_hourly_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir holding a small hourly extract, declared with its own checksum."""
    data_dir = tmp_path / "data"
    (data_dir / "jena").mkdir(parents=True, exist_ok=True)
    path = data_dir / "jena" / sources.SOURCES["jena_hourly"].filename
    path.write_text("\n".join(jena_rows(1200, 60, HOURLY_COLUMNS)) + "\n")
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
    lines = jena_rows(6 * 1200, 10, JENA_COLUMNS)
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
def chicago_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir with a small ridership.tgz (2015-10 … 2019-12, one repeated day, unsorted)."""
    import io
    import tarfile

    import numpy as np
    import pandas as pd

    data_dir = tmp_path / "data"
    (data_dir / "chicago").mkdir(parents=True, exist_ok=True)
    days = pd.date_range("2015-10-01", "2019-12-31", freq="D")
    rng = np.random.default_rng(0)
    weekend = days.dayofweek >= 5
    rail = np.where(weekend, 300_000, 700_000) + rng.integers(0, 50_000, len(days))
    bus = np.where(weekend, 400_000, 800_000) + rng.integers(0, 50_000, len(days))
    kind = np.where(days.dayofweek == 5, "A", np.where(days.dayofweek == 6, "U", "W"))
    lines = ["service_date,day_type,bus,rail_boardings,total_rides"]
    for day, k, b, r in zip(days, kind, bus, rail, strict=True):
        lines.append(f"{day:%m/%d/%Y},{k},{b},{r},{b + r}")
    lines.insert(400, lines[399])  # a repeated day, as the real file has
    lines[1:] = lines[1:][::-1]  # newest first: the loader must sort
    content = ("\n".join(lines) + "\n").encode()
    path = data_dir / "chicago" / sources.SOURCES["chicago"].filename
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo(sources.SOURCES["chicago"].members[0])
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setitem(
        sources.SOURCES, "chicago", replace(sources.SOURCES["chicago"], sha256=(digest,))
    )
    return data_dir


VERNE_BODY = (
    "THE MYSTERIOUS ISLAND\n\nby Jules Verne\n\n"
    + "".join(
        f"Chapter {i}\n“Are we rising again?” “No. On the contrary.” The balloon fell {i} feet, "
        "and the engineer looked at the sea below, where the island waited.\n\n"
        for i in range(1, 61)
    )
    + "The end, at sèa."  # è: a character the training part never shows
)


@pytest.fixture
def verne_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A short book in Gutenberg's 1268-0.txt layout: BOM, CRLF, header, credits, licence."""
    data_dir = tmp_path / "data"
    (data_dir / "verne").mkdir(parents=True, exist_ok=True)
    text = (
        "The Project Gutenberg EBook of The Mysterious Island, by Jules Verne\n\n"
        "*** START OF THIS PROJECT GUTENBERG EBOOK THE MYSTERIOUS ISLAND ***\n\n\n"
        "Produced by Anthony Matonak, and Trevor Carlson\n\n\n\n"
        f"{VERNE_BODY}\n\n\n"
        "End of the Project Gutenberg EBook of The Mysterious Island, by Jules Verne\n\n"
        "*** END OF THIS PROJECT GUTENBERG EBOOK THE MYSTERIOUS ISLAND ***\n\n"
        "*** START: FULL LICENSE ***\nTHE FULL PROJECT GUTENBERG LICENSE\n"
    )
    path = data_dir / "verne" / sources.SOURCES["verne"].filename
    path.write_bytes("\ufeff".encode() + text.replace("\n", "\r\n").encode())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setitem(
        sources.SOURCES, "verne", replace(sources.SOURCES["verne"], sha256=(digest,))
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


def chorale_rows(chords: int, seed: int) -> str:
    """A chorale CSV in the archive's format: four voices moving by small steps, some rests."""
    import numpy as np

    rng = np.random.default_rng(seed)
    keys = np.array([72, 67, 60, 48])
    lines = ["note0,note1,note2,note3"]
    for step in range(chords):
        if step % 2 == 0:
            keys = np.clip(keys + rng.integers(-2, 3, size=4), 37, 80)
        row = [0 if (step + v) % 29 == 0 else int(k) for v, k in enumerate(keys)]
        lines.append(",".join(str(k) for k in row))
    return "\n".join(lines) + "\n"


@pytest.fixture
def chorales_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny jsb_chorales.tgz: 3 / 2 / 2 chorales of 20-80 chords (one too short to window)."""
    import io
    import tarfile

    data_dir = tmp_path / "data"
    (data_dir / "chorales").mkdir(parents=True, exist_ok=True)
    archive = data_dir / "chorales" / sources.SOURCES["chorales"].filename
    lengths = {"train": [80, 49, 20], "valid": [60, 41], "test": [64, 40]}
    with tarfile.open(archive, "w:gz") as tar:
        number = 0
        for split, sizes in lengths.items():
            for size in sizes:
                data = chorale_rows(size, number).encode()
                info = tarfile.TarInfo(f"jsb_chorales/{split}/chorale_{number:03d}.csv")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                number += 1
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(
        sources.SOURCES, "chorales", replace(sources.SOURCES["chorales"], sha256=(digest,))
    )
    return data_dir
