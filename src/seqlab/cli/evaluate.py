"""Evaluate a checkpoint on its validation and test splits, rebuilt from the config it carries.

`load_checkpoint` is the one reader of checkpoint files for evaluate.py, predict.py and
generate.py: a missing, empty or foreign file (text, a zip that is not a PyTorch file, a tensor, a
checkpoint another program wrote) is one user error naming the file and what is expected.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seqlab.cli.common import build_task, build_trainer
from seqlab.errors import SeqlabError
from seqlab.outputs import split_metrics, write_json_atomic

USAGE = "usage: python evaluate.py ckpt_path=<run>/checkpoints/best.ckpt (other overrides optional)"
EXPECTED = "expected a .ckpt file written by seqlab's train.py (<run>/checkpoints/best.ckpt)"


class Checkpoint(NamedTuple):
    """A seqlab checkpoint read once: its path, its contents and the run's configuration."""

    path: Path
    contents: dict[str, Any]
    config: DictConfig


def checkpoint_argument(cfg: DictConfig, usage: str) -> Path:
    """``cfg.ckpt_path`` as a path; missing or empty, a user error with the usage line."""
    if OmegaConf.is_missing(cfg, "ckpt_path") or not cfg.get("ckpt_path"):
        raise SeqlabError(f"give ckpt_path, the checkpoint to read. {usage}")
    return Path(str(cfg.ckpt_path))


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
    return Checkpoint(path, contents, OmegaConf.create(contents["seqlab_config"]))


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Metrics of ``cfg.ckpt_path`` on the data it was trained on, in natural units."""
    ckpt_path = checkpoint_argument(cfg, USAGE)
    run = load_checkpoint(ckpt_path).config
    run.data.data_dir = cfg.paths.data_dir  # the data may live elsewhere on this machine
    datamodule = instantiate(run.data)
    datamodule.prepare_data()
    datamodule.setup("test")
    task = build_task(run.task, run.model, datamodule.spec)
    trainer, _, _ = build_trainer(cfg)
    # evaluation needs none of the training callbacks Lightning would ask to restore
    warnings.filterwarnings("ignore", message=".*callbacks used to create the checkpoint.*")
    val = trainer.validate(task, datamodule, ckpt_path=str(ckpt_path), weights_only=False)
    test = trainer.test(task, datamodule, ckpt_path=str(ckpt_path), weights_only=False)
    metrics = {
        "checkpoint": str(ckpt_path),
        "unit": datamodule.spec.unit,
        "val": split_metrics(val, "val"),
        "test": split_metrics(test, "test"),
    }
    write_json_atomic(Path(cfg.paths.output_dir) / "metrics.json", metrics)
    return metrics
