"""seqlab.run.record: metrics.json's one shape, written and read back by every reader."""

import json
from pathlib import Path

import pytest

from seqlab.errors import SeqlabError
from seqlab.run.record import RECORD_VERSION, RunRecord, flat_metrics

FIELDS = {
    "data": "jena",
    "model": "lstm",
    "task": "forecasting",
    "unit": "°C",
    "val": {"mae": 2.4, "loss": 0.1},
    "test": {"mae": 2.6},
    "params": 3,
    "epochs": 2,
    "fit_seconds": 1.5,
    "train_seconds": 1.0,
    "samples_per_s": 100.0,
    "seed": 42,
    "threads": 1,
    "device": "cpu (2 cores)",
    "git_commit": None,
    "checkpoint": None,
    "data_source": {},
    "run_dir": "run",
}


def test_flat_metrics_are_what_runs_are_compared_on():
    metrics = {"val": {"mae": 2.4, "loss": 0.1}, "test": {"mae": 2.6}, "params": 3}
    assert flat_metrics(metrics) == {"val/mae": 2.4, "test/mae": 2.6}
    assert flat_metrics({"val": {"acc": 0.9}, "test": None}) == {"val/acc": 0.9}


def test_a_record_reads_back_as_written(tmp_path: Path):
    record = RunRecord(**FIELDS)
    path = record.write(tmp_path)
    assert json.loads(path.read_text())["version"] == RECORD_VERSION
    again = RunRecord.read(tmp_path)
    assert again == record
    assert again.metrics() == {"val/mae": 2.4, "test/mae": 2.6}
    assert again.metric("val/mae") == 2.4 and again.metric("test/acc") is None
    assert again.costs()["train_s"] == 1.0


def test_a_record_written_before_versions_reads_as_version_0(tmp_path: Path):
    old = {k: v for k, v in FIELDS.items() if k not in ("threads", "device", "data_source")}
    (tmp_path / "metrics.json").write_text(json.dumps(old))
    record = RunRecord.read(tmp_path / "metrics.json")
    assert record.version == 0 and record.threads is None and record.data_source == {}


def test_a_file_that_is_not_a_record_is_one_error(tmp_path: Path):
    (tmp_path / "metrics.json").write_text(json.dumps({"val": {}}))
    with pytest.raises(SeqlabError, match="has no 'data'"):
        RunRecord.read(tmp_path)
    (tmp_path / "metrics.json").write_text("[1]")
    with pytest.raises(SeqlabError, match="not a run record"):
        RunRecord.read(tmp_path)
