"""Evaluate a checkpoint on its validation and test splits, rebuilt from the config it carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from seqlab.cli.common import build_trainer
from seqlab.cli.restore import checkpoint_argument, restore_run
from seqlab.outputs import split_metrics, write_json_atomic

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
