"""A run folder's life: who is writing it, whether it finished, how to continue it.

``status.json`` says what became of the run (``running``, ``finished``, ``interrupted``,
``failed``) so that a folder is never mistaken for a finished run, a sweep can list its failed
jobs, and an interrupted run names the command that resumes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seqlab.outputs import write_json_atomic

STATUS_FILE = "status.json"


def read_status(run_dir: Path) -> dict[str, Any]:
    """The folder's ``status.json`` (``{}`` when there is none or it cannot be read)."""
    try:
        status = json.loads((Path(run_dir) / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return status if isinstance(status, dict) else {}


def write_status(run_dir: Path, status: str, **fields: Any) -> None:
    """Record ``status`` (and details such as ``error``) in the folder, keeping earlier fields."""
    record = {**read_status(run_dir), "status": status, **fields}
    write_json_atomic(Path(run_dir) / STATUS_FILE, record)
