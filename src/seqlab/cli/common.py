"""What every entry point shares: a user-fixable error printed as one line, not a traceback."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from seqlab.errors import SeqlabError, print_error
from seqlab.run.compose import in_multirun

# where each place a run writes is set, for the message when it cannot be written
PLACES = {
    "paths.output_dir": "hydra.run.dir",
    "paths.cache_dir": "SEQLAB_CACHE_DIR",
    "paths.data_dir": "SEQLAB_DATA_DIR",
}


def unwritable(error: OSError, cfg: DictConfig) -> SeqlabError | None:
    """A permission or read-only-disk error as one line naming the setting that moves the place
    (``hydra.run.dir``, ``SEQLAB_CACHE_DIR``, ``SEQLAB_DATA_DIR``); None for other errors."""
    if error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS) or not error.filename:
        return None
    path = Path(os.fsdecode(error.filename)).absolute()
    setting = next(
        (
            name
            for key, name in PLACES.items()
            if (place := OmegaConf.select(cfg, key, default=None))
            and path.is_relative_to(Path(str(place)).absolute())
        ),
        None,
    )
    fix = f"point {setting} at a writable folder" if setting else "choose a writable place"
    return SeqlabError(f"cannot write {path} ({error.strerror}); {fix}")


def run_cli(command: Callable[[DictConfig], Any], cfg: DictConfig) -> Any:
    """Run an entry point; a user-fixable ``SeqlabError`` (or a place it cannot write) prints
    one message, not a traceback."""
    try:
        try:
            return command(cfg)
        except OSError as error:
            if (explained := unwritable(error, cfg)) is None:
                raise
            raise explained from error
    except SeqlabError as error:
        print_error(error)
        if in_multirun():
            raise  # the launcher records this job as failed and the sweep goes on
        sys.exit(1)


def checkpoint_argument(cfg: DictConfig, usage: str) -> Path:
    """``cfg.ckpt_path`` as a path; missing or empty, a user error with the usage line."""
    if OmegaConf.is_missing(cfg, "ckpt_path") or not cfg.get("ckpt_path"):
        raise SeqlabError(f"give ckpt_path, the checkpoint to read. {usage}")
    return Path(str(cfg.ckpt_path))
