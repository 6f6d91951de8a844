"""Train, validate and test one model on one data set; write the run's folder."""

from __future__ import annotations

import time
from pathlib import Path

import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.markup import escape

from seqlab.run.artifacts import write_artifacts
from seqlab.run.callbacks import TrainingClock
from seqlab.run.checkpoint import Resume
from seqlab.run.compose import build, build_run
from seqlab.run.folder import RunFolder
from seqlab.run.loggers import log_outcome
from seqlab.run.options import check_options
from seqlab.run.record import (
    RunRecord,
    cpu_model,
    device_name,
    git_commit,
    override_pairs,
    split_metrics,
)
from seqlab.run.trainer import build_trainer, close_loggers
from seqlab.tasks.base import SeqlabTask
from seqlab.tasks.network import check_net_options


def choice(group: str, cfg: DictConfig) -> str:
    """The option picked for a config group (``lstm`` for ``model=lstm``)."""
    if HydraConfig.initialized():
        return str(HydraConfig.get().runtime.choices.get(group, "?"))
    return str(cfg.get("_choices_", {}).get(group, "?"))


def given(cfg: DictConfig) -> dict[str, str]:
    """``{key: value}`` of the overrides the run was started with (none outside a Hydra run)."""
    return override_pairs(HydraConfig.get().overrides.task) if HydraConfig.initialized() else {}


def train(cfg: DictConfig) -> RunRecord:
    """Fit, then validate and test the best checkpoint; returns the run's record (metrics.json).

    Option values and the model are checked before any data are read; the run folder is
    claimed for this process (``seqlab.run.folder``) and its ``status.json`` says how the run ended.
    """
    output_dir = Path(cfg.paths.output_dir)
    folder = RunFolder(output_dir)
    with folder.refusable():  # every check first: a refused run deletes or rewrites nothing
        check_options(cfg)
        resume = Resume.find(cfg.get("ckpt_path"), output_dir)
        if resume is not None:
            resume.check_matches(cfg)
        net = build(cfg.model)
        check_net_options(net)  # model.cell=foo is refused before the data are loaded
        datamodule, task = build_run(cfg, net)
    with folder.running(resume=resume is not None, overwrite=bool(cfg.get("overwrite"))):
        announce(output_dir)
        return _train(cfg, datamodule, task, output_dir, resume)


@rank_zero_only
def announce(output_dir: Path) -> None:
    """The run folder, first: a run followed in a log file (nohup, SLURM) says where it writes."""
    Console(soft_wrap=True).print(
        f"[bold]run folder:[/] {escape(str(output_dir))}", highlight=False
    )


def _train(
    cfg: DictConfig,
    datamodule: L.LightningDataModule,
    task: SeqlabTask,
    output_dir: Path,
    resume: Resume | None,
) -> RunRecord:
    task.run_config = OmegaConf.to_container(cfg, resolve=True)
    task.title = f"{choice('model', cfg)} on {choice('data', cfg)}"
    step = resume.step if resume else None
    trainer, callbacks, loggers = build_trainer(cfg, resume_step=step)
    try:
        started = time.perf_counter()
        checkpoint = None
        if task.trainable():
            ckpt_path = resume.path if resume else None
            trainer.fit(task, datamodule, ckpt_path=ckpt_path, weights_only=False)
            checkpoint = trainer.checkpoint_callback.best_model_path or None
        fit_seconds = time.perf_counter() - started
        val = trainer.validate(task, datamodule, ckpt_path=checkpoint, weights_only=False)
        test = (
            trainer.test(task, datamodule, ckpt_path=checkpoint, weights_only=False)
            if cfg.test
            else []
        )
        if trainer.is_global_zero:  # while the loggers are open: media may go to W&B too
            write_artifacts(task, datamodule, output_dir, task.title, loggers)
    finally:
        close_loggers(loggers)
        if torch.distributed.is_initialized():
            # without this, DDP on CPU (gloo) can abort at interpreter exit
            torch.distributed.destroy_process_group()
    clock = next((c for c in callbacks if isinstance(c, TrainingClock)), None)
    spec = datamodule.spec
    record = RunRecord(
        data=choice("data", cfg),
        model=choice("model", cfg),
        task=spec.kind,
        unit=spec.unit,
        val=split_metrics(val, "val"),
        test=split_metrics(test, "test"),
        params=sum(p.numel() for p in task.parameters() if p.requires_grad),
        epochs=trainer.current_epoch if task.trainable() else 0,
        fit_seconds=round(fit_seconds, 3),
        train_seconds=round(clock.seconds, 3) if clock else None,
        samples_per_s=round(clock.samples_per_second, 1) if clock and clock.seconds else None,
        seed=cfg.seed,
        threads=torch.get_num_threads(),
        device=device_name(str(cfg.trainer.get("accelerator", "auto"))),
        git_commit=git_commit(),
        checkpoint=checkpoint,
        data_source=datamodule.provenance,
        run_dir=str(output_dir),
        cpu=cpu_model(),
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        precision=str(cfg.trainer.get("precision", "32-true")),
    )
    if trainer.is_global_zero:
        record.write(output_dir)
        chosen = {"model": record.model, "data": record.data, **given(cfg)}
        log_outcome(loggers, chosen, record.metrics())
        report(record, task.metric_units())
    return record


def report(record: RunRecord, units: dict[str, str]) -> None:
    """The two lines a person looks for at the end of a run (``units``: of the metrics that
    read in the data's own units)."""
    parts = []
    for key, value in record.metrics().items():
        split, _, name = key.partition("/")
        unit = f" {units[name]}" if units.get(name) else ""
        shown = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"  # 19,601 riders
        parts.append(f"{split} {name} {shown}{unit}")
    # soft_wrap: a long path stays on one line, to be copied, also in a log file or CI
    console = Console(soft_wrap=True)
    console.print(f"[bold]run folder:[/] {escape(record.run_dir)}", highlight=False)
    summary = f"[bold]{record.model} on {record.data}:[/] " + ", ".join(parts)
    console.print(summary, highlight=False)
