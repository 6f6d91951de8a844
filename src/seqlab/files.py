"""Every file the project writes goes through `atomic_path` (or `write_text_atomic`,
`write_json_atomic`, `write_torch_atomic`): written to a temporary file beside its destination,
then renamed, with a normal file's permissions.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
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
