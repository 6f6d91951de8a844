"""The benchmark sections together: what ``make bench`` measures and the files it writes
(results.json, README.md with the tables, scaling.png).

Targets (the issues'): Lightning overhead <= 10 %, loader >= 5x the training step rate, Jena
DataModule peak <= 2x the float32 series, IMDB cold <= 10 s, cached <= 2 s, bucketed >= 3x.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import matplotlib
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from seqlab.bench import imdb, memory, scratch, training  # noqa: E402
from seqlab.bench.imdb import markdown as imdb_markdown  # noqa: E402
from seqlab.files import atomic_path, write_json_atomic, write_text_atomic  # noqa: E402
from seqlab.run.record import device_name, git_commit  # noqa: E402

SECTIONS = ("families", "precision", "memory", "scaling", "imdb", "cells")


def measure(
    sections: set[str], count: int, imdb_full_epochs: bool, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Measure ``sections`` (``count`` training batches per arm); the other sections are kept
    from ``previous`` (the last results.json), each with the commit it was measured at."""
    results: dict[str, Any] = dict(previous or {})
    results.update(
        machine=device_name("cpu"),
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
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
            for name, (entry, overrides) in training.FAMILIES.items():
                print(f"[bench] {name} ({entry}) on {device}{' bf16' if bf16 else ''}", flush=True)
                row = training.family(name, overrides, count, device, bf16)
                results["families"].append({"entry": entry, **row})
    if "precision" in sections:
        results["precision"] = []
        for name, entry, overrides in training.PRECISION:
            print(f"[bench] {name} ({entry}): fp32 against bf16 on the CPU", flush=True)
            row = training.precision(name, overrides, count)
            results["precision"].append({"entry": entry, **row})
    if "memory" in sections:
        print("[bench] Jena DataModule memory", flush=True)
        results["jena_memory"] = memory.jena_memory()
    if "scaling" in sections:
        print("[bench] scaling", flush=True)
        results["scaling"] = training.scaling(max(3, count // 2))
    if "imdb" in sections:
        print("[bench] IMDB vectorisation and bucketing", flush=True)
        results["imdb"] = imdb.measure(None if imdb_full_epochs else 60)
    if "cells" in sections:
        print("[bench] scratch cells against the fused kernels", flush=True)
        results["cells"] = scratch.measure(count)
    measured = results.setdefault("measured_at", dict.fromkeys(SECTIONS, results["git_commit"]))
    measured.update(dict.fromkeys(sections, results["git_commit"]))
    return results


def write(results: dict[str, Any], out: Path) -> None:
    """results.json, README.md (the tables) and scaling.png in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    plot_scaling(results["scaling"], out / "scaling.png")
    write_json_atomic(out / "results.json", results)
    write_text_atomic(out / "README.md", markdown(results))


def plot_scaling(results: dict, path: Path) -> None:
    """Training throughput against batch size and against window length, side by side."""
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
    with atomic_path(path, suffix=".png") as tmp:
        figure.savefig(tmp, dpi=110)
    plt.close(figure)


def markdown(results: dict) -> str:
    """benchmarks/README.md: one table per section of ``results``."""

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
    if results.get("precision"):
        lines += [
            "",
            "## Precision on the CPU: fp32 against bf16",
            "",
            "Training samples/s of the plain loop over each family's board recipe in fp32 and with "
            "bf16 autocast (`trainer.precision=bf16-mixed`), both in one run, each after a warm-up "
            f"pass; CPU capability `{results.get('cpu_capability', '?')}` "
            "(`torch.backends.cpu.get_cpu_capability()`). An entry adopts bf16 only where it is at "
            "least 1.3x faster and its 3-seed mean stays inside the fp32 entry's spread. Both arms "
            "flush denormal numbers to zero, as every run does (`flush_denormal`): fp32 on them "
            "is several times slower on x86 while bf16 rounds them away, so without flushing a "
            "ratio measures that, not the matrix units (the IMDB BiLSTM's: 4.9x unflushed).",
            "",
            "| family | entry | fp32 samples/s | bf16 samples/s | bf16 / fp32 |",
            "|---|---|---|---|---|",
            *(
                f"| {row['family']} | {row['entry']} | {row['fp32_samples_per_s']:,.0f} "
                f"| {row['bf16_samples_per_s']:,.0f} | {row['speedup']:.2f}x |"
                for row in results["precision"]
            ),
        ]
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
        lines += imdb_markdown(imdb)
    if results.get("cells"):
        lines += ["", *scratch.markdown(results["cells"])]
    lines += ["", "## GPU", "", results["gpu_note"], ""]
    return "\n".join(lines)
