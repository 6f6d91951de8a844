"""What every entry point shares: a user-fixable error printed as one line, not a traceback."""

from __future__ import annotations

import difflib
import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from seqlab.errors import SeqlabError, print_error
from seqlab.run.compose import ROOT, in_multirun
from seqlab.run.folder import RunFolder

CONFIG_DIR = ROOT / "conf"
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


def trainer_arguments(argv: list[str]) -> list[str]:
    """Command-line arguments with every Lightning Trainer option usable as ``trainer.X=...``.

    ``conf/trainer`` lists only the options seqlab sets; Hydra would refuse the others
    (``trainer.limit_train_batches=5``: "not in struct") unless typed with a ``+``. Those are
    passed on as ``++trainer.X=...``; a name the Trainer does not take (``trainer.max_epoch``)
    is one error naming the nearest option.
    """
    import inspect

    from lightning import Trainer

    options = [name for name in inspect.signature(Trainer.__init__).parameters if name != "self"]
    configured = set(OmegaConf.load(CONFIG_DIR / "trainer" / "default.yaml"))
    out = []
    for argument in argv:
        key, equals, value = argument.partition("=")
        name = key.removeprefix("trainer.")
        if not equals or not key.startswith("trainer.") or "." in name or name in configured:
            out.append(argument)
        elif name in options:
            out.append(f"++{key}={value}")
        else:
            near = difflib.get_close_matches(name, options, n=1)
            hint = f"did you mean trainer.{near[0]}? " if near else ""
            raise SeqlabError(
                f"{key} is not an option of Lightning's Trainer; {hint}"
                "its options: https://lightning.ai/docs/pytorch/stable/common/trainer.html"
            )
    return out


def main_arguments() -> None:
    """Prepare ``sys.argv`` for an entry point's Hydra main (`trainer_arguments`)."""
    try:
        sys.argv[1:] = trainer_arguments(sys.argv[1:])
    except SeqlabError as error:
        print_error(error)
        sys.exit(1)


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
        output_dir = cfg and OmegaConf.select(cfg, "paths.output_dir", default=None)
        if output_dir and not in_multirun():  # a refused command leaves no empty folder
            RunFolder(output_dir).withdraw()
        if in_multirun():
            raise  # the launcher records this job as failed and the sweep goes on
        sys.exit(1)


def checkpoint_argument(cfg: DictConfig, usage: str) -> Path:
    """``cfg.ckpt_path`` as a path; missing or empty, a user error with the usage line."""
    if OmegaConf.is_missing(cfg, "ckpt_path") or not cfg.get("ckpt_path"):
        raise SeqlabError(f"give ckpt_path, the checkpoint to read. {usage}")
    return Path(str(cfg.ckpt_path))
