"""What a run leaves in its folder: metrics.json written atomically, with provenance."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import torch


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path``, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """metrics.json and friends, atomically."""
    text = json.dumps(payload, indent=2, ensure_ascii=False, default=str)
    write_text_atomic(path, text + "\n")


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
