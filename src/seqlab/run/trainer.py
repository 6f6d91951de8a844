"""The Trainer of a run, with the callbacks and loggers its configuration names."""

from __future__ import annotations

import logging
import netrc
import os
from pathlib import Path
from typing import Any

import lightning as L
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig

from seqlab.errors import SeqlabError
from seqlab.run.compose import build, in_multirun


def instantiate_group(group: DictConfig | None, **declared: Any) -> list[Any]:
    """Every ``_target_`` entry of a config group such as ``callbacks`` or ``logger``; each of
    ``declared`` goes to the entries whose config declares that key (``resume_step``)."""
    if not group:
        return []
    return [
        build(node, **{key: value for key, value in declared.items() if key in node})
        for node in group.values()
        if node and "_target_" in node
    ]


def check_wandb_ready(logger_cfg: DictConfig | None) -> None:
    """Refuse ``logger=wandb`` with no key and no mode, before W&B prompts or fails obscurely."""
    targets = [str(node.get("_target_", "")) for node in (logger_cfg or {}).values() if node]
    if not any(target.endswith("WandbLogger") for target in targets):
        return
    if os.environ.get("WANDB_MODE") or os.environ.get("WANDB_API_KEY"):
        return
    try:
        if netrc.netrc().authenticators("api.wandb.ai"):
            return
    except (FileNotFoundError, netrc.NetrcParseError):
        pass
    raise SeqlabError(
        "logger=wandb needs a W&B account key, and none is set. Either log in "
        "(`wandb login` or WANDB_API_KEY=...), or log offline with no account: "
        "`WANDB_MODE=offline python train.py logger=wandb` (upload later with `wandb sync`)."
    )


def group_sweep_runs(logger_cfg: DictConfig | None) -> None:
    """Runs of one sweep share a W&B group named after the sweep's folder."""
    wandb_cfg = (logger_cfg or {}).get("wandb")
    if wandb_cfg and wandb_cfg.get("group") is None and in_multirun():
        wandb_cfg.group = Path(HydraConfig.get().sweep.dir).name


class NoAdverts(logging.Filter):
    """Drops Lightning's "💡 Tip: try installing litlogger / litmodels" lines: advertising for a
    cloud service, printed at every run, that no seqlab user can act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("💡 Tip:")


logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(NoAdverts())


def build_trainer(
    cfg: DictConfig, resume_step: int | None = None
) -> tuple[L.Trainer, list[L.Callback], list[Any]]:
    """Trainer with the configured callbacks and loggers; loggers that declare ``resume_step``
    continue their logs from that step of a resumed run."""
    check_wandb_ready(cfg.get("logger"))
    group_sweep_runs(cfg.get("logger"))
    callbacks = instantiate_group(cfg.get("callbacks"))
    loggers = instantiate_group(cfg.get("logger"), resume_step=resume_step)
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    return trainer, callbacks, loggers


def close_loggers(loggers: list[Any]) -> None:
    """Finish W&B runs even when training failed, so the record of the failure is kept."""
    for logger in loggers:
        experiment = getattr(logger, "_experiment", None)
        if experiment is not None and hasattr(experiment, "finish"):
            experiment.finish()
