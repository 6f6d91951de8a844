"""``curves.png``: a run's learning curves, drawn from its own CSV log when training ends.

Read from the log rather than kept in memory, so that a resumed run's picture covers the whole
run (the log is continued across a resume, `seqlab.run.loggers`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
from lightning.pytorch.utilities import rank_zero_only
from matplotlib.ticker import MaxNLocator

from seqlab.files import atomic_path
from seqlab.media.plots import plt
from seqlab.run.loggers import CSVLogger
from seqlab.tasks.base import SeqlabTask

log = logging.getLogger(__name__)


def series(log_rows: pd.DataFrame, column: str, by_epoch: bool) -> pd.Series:
    """A logged column by epoch (from 1) or by step. Per epoch, a value logged every few steps
    (a training loss) is averaged over the epoch; one logged once per epoch is that value."""
    if column not in log_rows:
        return pd.Series(dtype=float)
    part = log_rows[log_rows[column].notna()]
    values = part.groupby("epoch" if by_epoch else "step")[column].mean()
    return values.set_axis(values.index + 1) if by_epoch else values


def best_validation(log_rows: pd.DataFrame, monitor: str, mode: str) -> tuple[str, int, float]:
    """Where the best checkpoint's validation was: ``("epoch", 5, 2.41)`` (epochs from 1), or
    ``("step", 4000, 1.93)`` when validation runs within epochs."""
    watched = "val/" + monitor.split("/", 1)[1].removesuffix("_best")
    if watched not in log_rows or log_rows[watched].isna().all():
        raise ValueError(f"the log holds no {watched}")
    by_epoch = log_rows.loc[log_rows[watched].notna(), "epoch"].is_unique
    validation = series(log_rows, watched, by_epoch)
    best = validation.idxmin() if mode == "min" else validation.idxmax()
    return ("epoch" if by_epoch else "step"), int(best), float(validation[best])


def plot_curves(
    log_rows: pd.DataFrame,
    monitor: str,
    mode: str,
    path: Path,
    title: str,
    units: dict[str, str] | None = None,
) -> Path:
    """Loss and the monitored metric, training and validation, against the epoch (against the
    step when validation runs within epochs), the best checkpoint's validation marked;
    ``units``: of the metrics that read in the data's own units (``mae``: °C)."""
    units = units or {}
    axis, best, value = best_validation(log_rows, monitor, mode)
    by_epoch = axis == "epoch"
    metric = monitor.split("/", 1)[1].removesuffix("_best")
    names = ["loss"] if metric == "loss" else ["loss", metric]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), layout="constrained")
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        for split in ("train", "val"):
            values = series(log_rows, f"{split}/{name}", by_epoch)
            if len(values):
                ax.plot(values.index, values.values, marker="o", markersize=3, label=split)
        ax.axvline(best, color="grey", linestyle="--", linewidth=1, label="best checkpoint")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(axis if by_epoch else "training step")
        ax.set_ylabel(f"{name} ({units[name]})" if units.get(name) else name)
        ax.legend()
    shown = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    unit = f" {units[metric]}" if units.get(metric) else ""
    fig.suptitle(f"{title}: best val/{metric} {shown}{unit} at {axis} {best}", fontsize=10)
    with atomic_path(path, suffix=".tmp.png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


class Curves(L.Callback):
    """Writes ``curves.png`` when training ends: training and validation loss and the task's
    main metric (the checkpoint's monitor) from the run's CSV log."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @rank_zero_only
    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        csv = next((lg for lg in trainer.loggers if isinstance(lg, CSVLogger)), None)
        saved = trainer.checkpoint_callback
        if trainer.fast_dev_run:
            log.info("no curves.png: a fast_dev_run (debug=fdr) trains a batch, not a curve")
            return
        if csv is None:
            log.info("no curves.png: it is drawn from the CSV log (logger=csv or many)")
            return
        if saved is None or not saved.monitor:
            log.info("no curves.png: no checkpoint watches a validation metric to mark")
            return
        csv.save()
        metrics_file = Path(csv.experiment.metrics_file_path)
        if not metrics_file.is_file():
            return
        title = pl_module.title if isinstance(pl_module, SeqlabTask) else "run"
        units = pl_module.metric_units() if isinstance(pl_module, SeqlabTask) else {}
        rows = pd.read_csv(metrics_file)
        try:
            plot_curves(rows, saved.monitor, saved.mode, self.path, title, units)
        except (ValueError, KeyError) as problem:
            log.warning(f"curves.png not drawn: {problem}")
