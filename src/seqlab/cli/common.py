"""Shared plumbing of the entry points: composing and building a run, callbacks and loggers,
clean user errors."""

from __future__ import annotations

import errno
import netrc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict
from torch import nn

from seqlab.errors import SeqlabError, print_error
from seqlab.spec import TaskSpec

ROOT = Path(__file__).resolve().parents[3]  # the checkout: conf/, train.py
CONFIG_DIR = ROOT / "conf"


def compose_run(overrides: list[str], output_dir: Path, config_name: str = "train") -> DictConfig:
    """The configuration a ``train.py`` run with ``overrides`` gets, outside a Hydra run (tests,
    benchmarks): composed from ``conf/``, with ``output_dir`` as the run folder."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        cfg.hydra.runtime.output_dir = str(output_dir)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def configured_paths() -> DictConfig:
    """The data and cache directories as ``conf/paths`` sets them (``SEQLAB_DATA_DIR``,
    ``SEQLAB_CACHE_DIR`` or their defaults), for commands that run outside a Hydra run."""
    paths = OmegaConf.load(CONFIG_DIR / "paths" / "default.yaml")
    return OmegaConf.create({key: paths[key] for key in ("data_dir", "cache_dir")})


def build(node: DictConfig, **kwargs: Any) -> Any:
    """``instantiate``, except that a user error raised by the constructor (``model.cell=foo``)
    stays that error instead of Hydra's ``InstantiationException`` with a traceback."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as error:
        cause = error.__cause__
        if isinstance(cause, SeqlabError):
            raise cause from None
        raise


def build_task(
    task_cfg: DictConfig, model: DictConfig | Callable[..., nn.Module], spec: TaskSpec
) -> L.LightningModule:
    """The task LightningModule for a data set's spec, around the net factory (or its config).

    The spec is passed after ``instantiate``: Hydra would turn the TaskSpec dataclass into a
    DictConfig on the way in.
    """
    net = build(model) if isinstance(model, DictConfig) else model
    return build(task_cfg, net=net, _partial_=True)(spec=spec)


def configured_datamodule(overrides: list[str], **values: Any) -> L.LightningDataModule:
    """The DataModule ``python train.py <overrides>`` builds (``conf/data``, ``conf/paths``), not
    yet set up, for commands that run outside a Hydra run; ``values`` replace its config's."""
    return instantiate(compose_run(overrides, Path.cwd()).data, **values)


def build_run(
    cfg: DictConfig,
    net: Callable[..., nn.Module] | None = None,
    datamodule: L.LightningDataModule | None = None,
) -> tuple[L.LightningDataModule, L.LightningModule]:
    """A training run's DataModule, set up for fitting, and its freshly initialised task.

    Seeded first, so the same seed gives the same weights whether train.py or a benchmark builds
    the run. ``net``: the architecture's factory, when already built from ``cfg.model``;
    ``datamodule``: one already set up, for another task with the same first weights.
    """
    L.seed_everything(cfg.seed, workers=True)
    set_threads(cfg.get("threads"))
    if datamodule is None:
        datamodule = instantiate(cfg.data)
        datamodule.prepare_data()
        datamodule.setup("fit")
    task = build_task(cfg.task, cfg.model if net is None else net, datamodule.spec)
    return datamodule, task


def set_threads(threads: int | None) -> None:
    """Run torch's CPU operators on ``threads`` threads (``threads=`` in conf/train.yaml).

    The thread count moves the last digits of a CPU run's metrics (reductions are summed in
    another order), so it is part of the run's configuration and printed in every leaderboard
    command; null keeps torch's default (every core, or ``OMP_NUM_THREADS``).
    """
    if threads is not None:
        torch.set_num_threads(int(threads))


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


def in_multirun() -> bool:
    """Whether this job is one of a Hydra multirun (sweep) rather than a single run."""
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
