"""Performance benchmarks: ``make bench`` → benchmarks/results.json, README.md and PNG plots.

    python scripts/bench.py [--batches 40] [--quick] [--imdb-full-epochs] [--only families ...]

Everything is measured in this one process, on this machine, on the real data:

- for each task family's main model (the run configuration of a leaderboard entry): training
  throughput through seqlab's Trainer (CSV logging on) and through a plain PyTorch loop over the
  same net, loader and optimiser (the Lightning overhead), inference throughput, time per epoch,
  and the DataModule's own throughput against the training step rate;
- the Jena DataModule's memory: what it keeps and its peak while being set up and read, against
  the float32 series;
- throughput against batch size and sequence length (Jena LSTM), as a plot;
- IMDB vectorisation (cold and cached) and bucketed against unsorted epochs
  (`scripts/bench_imdb.py`);
- on a GPU when there is one: the families again on it, in float32 and bf16 autocast.

Targets (the issues'): Lightning overhead <= 10 %, loader >= 5x the training step rate, Jena
DataModule peak <= 2x the float32 series, IMDB cold <= 10 s, cached <= 2 s, bucketed >= 3x.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import lightning as L
import matplotlib
import torch
from hydra.utils import instantiate
from omegaconf import open_dict
from torch.nn import functional as F

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from seqlab.callbacks import TrainingClock  # noqa: E402
from seqlab.cli.common import build_task, build_trainer, compose_run  # noqa: E402
from seqlab.data.streams import IGNORE  # noqa: E402
from seqlab.outputs import device_name, git_commit, write_json_atomic, write_text_atomic  # noqa: E402
from seqlab.tasks.language_model import LanguageModelTask  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks"
sys.path.insert(0, str(ROOT / "scripts"))
import bench_imdb  # noqa: E402

# task family -> the run configuration of its main model (a leaderboard entry)
FAMILIES = {
    "forecasting": ("jena_lstm16", ["experiment=jena_lstm16"]),
    "classification": ("imdb_embedding_bilstm_masked", ["experiment=imdb_embedding_bilstm_masked"]),
    "language model": ("verne_tbptt", ["experiment=verne_tbptt"]),
    "chorales": ("chorales_reference", ["experiment=chorales_reference"]),
}
BENCH_RUN = [
    "logger=csv",
    "callbacks.rich_progress_bar=null",
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


def setup(overrides: list[str], run_dir: Path, device: str) -> tuple[Any, Any]:
    """Configuration and set-up DataModule of one run configuration."""
    cfg = compose_run([*overrides, *BENCH_RUN, f"trainer.accelerator={device}"], run_dir)
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    return cfg, datamodule


def fresh_task(cfg: Any, datamodule: Any) -> Any:
    """A newly initialised task (same seed, so every arm starts from the same weights)."""
    L.seed_everything(cfg.seed, workers=True)
    return build_task(cfg.task, cfg.model, datamodule.spec)


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


def plain_loss(task: Any, batch: Any) -> torch.Tensor:
    """The training loss as a plain PyTorch loop computes it: forward, loss, nothing else."""
    if isinstance(task, LanguageModelTask):
        x, y = batch
        logits, _ = task(x)
        return F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=IGNORE)
    return task._step(batch)[0]


def rate(loader: Any, count: int, step: Any, device: torch.device | None = None) -> float:
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
    optimiser, loss and gradient clipping as the Trainer's, nothing else."""
    task.to(device).train()
    optimizer = task.configure_optimizers()
    optimizer = optimizer["optimizer"] if isinstance(optimizer, dict) else optimizer
    autocast = torch.autocast(device.type, torch.bfloat16) if bf16 else nullcontext()

    def step(batch: Any) -> None:
        with autocast:
            loss = plain_loss(task, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(task.parameters(), clip)
        optimizer.step()

    return rate(loader, count, step, device)


def lightning_loop(cfg: Any, datamodule: Any, task: Any, count: int) -> float:
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
    """One task family's row: plain vs Trainer, inference, loader, epoch time."""
    run_dir = Path(tempfile.mkdtemp(prefix="seqlab-bench-"))
    try:
        cfg, datamodule = setup(overrides, run_dir, device)
        torch_device = torch.device("cuda" if device == "gpu" else "cpu")
        clip = cfg.trainer.get("gradient_clip_val")
        loader = datamodule.train_dataloader()
        task = fresh_task(cfg, datamodule)
        warm = max(2, count // 10)
        per_batch = (
            warm * cfg.data.batch_size / plain_loop(task, loader, warm, torch_device, bf16, clip)
        )
        # at least `count` batches and about 5 s per arm (up to an epoch): a fast net's
        # few-millisecond steps need many of them for a steady ratio
        count = max(count, min(len(loader), int(5.0 / per_batch)))
        row: dict[str, Any] = {"family": name, "device": device, "bf16": bf16, "batches": count}
        task = fresh_task(cfg, datamodule)
        row["plain_samples_per_s"] = plain_loop(task, loader, count, torch_device, bf16, clip)
        if not bf16:
            task = fresh_task(cfg, datamodule)
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


def jena_memory() -> dict:
    """Peak and retained memory of the Jena DataModule, each size in a fresh process (see
    `_memory_probe`): on the whole series and on its first half. The difference between the two,
    per byte of series, is what the DataModule costs as the data grows; the rest is the process's
    one-off lazy imports and caches (CSV parser, date formats, torch kernels), several MiB
    whatever the data size, which dwarf a 1.6 MiB series."""
    from seqlab.data.jena import JenaDataModule

    dm = JenaDataModule(os.environ.get("SEQLAB_DATA_DIR", "data"))
    dm.prepare_data()
    lines = dm.path.read_text().splitlines(keepends=True)
    with tempfile.TemporaryDirectory() as tmp:
        # the half is written here, so that the probe's allocator starts clean
        half_path = Path(tmp) / dm.path.name
        half_path.write_text("".join(lines[: 1 + (len(lines) - 1) // 2]))
        runs = {
            (size, fixed): _run_memory_probe(path, fixed)
            for fixed in (False, True)
            for size, path in (("whole", dm.path), ("half", half_path))
        }
    whole = runs["whole", False]
    extra = whole["series_float32_bytes"] - runs["half", False]["series_float32_bytes"]
    return {
        **whole,
        **{
            f"{key}_growth{'_fixed_mmap' if fixed else ''}": (
                runs["whole", fixed][f"{key}_bytes"] - runs["half", fixed][f"{key}_bytes"]
            )
            / extra
            for key in MEMORY_KEYS
            for fixed in (False, True)
        },
    }


MEMORY_KEYS = ("retained", "setup_peak", "reading_peak")


def _run_memory_probe(path: Path, fixed_mmap: bool) -> dict:
    """The probe in a fresh process. ``fixed_mmap`` pins glibc's mmap threshold: by default each
    freed batch buffer raises it, later batches come from a fragmenting heap, and the reading
    peak then varies from run to run by more than the series itself."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if fixed_mmap:
        env["MALLOC_MMAP_THRESHOLD_"] = str(128 * 1024)
    out = subprocess.run(
        [sys.executable, __file__, "--memory-probe", str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _memory_probe(path: str) -> None:
    """Resident memory of the Jena DataModule (on the CSV ``path``, or its own file if empty):
    the peak increase while it is set up (reading the CSV, normalising, cutting windows), what
    its tensors then hold (each storage once), and the peak increase while one training epoch and
    the validation split are read from it."""
    from seqlab.data.jena import JenaDataModule

    def rss_now() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def rss_peak() -> int:
        with open("/proc/self/status") as f:
            line = next(line for line in f if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024

    def peak_of(step: Callable[[], object]) -> int:
        gc.collect()
        with open("/proc/self/clear_refs", "w") as f:  # "5" resets VmHWM to the current RSS
            f.write("5")
        before = rss_now()
        step()
        return rss_peak() - before

    dm = JenaDataModule(os.environ.get("SEQLAB_DATA_DIR", "data"))
    dm.prepare_data()
    if path:
        dm.path = Path(path)
    setup_peak = peak_of(lambda: dm.setup("fit"))

    def read_epoch() -> None:
        for loader in (dm.train_dataloader(), dm.val_dataloader()):
            for _ in loader:
                pass

    reading_peak = peak_of(read_epoch)
    storages: dict[int, int] = {}
    for dataset in dm.datasets.values():
        for tensor in vars(dataset).values():
            if isinstance(tensor, torch.Tensor):
                storage = tensor.untyped_storage()
                storages[storage.data_ptr()] = storage.nbytes()
    series = dm.provenance["rows"] * len(dm.spec.feature_names) * 4
    measured = {
        "retained": sum(storages.values()),
        "setup_peak": setup_peak,
        "reading_peak": reading_peak,
    }
    print(
        json.dumps(
            {
                "source": str(dm.path),
                "series_float32_bytes": series,
                **{f"{key}_bytes": value for key, value in measured.items()},
                **{f"{key}_over_series": value / series for key, value in measured.items()},
            }
        )
    )


def scaling(count: int) -> dict:
    """Plain-loop training throughput of the Jena LSTM against batch size and window length."""
    results: dict[str, list] = {"batch_size": [], "sequence_length": []}
    for size in (32, 64, 128, 256, 512, 1024):
        results["batch_size"].append((size, _jena_rate([f"data.batch_size={size}"], count)))
    for length in (30, 60, 120, 240, 480):
        results["sequence_length"].append(
            (length, _jena_rate([f"data.sequence_length={length}"], count))
        )
    return results


def _jena_rate(extra: list[str], count: int) -> float:
    run_dir = Path(tempfile.mkdtemp(prefix="seqlab-bench-"))
    try:
        cfg, datamodule = setup(["experiment=jena_lstm16", *extra], run_dir, "cpu")
        task = fresh_task(cfg, datamodule)
        loader = datamodule.train_dataloader()
        plain_loop(task, loader, 3, torch.device("cpu"), False, None)
        return plain_loop(task, loader, count, torch.device("cpu"), False, None)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def plot_scaling(results: dict, path: Path) -> None:
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in zip(
        axes,
        ("batch_size", "sequence_length"),
        ("batch size (windows of 120 h)", "window length, hours (batch 256)"),
        strict=True,
    ):
        xs, ys = zip(*results[key], strict=True)
        ax.plot(xs, ys, marker="o")
        ax.set_xscale("log", base=2)
        ax.set_xlabel(label)
        ax.set_ylabel("training samples / s")
        ax.grid(True, alpha=0.3)
    figure.suptitle(f"Jena LSTM(16) training throughput, plain loop, {device_name('cpu')}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def markdown(results: dict) -> str:
    def pct(x: float) -> str:
        return f"{100 * x:+.1f} %"

    lines = [
        "# Benchmarks",
        "",
        f"Produced by `make bench` (scripts/bench.py) on {results['machine']}, git "
        f"{results['git_commit']}, {results['date']}. Raw numbers: `results.json`.",
        *(
            f"The {section} section was measured at git {commit} (`--only` kept it)."
            for section, commit in results.get("measured_at", {}).items()
            if commit != results["git_commit"]
        ),
        "",
        "## Training and inference by task family",
        "",
        "Training samples/s through seqlab's Trainer (CSV logging on) and through a plain PyTorch "
        "loop over the same net, loader and optimiser; overhead = plain / Trainer - 1 "
        "(target <= 10 %). Loader: the DataModule's training loader alone, as a multiple of the "
        "plain training rate (target >= 5x).",
        "",
        "| family | entry | device | batch | params | Trainer samples/s | plain samples/s "
        "| overhead | inference samples/s | loader samples/s | loader / step | epoch s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["families"]:
        lines.append(
            f"| {row['family']} | {row['entry']} | {row['device']}{' bf16' if row['bf16'] else ''}"
            f" | {row['batch_size']} | {row['params']:,}"
            f" | {row.get('trainer_samples_per_s', float('nan')):,.0f}"
            f" | {row['plain_samples_per_s']:,.0f}"
            f" | {pct(row['overhead']) if 'overhead' in row else ''}"
            f" | {row['inference_samples_per_s']:,.0f} | {row['loader_samples_per_s']:,.0f}"
            f" | {row['loader_over_step_rate']:.0f}x | {row['epoch_s']:.0f} |"
        )
    memory = results["jena_memory"]
    lines += [
        "",
        "## Jena DataModule memory",
        "",
        "Resident memory of the process, against the series as float32 "
        f"({memory['series_float32_bytes'] / 2**20:.2f} MiB, `{memory['source']}`); "
        "target <= 2x. *Growth* is the increase from half the series to all of it, per byte of "
        "series: what the DataModule costs as the data grows. The rest is one-off (lazy imports "
        "and caches of pandas and torch, several MiB whatever the data size); each size is "
        "measured in a fresh process.",
        "",
        "| | MiB | x series | growth per series byte | growth, fixed mmap threshold |",
        "|---|---|---|---|---|",
        *(
            f"| {label} | {memory[f'{key}_bytes'] / 2**20:.2f} "
            f"| {memory[f'{key}_over_series']:.2f} | {memory[f'{key}_growth']:.2f} "
            f"| {memory[f'{key}_growth_fixed_mmap']:.2f} |"
            for key, label in (
                ("retained", "held by the DataModule after set-up (series, targets, starts)"),
                ("setup_peak", "peak increase during set-up"),
                ("reading_peak", "peak increase reading a training epoch and the validation split"),
            )
        ),
        "",
        "Windows are index arithmetic over the one series (a gather per batch), so reading them "
        "adds about one batch. Set-up parses the CSV a few thousand rows at a time into a "
        "float32 array sized by a line count, and normalises it in place. With glibc's default "
        "allocator each freed batch buffer raises its mmap threshold and later batches come from "
        "a fragmenting heap, so the reading peak varies from run to run; the last column pins "
        "the threshold (`MALLOC_MMAP_THRESHOLD_=131072`) to show what the DataModule itself needs.",
        "",
        "## Scaling",
        "",
        "![throughput against batch size and window length](scaling.png)",
        "",
        "| batch size | samples/s |",
        "|---|---|",
        *(f"| {b} | {r:,.0f} |" for b, r in results["scaling"]["batch_size"]),
        "",
        "| window length | samples/s |",
        "|---|---|",
        *(f"| {b} | {r:,.0f} |" for b, r in results["scaling"]["sequence_length"]),
    ]
    imdb = results.get("imdb")
    if imdb:
        lines += ["", "## IMDB vectorisation and bucketing", ""]
        lines += bench_imdb.markdown(imdb)
    lines += ["", "## GPU", "", results["gpu_note"], ""]
    return "\n".join(lines)


SECTIONS = ("families", "memory", "scaling", "imdb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="training batches per arm")
    parser.add_argument("--quick", action="store_true", help="few batches, no IMDB epochs")
    parser.add_argument(
        "--imdb-full-epochs", action="store_true", help="whole IMDB epochs, with accuracy"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        help="measure these sections again and keep the others from the last results.json",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe is not None:
        _memory_probe(args.memory_probe)
        return
    count = 5 if args.quick else args.batches
    sections = set(args.only or SECTIONS) - ({"imdb"} if args.quick else set())
    previous = args.out / "results.json"
    results: dict[str, Any] = json.loads(previous.read_text()) if args.only else {}
    results.update(
        machine=device_name("cpu"),
        threads=torch.get_num_threads(),
        git_commit=git_commit(),
        date=time.strftime("%Y-%m-%d"),
        torch=torch.__version__,
    )
    devices = [("cpu", False)]
    if torch.cuda.is_available():
        devices += [("gpu", False), ("gpu", True)]
        results["gpu"] = torch.cuda.get_device_name()
        results["gpu_note"] = f"Rows marked gpu ran on {results['gpu']} (cuDNN; bf16 = autocast)."
    else:
        results["gpu_note"] = "No GPU in this run: the table above is CPU only."
    if "families" in sections:
        results["families"] = []
        for device, bf16 in devices:
            for name, (entry, overrides) in FAMILIES.items():
                print(f"[bench] {name} ({entry}) on {device}{' bf16' if bf16 else ''}", flush=True)
                row = family(name, overrides, count, device, bf16)
                results["families"].append({"entry": entry, **row})
    if "memory" in sections:
        print("[bench] Jena DataModule memory", flush=True)
        results["jena_memory"] = jena_memory()
    if "scaling" in sections:
        print("[bench] scaling", flush=True)
        results["scaling"] = scaling(max(3, count // 2))
    if "imdb" in sections:
        print("[bench] IMDB vectorisation and bucketing", flush=True)
        results["imdb"] = bench_imdb.measure(None if args.imdb_full_epochs else 60)
    measured = results.setdefault("measured_at", dict.fromkeys(SECTIONS, results["git_commit"]))
    measured.update(dict.fromkeys(sections, results["git_commit"]))
    args.out.mkdir(parents=True, exist_ok=True)
    plot_scaling(results["scaling"], args.out / "scaling.png")
    write_json_atomic(args.out / "results.json", results)
    write_text_atomic(args.out / "README.md", markdown(results))
    print(f"[bench] wrote {args.out / 'README.md'}, results.json, scaling.png")


if __name__ == "__main__":
    main()
