"""A trained run rebuilt from its checkpoint: the one path of evaluate.py, generate.py, predict.py
and of a resumed training run.

`load_checkpoint` is the one reader of checkpoint files: a missing, empty or foreign file (text,
a zip that is not a PyTorch file, a tensor, a checkpoint another program wrote) is one user error
naming the file and what is expected. `restore_run` reads it once and rebuilds the run's
DataModule and task from the configuration it carries, with the data and cache directories of
this machine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import lightning as L
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seqlab.data.base import SeriesData, TextData
from seqlab.errors import SeqlabError
from seqlab.run.compose import build_task

EXPECTED = "expected a .ckpt file written by seqlab's train.py (<run>/checkpoints/best.ckpt)"
# modules that moved (issue 25: the house, second pass): a checkpoint written before names
# their old place in the configuration it carries, which is read with the new one
MOVED_MODULES = {
    "seqlab.runs.": "seqlab.run.folder.",
    "seqlab.callbacks.": "seqlab.run.callbacks.",
    "seqlab.loggers.": "seqlab.run.loggers.",
    "seqlab.curves.": "seqlab.run.curves.",
    "seqlab.gradflow.": "seqlab.run.gradflow.",
    "seqlab.sweeps.": "seqlab.compare.sweeps.",
}
# the places a run's data config names that belong to the machine, not to the run
MACHINE_PATHS = ("data_dir", "cache_dir")
# what a resumed run may set differently from its checkpoint's: how the data are read, not what
RESUME_MAY_CHANGE = {"data.num_workers", "data.download", *(f"data.{k}" for k in MACHINE_PATHS)}


def flat(config: Any, prefix: str = "") -> dict[str, Any]:
    """``{"model.cell": "lstm", ...}``: a nested configuration as dotted keys."""
    if isinstance(config, dict):
        pairs: dict[str, Any] = {}
        for key, value in config.items():
            pairs.update(flat(value, f"{prefix}{key}."))
        return pairs
    return {prefix[:-1]: config}


def resume_checkpoint(ckpt_path: str | None, output_dir: Path) -> Path | None:
    """Where the checkpoint a run continues from lies: ``last`` is this folder's; a missing file
    is an error, not a silent fresh start. (`Resume.find` reads it, once.)"""
    if ckpt_path is None:
        return None
    path = output_dir / "checkpoints" / "last.ckpt" if ckpt_path == "last" else Path(ckpt_path)
    if path.is_file():
        return path
    if ckpt_path == "last":
        raise SeqlabError(
            f"ckpt_path=last, but {output_dir} has no checkpoints/last.ckpt to resume"
            + other_checkpoints(output_dir, path)
        )
    raise SeqlabError(
        f"ckpt_path={ckpt_path}: no such file; give a checkpoint written by train.py "
        "(<run>/checkpoints/last.ckpt), or ckpt_path=last with hydra.run.dir=<run folder>"
    )


def other_checkpoints(output_dir: Path, failed: Path) -> str:
    """What a run folder offers when its last.ckpt is missing or unreadable: its newest readable
    checkpoint and the setting that resumes from it, or the ways to start afresh."""
    found = []
    for candidate in sorted((output_dir / "checkpoints").glob("*.ckpt")):
        if candidate == failed:
            continue
        try:
            contents = load_checkpoint(candidate).contents
        except SeqlabError:
            continue
        found.append(
            (int(contents.get("global_step", 0)), int(contents.get("epoch", 0)), candidate)
        )
    if not found:
        return (
            "; it holds no other readable checkpoint: start a new run (drop ckpt_path, or "
            "overwrite=true to replace this folder's results)"
        )
    step, epoch, newest = max(found)
    return (
        f"; its newest readable checkpoint is {newest.name} (epoch {epoch}, step {step:,}): "
        f"resume from that with ckpt_path={newest}"
    )


class Checkpoint(NamedTuple):
    """A seqlab checkpoint read once: its path, its contents and the run's configuration."""

    path: Path
    contents: dict[str, Any]
    config: DictConfig


class Resume(NamedTuple):
    """What a resumed training run needs, read from its checkpoint once: the file Lightning
    continues from, the step the loggers continue at, and the run's configuration. The weights
    are not kept: Lightning reads them itself, and a run should not hold a second copy of them
    (and of the optimiser's state) in memory while it trains."""

    path: str
    step: int
    epoch: int
    config: DictConfig

    @classmethod
    def find(cls, ckpt_path: str | None, output_dir: Path) -> Resume | None:
        """The resume ``ckpt_path`` asks for (``last``: this folder's), or None for a new run;
        a missing or foreign file is a `SeqlabError`, not a silent fresh start."""
        path = resume_checkpoint(ckpt_path, output_dir)
        if path is None:
            return None
        try:
            checkpoint = load_checkpoint(path)
        except SeqlabError as error:
            if ckpt_path != "last":
                raise
            raise SeqlabError(f"{error}{other_checkpoints(output_dir, path)}") from error
        contents = checkpoint.contents
        step, epoch = int(contents.get("global_step", 0)), int(contents.get("epoch", 0))
        return cls(str(checkpoint.path), step, epoch, checkpoint.config)

    def differences(self, cfg: DictConfig) -> list[str]:
        """The settings of ``cfg``'s model, data and task that differ from those the checkpoint
        was trained with (``model.cell: lstm -> gru``); a key only one side has is left out."""
        sections = [k for k in ("model", "data", "task") if k in cfg and k in self.config]
        ours = flat({k: OmegaConf.to_container(cfg[k], resolve=True) for k in sections})
        theirs = flat({k: OmegaConf.to_container(self.config[k]) for k in sections})
        return [
            f"{key}: {theirs[key]} -> {value}"
            for key, value in ours.items()
            if key in theirs and theirs[key] != value and key not in RESUME_MAY_CHANGE
        ]

    def check_matches(self, cfg: DictConfig) -> None:
        """Refuse, before anything changes, a resume whose model, data or task differ from the
        checkpoint's: the weights would not fit, or the run would silently change course."""
        changed = self.differences(cfg)
        if changed:
            shown = "; ".join(changed[:4]) + (
                f"; and {len(changed) - 4} more" if changed[4:] else ""
            )
            raise SeqlabError(
                f"ckpt_path={self.path} was trained with other settings ({shown}); nothing was "
                "changed. Resume with the run's own settings, or start a new run with these"
            )


class RestoredRun(NamedTuple):
    """A checkpoint's run: the checkpoint, its DataModule and its task with the trained weights."""

    checkpoint: Checkpoint
    datamodule: L.LightningDataModule
    task: L.LightningModule


def load_checkpoint(ckpt_path: Path | str) -> Checkpoint:
    """Read a seqlab checkpoint; anything else is a `SeqlabError` naming the file."""
    path = Path(ckpt_path)
    if path.is_dir():
        raise SeqlabError(f"ckpt_path={path} is a folder, not a checkpoint file; {EXPECTED}")
    if not path.is_file():
        raise SeqlabError(f"checkpoint {path} does not exist; {EXPECTED}")
    size = path.stat().st_size
    if size == 0:
        raise SeqlabError(f"checkpoint {path} is an empty file (0 bytes); {EXPECTED}")
    try:
        contents = torch.load(path, map_location="cpu", weights_only=False)
    except OSError as error:
        raise SeqlabError(f"cannot read checkpoint {path}: {error.strerror or error}") from error
    except Exception as error:  # noqa: BLE001 (a foreign file fails in whatever way it fails)
        first = re.split(r"(?<=\.)\s|\n", str(error).strip(), maxsplit=1)[0]
        reason = first[:160]  # the first sentence of what torch.load said
        raise SeqlabError(
            f"{path} is not a PyTorch checkpoint ({size:,} bytes that torch.load cannot read: "
            f"{type(error).__name__}: {reason}); {EXPECTED}"
        ) from error
    if not isinstance(contents, dict) or not isinstance(contents.get("seqlab_config"), dict):
        raise SeqlabError(
            f"{path} was not written by seqlab's train.py (no seqlab_config in it); {EXPECTED}"
        )
    if not isinstance(contents.get("state_dict"), dict):
        raise SeqlabError(f"{path} holds no model weights (no state_dict in it); {EXPECTED}")
    return Checkpoint(path, contents, OmegaConf.create(current_targets(contents["seqlab_config"])))


def current_targets(config: Any) -> Any:
    """``config`` with every ``_target_`` of a module that has moved since it was written
    pointing at the module's place today (`MOVED_MODULES`)."""
    if isinstance(config, dict):
        return {key: current_targets(value) for key, value in config.items()}
    if isinstance(config, list):
        return [current_targets(value) for value in config]
    if isinstance(config, str):
        for old, new in MOVED_MODULES.items():
            if config.startswith(old):
                return new + config.removeprefix(old)
    return config


def restore_run(
    ckpt_path: Path | str,
    paths: Mapping[str, Any],
    stage: str | None = "test",
    check: Callable[[Checkpoint, L.LightningDataModule], None] | None = None,
) -> RestoredRun:
    """The run ``ckpt_path`` holds, rebuilt from the configuration inside it, the file read once.

    The data and cache directories are this machine's (``paths``, as ``conf/paths`` sets them):
    the run may have been trained elsewhere. ``stage`` is the DataModule's set-up stage; None
    reads no data and restores what the DataModule saved in the checkpoint instead (a fitted
    text vocabulary). ``check`` refuses a run the command cannot serve, before data are read.
    """
    checkpoint = load_checkpoint(ckpt_path)
    data_cfg = checkpoint.config.data
    for key in MACHINE_PATHS:
        if key in data_cfg:
            data_cfg[key] = str(paths[key])
    datamodule = instantiate(data_cfg)
    if check is not None:
        check(checkpoint, datamodule)
    if stage is None:
        if not isinstance(datamodule, TextData | SeriesData):
            raise SeqlabError(
                f"{checkpoint.path}: data={type(datamodule).__name__} keeps no fitted state to "
                "restore without reading its data"
            )
        datamodule.load_state_dict(checkpoint.contents.get(type(datamodule).__qualname__) or {})
        spec = datamodule.publish_spec()
    else:
        datamodule.prepare_data()
        datamodule.setup(stage)
        spec = datamodule.spec
    task = build_task(checkpoint.config.task, checkpoint.config.model, spec)
    task.load_state_dict(checkpoint.contents["state_dict"])
    return RestoredRun(checkpoint, datamodule, task)
