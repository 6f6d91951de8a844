"""What a run leaves in its folder: metrics.json written atomically, with provenance.

Every file the project writes goes through `atomic_path` (or `write_text_atomic`,
`write_json_atomic`, `write_torch_atomic`): written to a temporary file beside its destination,
then renamed, with a normal file's permissions.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import torch


def new_temp_beside(path: Path, suffix: str = ".tmp", directory: bool = False) -> Path:
    """A new, empty temporary file (or folder) in ``path``'s folder, named ``.<name>.<random>``.

    Created with mode 0666 (0777 for a folder), so the umask and the folder's default ACL give
    it the permissions of any other new file there. ``tempfile.mkstemp`` would give 0600 (and
    ``mkdtemp`` 0700), which the final rename would then carry over to the project's outputs.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}{suffix}"
        try:
            if directory:
                os.mkdir(tmp, 0o777)
            else:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"no free temporary name beside {path}")


@contextlib.contextmanager
def atomic_path(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary file to write ``path``'s content to; it replaces ``path`` when the block ends
    without an exception, and is removed otherwise: readers never see half a file.

    ``with atomic_path(out) as tmp: torch.save(payload, tmp)``. The file gets the permissions of
    a normal new file in the folder (see `new_temp_beside`).
    """
    tmp = new_temp_beside(path, suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # a no-op after the rename


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path``, then rename: readers never see half a file."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """metrics.json and friends, atomically."""
    text = json.dumps(payload, indent=2, ensure_ascii=False, default=str)
    write_text_atomic(path, text + "\n")


def write_torch_atomic(path: Path, payload: Any) -> None:
    """Caches and word vectors (``torch.save``), atomically: a killed run leaves no half file."""
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


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
