"""The record of one run (``metrics.json``): what it measured, on what, with which code.

`RunRecord` is the file's one declared shape: train.py writes it, and the end-of-run report, the
sweep summary and the leaderboard read it back through `RunRecord.read`, so a field is named and
renamed in one place. ``version`` counts changes of the shape; files written before it existed
(version 0) read the same.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from seqlab.errors import SeqlabError
from seqlab.files import write_json_atomic

RECORD_FILE = "metrics.json"
RECORD_VERSION = 1
# what every reader needs; the rest may be absent from records of older or partial runs
REQUIRED = ("data", "model", "val", "test")


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """What one training run measured (validation and test metrics in natural units), what it
    ran (model, data, task, seed, threads, device, commit, data file) and what it cost."""

    data: str
    model: str
    task: str
    unit: str
    val: dict[str, float]
    test: dict[str, float]
    params: int
    epochs: int
    fit_seconds: float
    train_seconds: float | None
    samples_per_s: float | None
    seed: int
    threads: int
    device: str
    git_commit: str | None
    checkpoint: str | None
    data_source: dict[str, Any]
    run_dir: str
    version: int = RECORD_VERSION
    # the CPU's model and the kernels' instruction set: digits are exact only on the same kind
    cpu: str | None = None
    cpu_capability: str | None = None
    precision: str | None = None  # trainer.precision: 32-true, bf16-mixed, ...

    def write(self, folder: Path) -> Path:
        """``metrics.json`` in ``folder``, atomically."""
        path = Path(folder) / RECORD_FILE
        write_json_atomic(path, dataclasses.asdict(self))
        return path

    @classmethod
    def read(cls, path: Path) -> RunRecord:
        """A run's ``metrics.json`` (or the folder holding it); a file that is not a run's record
        is one `SeqlabError` naming it and the field it lacks."""
        path = Path(path)
        if path.is_dir():
            path = path / RECORD_FILE
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SeqlabError(f"cannot read the run record {path}: {error}") from error
        return cls.from_json(payload, str(path))

    @classmethod
    def from_json(cls, payload: Any, where: str = "the record") -> RunRecord:
        """A record from ``metrics.json``'s parsed content; ``where`` names it in errors."""
        if not isinstance(payload, dict):
            raise SeqlabError(f"{where} is not a run record (a JSON object expected)")
        values: dict[str, Any] = {"version": 0, "data_source": {}}  # written before versions
        for field in dataclasses.fields(cls):
            if field.name in payload:
                values[field.name] = payload[field.name]
            elif field.name in REQUIRED:
                raise SeqlabError(f"{where} is not a run record: it has no {field.name!r}")
            else:
                values.setdefault(field.name, None)
        values["val"], values["test"] = values["val"] or {}, values["test"] or {}
        return cls(**values)

    def metrics(self) -> dict[str, float]:
        """Validation and test metrics as ``{"val/mae": 2.4, "test/mae": 2.6}`` (losses left
        out): what runs are compared on."""
        return flat_metrics(dataclasses.asdict(self))

    def metric(self, key: str) -> float | None:
        """One metric by its logged name (``val/mae``), None when the run has none."""
        split, _, name = key.partition("/")
        return getattr(self, split, {}).get(name) if split in ("val", "test") else None

    def costs(self) -> dict[str, Any]:
        """The columns tables show beside the metrics (sweep summaries, leaderboard.csv)."""
        return {
            "params": self.params,
            "epochs": self.epochs,
            "train_s": self.train_seconds,
            "fit_s": self.fit_seconds,
            "samples_per_s": self.samples_per_s,
        }


def git_commit() -> str | None:
    """The commit the code ran from (with ``-dirty`` if it had local changes), if in a checkout."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def cpu_model() -> str | None:
    """The CPU's model name (``lscpu``'s "Model name", from /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or None


def device_name(accelerator: str) -> str:
    """Human-readable device, as the leaderboard prints it."""
    if accelerator == "gpu" or (accelerator == "auto" and torch.cuda.is_available()):
        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "gpu"
    return f"cpu ({os.cpu_count()} cores)"


def split_metrics(results: list[dict[str, float]], prefix: str) -> dict[str, float]:
    """``[{"val/mae": 2.4}]`` as returned by Lightning → ``{"mae": 2.4}``."""
    merged: dict[str, float] = {}
    for result in results:
        for key, value in result.items():
            if key.startswith(f"{prefix}/") and not key.endswith("_best"):
                merged[key.removeprefix(f"{prefix}/")] = float(value)
    return merged


def override_pairs(overrides: Iterable[str]) -> dict[str, str]:
    """``{key: value}`` of Hydra override strings (``+task.optimizer.lr=3e-3`` gives
    ``task.optimizer.lr: "3e-3"``), for tables that show what each run was given."""
    pairs = (str(line).split("=", 1) for line in overrides)
    return {key.lstrip("+~"): value for key, value in (p for p in pairs if len(p) == 2)}


def flat_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """A metrics.json's validation and test metrics as ``{"val/mae": 2.4, "test/mae": 2.6}``,
    losses left out: what runs are compared on (the end-of-run report, sweeps, the leaderboard)."""
    return {
        f"{split}/{name}": value
        for split in ("val", "test")
        for name, value in (metrics.get(split) or {}).items()
        if name != "loss"
    }
