"""The Jena DataModule's memory against its float32 series: what it keeps, and its peaks while
being set up and read. Each measurement runs in a fresh process (``python -m
seqlab.bench.memory [CSV]``), so that one-off imports and earlier allocations stay out of it."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from seqlab.run.compose import configured_datamodule

MEMORY_KEYS = ("retained", "setup_peak", "reading_peak")


def jena_memory() -> dict:
    """Peak and retained memory of the Jena DataModule, on the whole series and on its first
    half. The difference between the two, per byte of series, is what the DataModule costs as
    the data grows; the rest is the process's one-off lazy imports and caches (CSV parser, date
    formats, torch kernels), several MiB whatever the data size, which dwarf a 1.6 MiB series."""
    dm = configured_datamodule(["data=jena"])
    dm.prepare_data()
    lines = dm.path.read_text().splitlines(keepends=True)
    with tempfile.TemporaryDirectory() as tmp:
        # the half is written here, so that the probe's allocator starts clean
        half_path = Path(tmp) / dm.path.name
        half_path.write_text("".join(lines[: 1 + (len(lines) - 1) // 2]))
        runs = {
            (size, fixed): run_memory_probe(path, fixed)
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


def run_memory_probe(path: Path, fixed_mmap: bool) -> dict:
    """`memory_probe` in a fresh process. ``fixed_mmap`` pins glibc's mmap threshold: by
    default each freed batch buffer raises it, later batches come from a fragmenting heap, and
    the reading peak then varies from run to run by more than the series itself."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if fixed_mmap:
        env["MALLOC_MMAP_THRESHOLD_"] = str(128 * 1024)
    out = subprocess.run(
        [sys.executable, "-m", "seqlab.bench.memory", str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory_probe(path: Path | None = None) -> dict:
    """Resident memory of the Jena DataModule (on the CSV ``path``, or its own file): the peak
    increase while it is set up (reading the CSV, normalising, cutting windows), what its tensors
    then hold (each storage once), and the peak increase while one training epoch and the
    validation split are read from it."""

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

    dm = configured_datamodule(["data=jena"])
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
    return {
        "source": str(dm.path),
        "series_float32_bytes": series,
        **{f"{key}_bytes": value for key, value in measured.items()},
        **{f"{key}_over_series": value / series for key, value in measured.items()},
    }


if __name__ == "__main__":
    print(json.dumps(memory_probe(Path(sys.argv[1]) if len(sys.argv) > 1 else None)))
