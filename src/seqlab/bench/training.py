"""Training and inference throughput of each task family's main model, built as train.py builds
it (`build_run`): through seqlab's Trainer and through a plain PyTorch loop over the same net,
loader and optimiser (the Lightning overhead), and against batch size and window length."""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig, open_dict

from seqlab.run.callbacks import TrainingClock
from seqlab.run.compose import build_run, compose_run
from seqlab.run.trainer import build_trainer

# task family -> the run configuration of its main model (a leaderboard entry)
FAMILIES = {
    "forecasting": ("jena_lstm16", ["experiment=jena_lstm16"]),
    "classification": ("imdb_embedding_bilstm_masked", ["experiment=imdb_embedding_bilstm_masked"]),
    "language model": ("verne_tbptt", ["experiment=verne_tbptt"]),
    "chorales": ("chorales_reference", ["experiment=chorales_reference"]),
    # a net so small (DLinear: 65k weights) that the loop's own cost per step is what is timed
    "long-horizon": ("weather_dlinear_96", ["experiment=weather_dlinear_96"]),
}
# the precision section also times the board entries whose precision it decides, beyond the
# families' main models (trainer.precision in their experiment files cites these rows)
PRECISION = [
    *((family, entry, overrides) for family, (entry, overrides) in FAMILIES.items()),
    *(
        (family, entry, [f"experiment={entry}"])
        for family, entry in [
            ("chorales", "chorales_transformer"),
            ("classification", "imdb_text_cnn"),
            ("classification", "imdb_transformer"),
            ("language model", "verne_transformer"),
            ("forecasting", "jena_transformer"),
        ]
    ),
]
BENCH_RUN = [
    "logger=csv",
    "callbacks.progress=null",
    "callbacks.model_checkpoint=null",
    "callbacks.early_stopping=null",
    "trainer.max_epochs=1",
    "trainer.min_epochs=1",
    "++trainer.max_steps=-1",
    "task.scheduler=null",  # plateau schedulers need validation, which is off here
    "++trainer.limit_val_batches=0",
    "++trainer.num_sanity_val_steps=0",
    "++trainer.enable_progress_bar=false",
    "++trainer.enable_model_summary=false",
]


def bench_config(overrides: list[str], run_dir: Path, device: str) -> DictConfig:
    """A run configuration as train.py composes it, for one epoch of training and no more."""
    return compose_run([*overrides, *BENCH_RUN, f"trainer.accelerator={device}"], run_dir)


def batches(loader: Any, count: int) -> Iterator[Any]:
    """The first ``count`` batches of a loader, cycling it if it is shorter."""
    done = 0
    while done < count:
        for batch in loader:
            yield batch
            done += 1
            if done == count:
                return


def to_device(batch: Any, device: torch.device) -> Any:
    return [t.to(device, non_blocking=True) for t in batch]


def rate(
    loader: Any, count: int, step: Callable[[Any], Any], device: torch.device | None = None
) -> float:
    """Samples per second of ``step`` over the first ``count`` batches, loading included."""
    samples = 0
    started = time.perf_counter()
    for batch in batches(loader, count):
        step(batch if device is None else to_device(batch, device))
        samples += len(batch[-1])
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize()
    return samples / (time.perf_counter() - started)


def plain_loop(
    task: Any, loader: Any, count: int, device: torch.device, bf16: bool, clip: float | None
) -> float:
    """Samples per second of a hand-written training loop over ``count`` batches: the same
    optimiser, loss (the task's `loss`) and gradient clipping as the Trainer's, nothing else."""
    task.to(device).train()
    optimizer = task.configure_optimizers()
    optimizer = optimizer["optimizer"] if isinstance(optimizer, dict) else optimizer
    autocast = torch.autocast(device.type, torch.bfloat16) if bf16 else nullcontext()

    def step(batch: Any) -> None:
        with autocast:
            loss = task.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(task.parameters(), clip)
        optimizer.step()

    return rate(loader, count, step, device)


def lightning_loop(
    cfg: DictConfig, datamodule: L.LightningDataModule, task: L.LightningModule, count: int
) -> float:
    """Samples per second of the same training through seqlab's Trainer (CSV logging on)."""
    with open_dict(cfg):
        cfg.trainer.limit_train_batches = count
    trainer, callbacks, _ = build_trainer(cfg)
    trainer.fit(task, datamodule)
    clock = next(c for c in callbacks if isinstance(c, TrainingClock))
    return clock.samples_per_second


@torch.no_grad()
def inference(task: Any, loader: Any, count: int, device: torch.device, bf16: bool) -> float:
    task.to(device).eval()
    autocast = torch.autocast(device.type, torch.bfloat16) if bf16 else nullcontext()

    def step(batch: Any) -> None:
        with autocast:
            task(*batch[:-1])

    return rate(loader, count, step, device)


def family(name: str, overrides: list[str], count: int, device: str, bf16: bool) -> dict:
    """One task family's row: plain vs Trainer, inference, loader, epoch time. Every arm starts
    from the same weights: each task is built afresh with the run's seed."""
    run_dir = Path(tempfile.mkdtemp(prefix="seqlab-bench-"))
    try:
        cfg = bench_config(overrides, run_dir, device)
        datamodule, task = build_run(cfg)
        torch_device = torch.device("cuda" if device == "gpu" else "cpu")
        clip = cfg.trainer.get("gradient_clip_val")
        loader = datamodule.train_dataloader()
        warm = max(2, count // 10)
        per_batch = (
            warm * cfg.data.batch_size / plain_loop(task, loader, warm, torch_device, bf16, clip)
        )
        # at least `count` batches and about 5 s per arm (up to an epoch): a fast net's
        # few-millisecond steps need many of them for a steady ratio
        count = max(count, min(len(loader), int(5.0 / per_batch)))
        row: dict[str, Any] = {"family": name, "device": device, "bf16": bf16, "batches": count}
        _, task = build_run(cfg, datamodule=datamodule)
        row["plain_samples_per_s"] = plain_loop(task, loader, count, torch_device, bf16, clip)
        if not bf16:
            _, task = build_run(cfg, datamodule=datamodule)
            row["trainer_samples_per_s"] = lightning_loop(cfg, datamodule, task, count)
            row["overhead"] = row["plain_samples_per_s"] / row["trainer_samples_per_s"] - 1
        row["inference_samples_per_s"] = inference(
            task, datamodule.val_dataloader(), count, torch_device, bf16
        )
        row["loader_samples_per_s"] = rate(datamodule.train_dataloader(), count * 3, len)
        row["loader_over_step_rate"] = row["loader_samples_per_s"] / row["plain_samples_per_s"]
        batch_size = cfg.data.batch_size
        row["batch_size"] = batch_size
        row["epoch_s"] = (
            len(loader) * batch_size / row.get("trainer_samples_per_s", row["plain_samples_per_s"])
        )
        row["params"] = sum(p.numel() for p in task.parameters() if p.requires_grad)
        return row
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        gc.collect()


def precision(name: str, overrides: list[str], count: int) -> dict[str, Any]:
    """fp32 against bf16 autocast (what ``trainer.precision=bf16-mixed`` runs) for one family on
    the CPU: the plain loop's samples/s, both arms in this process on the same ``count`` batches
    (a length-bucketed loader gives other batches at each pass), from the same first weights,
    after one warm-up pass each (the first bf16 steps compile kernels)."""
    run_dir = Path(tempfile.mkdtemp(prefix="seqlab-bench-"))
    try:
        cfg = bench_config(overrides, run_dir, "cpu")
        datamodule, task = build_run(cfg)
        loader = list(batches(datamodule.train_dataloader(), count))
        clip = cfg.trainer.get("gradient_clip_val")
        device = torch.device("cpu")
        row: dict[str, Any] = {"family": name, "batches": count}
        for arm, bf16 in (("fp32", False), ("bf16", True)):
            _, task = build_run(cfg, datamodule=datamodule)
            plain_loop(task, loader, max(2, count // 10), device, bf16, clip)  # warm-up
            _, task = build_run(cfg, datamodule=datamodule)
            row[f"{arm}_samples_per_s"] = plain_loop(task, loader, count, device, bf16, clip)
        row["speedup"] = row["bf16_samples_per_s"] / row["fp32_samples_per_s"]
        return row
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        gc.collect()


def scaling(count: int) -> dict[str, list[tuple[int, float]]]:
    """Plain-loop training throughput of the Jena LSTM against batch size and window length."""
    results: dict[str, list[tuple[int, float]]] = {"batch_size": [], "sequence_length": []}
    for size in (32, 64, 128, 256, 512, 1024):
        results["batch_size"].append((size, jena_rate([f"data.batch_size={size}"], count)))
    for length in (30, 60, 120, 240, 480):
        results["sequence_length"].append(
            (length, jena_rate([f"data.sequence_length={length}"], count))
        )
    return results


def jena_rate(extra: list[str], count: int) -> float:
    """Plain-loop samples per second of the Jena LSTM(16) entry with ``extra`` overrides."""
    run_dir = Path(tempfile.mkdtemp(prefix="seqlab-bench-"))
    try:
        datamodule, task = build_run(
            bench_config(["experiment=jena_lstm16", *extra], run_dir, "cpu")
        )
        loader = datamodule.train_dataloader()
        plain_loop(task, loader, 3, torch.device("cpu"), False, None)
        return plain_loop(task, loader, count, torch.device("cpu"), False, None)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
