"""seqlab.files: the one atomic writer every output goes through."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from seqlab import files as outputs
from seqlab.files import write_json_atomic, write_text_atomic


@pytest.fixture(params=[0o022, 0o002, 0o077], ids=oct)
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_written_files_get_the_permissions_of_a_normal_new_file(tmp_path: Path, umask: int):
    """metrics.json, summary.csv, generate.json… are 0666 & ~umask, like any file, not 0600."""
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    write_json_atomic(tmp_path / "run" / "metrics.json", {"val": {"mae": 2.4}})
    write_text_atomic(tmp_path / "summary.csv", "a,b\n1,2\n")
    for name in ("run/metrics.json", "summary.csv"):
        assert (
            (tmp_path / name).stat().st_mode & 0o777
            == 0o666 & ~umask
            == (plain.stat().st_mode & 0o777)
        ), name
    assert json.loads((tmp_path / "run" / "metrics.json").read_text()) == {"val": {"mae": 2.4}}


def test_atomic_path_gives_torch_save_and_others_a_normal_file(tmp_path: Path, umask: int):
    with outputs.atomic_path(tmp_path / "cache.pt") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".cache.pt.")
        tmp.write_bytes(b"\0\1")
    assert (tmp_path / "cache.pt").read_bytes() == b"\0\1"
    assert (tmp_path / "cache.pt").stat().st_mode & 0o777 == 0o666 & ~umask
    folder = outputs.new_temp_beside(tmp_path / "extracted", directory=True)
    assert folder.is_dir() and folder.stat().st_mode & 0o777 == 0o777 & ~umask


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path):
    path = tmp_path / "metrics.json"
    write_text_atomic(path, "old\n")
    with pytest.raises(RuntimeError), outputs.atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_torch_payloads_are_written_atomically(tmp_path: Path):
    outputs.write_torch_atomic(tmp_path / "imdb" / "vectors.pt", {"words": ["a"]})
    assert torch.load(tmp_path / "imdb" / "vectors.pt") == {"words": ["a"]}
    assert [p.name for p in (tmp_path / "imdb").iterdir()] == ["vectors.pt"]
