"""The decks' claims about gradients, measured on Jena (``python scripts/gradients.py``).

1. Vanishing: a simple RNN, an LSTM and a GRU (32 units, ``model.impl=scratch``, RMSprop as in the
   Jena recipes) trained for the same steps on the same batches; `GradFlow` takes
   ``‖∂L/∂h_t‖`` by distance from the window's last step, at the first step and the last.
2. Exploding: the simple RNN with plain SGD at a learning rate too large for it, without and with
   ``trainer.gradient_clip_val``: training loss and gradient norm (before clipping) at every step.

Writes ``grad_flow.png``, ``clipping.png``, ``gradients.json`` and ``gradients.md`` (the tables).
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
from omegaconf import open_dict

from seqlab.bench.training import bench_config
from seqlab.files import atomic_path, write_json_atomic, write_text_atomic
from seqlab.run.compose import build_run
from seqlab.run.gradflow import HIDDEN, GradFlow, draw_curves
from seqlab.run.record import device_name, git_commit
from seqlab.run.trainer import build_trainer

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CELLS = ("rnn", "lstm", "gru")
DISTANCES = (10, 25, 50, 100)
CLIPPING = ["model=rnn", "task.optimizer._target_=torch.optim.SGD"]


def run(overrides: Sequence[str], steps: int, measure_at: Sequence[int] | None) -> GradFlow:
    """Train ``steps`` batches of a Jena run with ``overrides`` and `GradFlow` measuring at
    ``measure_at`` (None: every step); the callback with its records. The loss guard is off:
    a diverging run is what part 2 is to show."""
    run_dir = Path(tempfile.mkdtemp(prefix="seqlab-gradients-"))
    try:
        when = (
            "every_n_steps=1" if measure_at is None else f"steps=[{','.join(map(str, measure_at))}]"
        )
        extra = ["callbacks=grad_flow", f"callbacks.grad_flow.{when}", "callbacks.loss_guard=null"]
        cfg = bench_config(["data=jena", *extra, *overrides], run_dir, "cpu")
        with open_dict(cfg):
            cfg.trainer.max_steps = steps
        datamodule, task = build_run(cfg)
        trainer, callbacks, _ = build_trainer(cfg)
        trainer.fit(task, datamodule)
        return next(c for c in callbacks if isinstance(c, GradFlow))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def decay(curve: list[float]) -> dict[str, Any]:
    """What share of the last step's gradient norm reaches ``DISTANCES`` steps back, and the
    mean factor per step over the first 50 (geometric)."""
    near = curve[0]
    shares = {str(d): curve[d] / near for d in DISTANCES if d < len(curve)}
    reach = min(50, len(curve) - 1)
    per_step = (curve[reach] / near) ** (1 / reach) if curve[reach] > 0 else 0.0
    return {"near": near, "share": shares, "per_step": per_step}


def vanishing(steps: int) -> dict[str, Any]:
    """Part 1: each cell's curves at the first and last training step."""
    results = {}
    for cell in CELLS:
        print(f"[gradients] {cell}: {steps} steps on the scratch cells", flush=True)
        overrides = [f"model={cell}", "model.impl=scratch"]
        started = time.perf_counter()
        flow = run(overrides, steps, [0, steps - 1])
        first, last = flow.records[0], flow.records[-1]
        results[cell] = {
            "seconds": time.perf_counter() - started,
            "loss": [first["loss"], last["loss"]],
            "start": next(iter(first["curves"].values())),
            "end": next(iter(last["curves"].values())),
        }
        for when in ("start", "end"):
            results[cell][f"{when}_decay"] = decay(results[cell][when])
    return results


def clipping(steps: int, lr: float, clip: float) -> dict[str, Any]:
    """Part 2: the simple RNN under SGD at ``lr``, without and with clipping at ``clip``."""
    results = {}
    for label, value in (("no clipping", "null"), (f"gradient_clip_val={clip:g}", clip)):
        print(f"[gradients] simple RNN, SGD lr={lr:g}, {label}", flush=True)
        overrides = [*CLIPPING, f"task.optimizer.lr={lr}", f"trainer.gradient_clip_val={value}"]
        flow = run(overrides, steps, None)
        losses = [r["loss"] for r in flow.records]
        norms = [r["grad_norm"] for r in flow.records]
        finite = [x for x in losses if math.isfinite(x)]
        results[label] = {
            "loss": losses,
            "grad_norm": norms,
            "first_nan_step": next((i for i, x in enumerate(losses) if not math.isfinite(x)), None),
            "max_loss": max(finite),
            "final_loss": losses[-1],
            "max_grad_norm": max((x for x in norms if math.isfinite(x)), default=math.nan),
        }
    return results


def plot_vanishing(results: dict[str, Any], path: Path, steps: int) -> None:
    """Two panels, at the first training step and after ``steps``: each cell's gradient norm
    as a share of its last step's, against distance in time."""
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True, layout="constrained")
    colours = ["tab:red", "tab:blue", "tab:green"]
    for ax, when, title in zip(
        axes, ("start", "end"), ("at initialisation", f"after {steps} training steps"), strict=True
    ):
        curves = {
            cell: [x / result[when][0] for x in result[when]] for cell, result in results.items()
        }
        draw_curves(ax, curves, "‖∂L/∂h_t‖ / ‖∂L/∂h_T‖ (scratch cells)", colours)
        ax.set_title(f"Jena, 120-hour windows, 32 units: {title}", fontsize=10)
    figure.suptitle("How much of the gradient reaches a step t steps before the last one")
    save(figure, path)


def plot_clipping(results: dict[str, Any], path: Path, lr: float) -> None:
    """Training loss and gradient norm at every step, without and with clipping."""
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    for (label, result), colour in zip(results.items(), ("tab:red", "tab:blue"), strict=True):
        for ax, key in zip(axes, ("loss", "grad_norm"), strict=True):
            ax.plot(result[key], label=label, color=colour)
            nan = result["first_nan_step"]
            if nan is not None:
                ax.axvline(nan, color=colour, linestyle=":", linewidth=1)
                ax.annotate(
                    f"NaN from step {nan}",
                    (nan, 1),
                    xycoords=("data", "axes fraction"),
                    xytext=(4, -14),
                    textcoords="offset points",
                    color=colour,
                    fontsize=8,
                )
    for ax, ylabel in zip(
        axes, ("training loss (MSE, standardised)", "gradient norm, before clipping"), strict=True
    ):
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    figure.suptitle(f"Simple RNN on Jena, SGD at lr={lr:g}: exploding gradients and clipping")
    save(figure, path)


def save(figure: plt.Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".png") as tmp:
        figure.savefig(tmp, dpi=110)
    plt.close(figure)


def markdown(results: dict[str, Any]) -> str:
    """gradients.md: the two tables behind the plots."""
    steps, clip = results["steps"], results["clipping"]
    lines = [
        "# Vanishing and exploding gradients, measured",
        "",
        f"Written by `python scripts/gradients.py` on {results['machine']}, git "
        f"{results['git_commit']}, {results['date']}, in {results['seconds']:.0f} s. "
        f"Raw numbers: `gradients.json`. Measure: {HIDDEN}.",
        "",
        "![gradient against distance in time](grad_flow.png)",
        "",
        f"Share of the last step's gradient norm that reaches d steps back, after {steps} "
        "training steps (at initialisation in brackets), and the mean factor per step over the "
        "first 50:",
        "",
        "| cell | " + " | ".join(f"d = {d}" for d in DISTANCES) + " | per step | loss |",
        "|---|" + "---|" * (len(DISTANCES) + 2),
    ]
    for cell, result in results["vanishing"].items():
        start, end = result["start_decay"], result["end_decay"]
        shares = " | ".join(
            f"{end['share'][str(d)]:.1e} ({start['share'][str(d)]:.1e})" for d in DISTANCES
        )
        lines.append(
            f"| {cell} | {shares} | {end['per_step']:.2f} ({start['per_step']:.2f}) "
            f"| {result['loss'][1]:.3f} |"
        )
    lines += [
        "",
        "![loss and gradient norm with and without clipping](clipping.png)",
        "",
        f"Simple RNN, SGD at lr={results['lr']:g}, {len(next(iter(clip.values()))['loss'])} steps:",
        "",
        "| run | first NaN loss at step | highest finite loss | final loss | largest grad norm |",
        "|---|---|---|---|---|",
    ]
    for label, result in clip.items():
        nan = result["first_nan_step"]
        lines.append(
            f"| {label} | {'never' if nan is None else nan} | {result['max_loss']:.3g} "
            f"| {result['final_loss']:.3g} | {result['max_grad_norm']:.3g} |"
        )
    return "\n".join(lines) + "\n"


def measure(
    out: Path, steps: int = 100, clip_steps: int = 60, lr: float = 0.5, clip: float = 1.0
) -> dict[str, Any]:
    """Both parts; the plots, gradients.json and gradients.md in ``out``."""
    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": device_name("cpu"),
        "git_commit": git_commit(),
        "date": time.strftime("%Y-%m-%d"),
        "steps": steps,
        "lr": lr,
        "vanishing": vanishing(steps),
        "clipping": clipping(clip_steps, lr, clip),
    }
    results["seconds"] = time.perf_counter() - started
    plot_vanishing(results["vanishing"], out / "grad_flow.png", steps)
    plot_clipping(results["clipping"], out / "clipping.png", lr)
    write_json_atomic(out / "gradients.json", results)
    write_text_atomic(out / "gradients.md", markdown(results))
    return results
