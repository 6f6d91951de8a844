"""Evaluate a checkpoint on its validation and test splits, rebuilt from the config it carries."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seqlab.cli.common import build_task, build_trainer
from seqlab.errors import SeqlabError
from seqlab.outputs import split_metrics, write_json_atomic


def load_run_config(ckpt_path: Path) -> DictConfig:
    """The resolved training configuration stored in a seqlab checkpoint."""
    if not ckpt_path.is_file():
        raise SeqlabError(
            f"checkpoint {ckpt_path} does not exist; pass ckpt_path=<run>/checkpoints/best.ckpt"
        )
    checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    if "seqlab_config" not in checkpoint:
        raise SeqlabError(
            f"{ckpt_path} was not written by seqlab's train.py (no seqlab_config in it)"
        )
    return OmegaConf.create(checkpoint["seqlab_config"])


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Metrics of ``cfg.ckpt_path`` on the data it was trained on, in natural units."""
    ckpt_path = Path(cfg.ckpt_path)
    run = load_run_config(ckpt_path)
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
