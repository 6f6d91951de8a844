"""The composition root: a run's configuration composed from ``conf/`` and built into a
DataModule and a task (train.py, evaluate.py, the benchmarks and the leaderboard all build runs
here)."""

from __future__ import annotations

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

from seqlab.errors import SeqlabError
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
    L.seed_everything(cfg.seed, workers=True, verbose=False)  # the seed is in metrics.json
    set_threads(cfg.get("threads"))
    torch.set_flush_denormal(bool(cfg.get("flush_denormal", True)))
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


def in_multirun() -> bool:
    """Whether this job is one of a Hydra multirun (sweep) rather than a single run."""
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
