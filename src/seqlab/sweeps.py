"""After a multirun: one table of every job's metrics, printed and saved as summary.csv."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig
from rich.console import Console
from rich.table import Table

from seqlab.outputs import write_text_atomic


def collect(sweep_dir: Path) -> pd.DataFrame:
    """One row per finished job: what it ran and its validation / test metrics."""
    rows = []
    for path in sorted(sweep_dir.glob("*/metrics.json")):
        metrics = json.loads(path.read_text())
        row: dict[str, Any] = {
            "job": path.parent.name,
            "model": metrics.get("model"),
            "data": metrics.get("data"),
        }
        for split in ("val", "test"):
            for name, value in metrics.get(split, {}).items():
                if name != "loss":
                    row[f"{split}/{name}"] = value
        row.update(
            params=metrics.get("params"),
            epochs=metrics.get("epochs"),
            train_s=metrics.get("train_seconds"),
        )
        rows.append(row)
    return pd.DataFrame(rows)


class SweepSummary(Callback):
    """Hydra callback. ``summary.csv`` is rewritten after every job, so a failed job (absent from
    the table) or an interrupted sweep never loses the results that finished."""

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if config.hydra.mode == RunMode.MULTIRUN:
            frame = collect(Path(config.hydra.sweep.dir))
            if not frame.empty:
                write_text_atomic(
                    Path(config.hydra.sweep.dir) / "summary.csv", frame.to_csv(index=False)
                )

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        frame = collect(sweep_dir)
        if frame.empty:
            return
        table = Table(title=f"{len(frame)} runs in {sweep_dir} (summary.csv)")
        for column in frame.columns:
            table.add_column(
                column, justify="left" if column in ("job", "model", "data") else "right"
            )
        for row in frame.itertuples(index=False):
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
        Console().print(table)
