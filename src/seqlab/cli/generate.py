"""Sample from a trained language model: text to read, or a chorale to hear and look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import get_class
from omegaconf import DictConfig
from rich.console import Console

from seqlab.cli.common import checkpoint_argument
from seqlab.errors import SeqlabError
from seqlab.files import write_json_atomic
from seqlab.run.checkpoint import Checkpoint, restore_run
from seqlab.run.options import SAMPLING, check_options
from seqlab.tasks.capabilities import Generator

USAGE = (
    'usage: python generate.py ckpt_path=<run>/checkpoints/best.ckpt (optional: prompt="..." '
    "length=... temperature=... top_k=... seed=...)"
)


def generative(checkpoint: Checkpoint, datamodule: L.LightningDataModule) -> None:
    """Refuse a run whose task does not generate (a forecaster, a classifier)."""
    task = checkpoint.config.task._target_
    if not issubclass(get_class(task), Generator):
        raise SeqlabError(
            f"{checkpoint.path} is a {task.rsplit('.', 1)[-1]} run; generate.py samples "
            "from language models (data=verne, data=chorales or data=corpus)"
        )


def generate(cfg: DictConfig) -> dict[str, Any]:
    """Rebuild data and model from ``cfg.ckpt_path``, sample, and write the sample's files.

    The same command gives the same sample: sampling draws from a generator seeded with
    ``cfg.seed``. Writes ``sample.*`` and ``generate.json`` (settings, speed) to the run folder.
    """
    check_options(cfg, SAMPLING)  # length=-5, temperature=-1: one line, before anything is read
    ckpt_path = checkpoint_argument(cfg, USAGE)
    _, datamodule, task = restore_run(ckpt_path, cfg.paths, stage="predict", check=generative)
    device = cfg.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    task.to(device)
    output_dir = Path(cfg.paths.output_dir)
    info = task.write_sample(
        datamodule,
        output_dir / "sample",
        prompt=cfg.prompt,
        length=cfg.length,
        temperature=cfg.temperature,
        top_k=cfg.top_k,
        seed=cfg.seed,
    )
    info = {"checkpoint": str(ckpt_path), "device": device, **info}
    write_json_atomic(output_dir / "generate.json", info)
    console = Console()
    for name in info["files"]:
        if name.endswith(".txt"):
            console.print(Path(name).read_text(encoding="utf-8"), highlight=False, markup=False)
    speed = info[f"{info['unit']}_per_s"]
    console.print(
        f"[bold]{info['generated']} {info['unit']}[/] in {info['seconds']:.2f} s "
        f"({speed} {info['unit']}/s on {device}); files: {', '.join(info['files'])}",
        highlight=False,
    )
    return info
