"""What the fused kernels buy: training throughput of one net, the Jena LSTM(16) entry, on
PyTorch's fused LSTM (``model.impl=fused``) and on the scratch cells of `seqlab.nets.cells`
(``model.impl=scratch``), in one process on the same batches, so the ratio compares like with
like. Where a GPU is present, both again on it and the scratch cells under ``torch.compile``."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from seqlab.bench import training
from seqlab.run.compose import build_run

ENTRY = "jena_lstm16"


def arm(
    impl: str, device: str, count: int, compiled: bool = False, extra: Sequence[str] = ()
) -> dict[str, Any]:
    """Plain-loop training samples/s of the entry (with ``extra`` overrides) with
    ``model.impl=impl`` on ``device``, after a few warm-up batches (which, with ``compiled``,
    include the compilation)."""
    run_dir = Path(tempfile.mkdtemp(prefix="seqlab-bench-"))
    try:
        overrides = [f"experiment={ENTRY}", f"model.impl={impl}", *extra]
        cfg = training.bench_config(overrides, run_dir, device)
        datamodule, task = build_run(cfg)
        if compiled:
            task.net = torch.compile(task.net)
        loader = datamodule.train_dataloader()
        torch_device = torch.device("cuda" if device == "gpu" else "cpu")
        started = time.perf_counter()
        training.plain_loop(task, loader, 3, torch_device, False, None)
        warm_up = time.perf_counter() - started
        rate = training.plain_loop(task, loader, count, torch_device, False, None)
        label = f"{impl}{' + torch.compile' if compiled else ''}"
        return {"impl": label, "device": device, "samples_per_s": rate, "warm_up_s": warm_up}
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def measure(count: int, extra: Sequence[str] = ()) -> dict[str, Any]:
    """Every arm with ``count`` training batches; each row's slowdown against the fused kernel
    on the same device."""
    arms = [("fused", "cpu", False), ("scratch", "cpu", False)]
    if torch.cuda.is_available():
        arms += [("fused", "gpu", False), ("scratch", "gpu", False), ("scratch", "gpu", True)]
    rows = [arm(impl, device, count, compiled, extra) for impl, device, compiled in arms]
    fused = {row["device"]: row["samples_per_s"] for row in rows if row["impl"] == "fused"}
    for row in rows:
        row["slowdown"] = fused[row["device"]] / row["samples_per_s"]
    return {"entry": ENTRY, "batches": count, "rows": rows}


def markdown(results: dict[str, Any]) -> list[str]:
    """The section of benchmarks/README.md."""
    lines = [
        "## Scratch cells against the fused kernels",
        "",
        f"Plain-loop training samples/s of `experiment={results['entry']}` with "
        "`model.impl=fused` (PyTorch's LSTM kernel) and `model.impl=scratch` (the cell of "
        "`src/seqlab/nets/cells.py` unrolled step by step in Python), "
        f"{results['batches']} batches each, same process. Slowdown: fused / this row.",
        "",
        "| impl | device | samples/s | slowdown | warm-up s |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {row['impl']} | {row['device']} | {row['samples_per_s']:,.0f} "
        f"| {row['slowdown']:.1f}x | {row['warm_up_s']:.1f} |"
        for row in results["rows"]
    ]
    if not any(row["device"] == "gpu" for row in results["rows"]):
        lines += ["", "No GPU in this run: the torch.compile rows are measured on a GPU only."]
    return lines
