"""Evaluate a checkpoint on its validation and test splits, rebuilt from the config it carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from seqlab.cli.common import checkpoint_argument
from seqlab.files import write_json_atomic
from seqlab.run.checkpoint import restore_run
from seqlab.run.record import split_metrics
from seqlab.run.trainer import build_trainer

USAGE = "usage: python evaluate.py ckpt_path=<run>/checkpoints/best.ckpt (other overrides optional)"


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Metrics of ``cfg.ckpt_path`` on the data it was trained on, in natural units."""
    ckpt_path = checkpoint_argument(cfg, USAGE)
    _, datamodule, task = restore_run(ckpt_path, cfg.paths, stage="test")
    trainer, _, _ = build_trainer(cfg)
    val = trainer.validate(task, datamodule)
    test = trainer.test(task, datamodule)
    metrics = {
        "checkpoint": str(ckpt_path),
        "unit": datamodule.spec.unit,
        "val": split_metrics(val, "val"),
        "test": split_metrics(test, "test"),
    }
    write_json_atomic(Path(cfg.paths.output_dir) / "metrics.json", metrics)
    return metrics
