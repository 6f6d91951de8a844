"""After a multirun: one table of every job's metrics (printed, saved as summary.csv), then one
line per failed job and a non-zero exit when any job of this sweep failed."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.core.utils import JobStatus
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.table import Table
from rich.text import Text

from seqlab.errors import SeqlabError
from seqlab.files import write_text_atomic
from seqlab.run.folder import STATUS_FILE, error_line, read_status, write_status
from seqlab.run.progress import log_to_files
from seqlab.run.record import RECORD_FILE, RunRecord, override_pairs

log = logging.getLogger(__name__)


def job_order(path: Path) -> list[Any]:
    """Sort key of job folders in launch order: ``2-gru-jena`` before ``10-rnn-jena``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def job_overrides(job_dir: Path) -> dict[str, str]:
    """``{key: value}`` of the overrides a job ran with (Hydra's ``.hydra/overrides.yaml``, which
    holds the sweep's fixed overrides and the job's swept or searched values)."""
    path = job_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    return override_pairs(OmegaConf.load(path))


def collect(sweep_dir: Path) -> pd.DataFrame:
    """One row per finished job: what it ran (model, data, every override) and its validation
    / test metrics."""
    rows = []
    for path in sorted(sweep_dir.glob(f"*/{RECORD_FILE}"), key=lambda p: job_order(p.parent)):
        record = RunRecord.read(path)
        overrides = job_overrides(path.parent)
        costs = record.costs()
        rows.append(
            {
                "job": path.parent.name,
                "model": record.model,
                "data": record.data,
                **{k: v for k, v in overrides.items() if k not in ("model", "data")},
                **record.metrics(),
                **{key: costs[key] for key in ("params", "epochs", "train_s")},
            }
        )
    return pd.DataFrame(rows)


def failed_jobs(sweep_dir: Path) -> dict[str, dict[str, Any]]:
    """``{job folder name: its status.json}`` of every job of the sweep recorded as failed."""
    jobs = sorted((p.parent for p in Path(sweep_dir).glob(f"*/{STATUS_FILE}")), key=job_order)
    records = {job.name: read_status(job) for job in jobs}
    return {name: record for name, record in records.items() if record.get("status") == "failed"}


def failure_line(job: str, record: dict[str, Any], earlier: bool = False) -> str:
    overrides = " ".join(str(o) for o in record.get("overrides") or [])
    where = " in an earlier run of this sweep" if earlier else ""
    line = f"error: job {job} ({overrides or 'no overrides'}) failed{where}: "
    line += str(record.get("error") or "no error recorded")
    if record.get("traceback_in"):
        line += f" (traceback in {record['traceback_in']})"
    return line


def log_traceback(error: BaseException) -> str | None:
    """Write ``error``'s traceback to the job's log file(s) only, not to the console; returns
    the file it went to (``None`` when the job logs to no file)."""
    record = logging.LogRecord(
        __name__,
        logging.ERROR,
        __file__,
        0,
        "the job failed",
        None,
        (type(error), error, error.__traceback__),
    )
    return log_to_files(record)


class SweepSummary(Callback):
    """Hydra callback. ``summary.csv`` is rewritten after every job, so a failed job (absent from
    the table) or an interrupted sweep never loses the results that finished.

    A failed job is recorded in its folder's ``status.json`` (``status: failed``, its one-line
    ``error`` and its ``overrides``), which the sweep's end reads back: that also works with the
    joblib and submitit launchers, whose jobs (and so ``on_job_end``) run in other processes. The
    multirun ends with the table, one ``error:`` line per failed job and, when a job of this
    sweep failed, ``SystemExit(1)`` (jobs that had failed in an earlier run of a resumed search
    are listed but do not fail the exit code).
    """

    def __init__(self) -> None:
        self.earlier: dict[str, int] = {}
        self.failed_here: dict[str, dict[str, Any]] = {}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        self.earlier = {job: status_stamp(sweep_dir / job) for job in failed_jobs(sweep_dir)}

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        job_dir = Path(config.hydra.runtime.output_dir)
        if job_return.status == JobStatus.FAILED:
            self.record_failure(job_dir, job_return)
        elif read_status(job_dir).get("status") == "failed":
            # a job run again into the folder where it had failed: it has now finished
            self.failed_here.pop(job_dir.name, None)
            write_status(job_dir, "finished", error=None, traceback_in=None)
        frame = collect(Path(config.hydra.sweep.dir))
        if not frame.empty:
            write_text_atomic(
                Path(config.hydra.sweep.dir) / "summary.csv", frame.to_csv(index=False)
            )

    def record_failure(self, job_dir: Path, job_return: Any) -> None:
        error = job_return._return_value  # `return_value` would raise it again
        record: dict[str, Any] = {
            "error": error_line(error),
            "overrides": [str(o) for o in job_return.overrides or []],
            "traceback_in": None,
        }
        if not isinstance(error, SeqlabError):  # a bug, not a user error: keep its traceback
            record["traceback_in"] = log_traceback(error)
            # a SeqlabError's line was already printed by seqlab.cli.common.run_cli
            where = f" (traceback in {record['traceback_in']})" if record["traceback_in"] else ""
            Console(stderr=True, soft_wrap=True).print(
                Text(f"error: {record['error']}{where}"), highlight=False
            )
        self.failed_here[job_dir.name] = {"status": "failed", **record}
        try:
            write_status(job_dir, "failed", **record)
        except OSError as problem:
            log.warning(f"could not record the failure in {job_dir}: {problem}")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        frame = collect(sweep_dir)
        if not frame.empty:
            table = Table(title=f"{len(frame)} runs in {sweep_dir} (summary.csv)")
            for column in frame.columns:
                numeric = pd.api.types.is_numeric_dtype(frame[column])
                table.add_column(column, justify="right" if numeric else "left")
            for row in frame.itertuples(index=False):
                table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
            Console().print(table)
        failures = {**self.failed_here, **failed_jobs(sweep_dir)}
        if not failures:
            return
        new = [
            job
            for job in failures
            if job in self.failed_here
            or job not in self.earlier
            or status_stamp(sweep_dir / job) != self.earlier[job]
        ]
        console = Console(stderr=True, soft_wrap=True)
        console.print(
            Text(f"{len(failures)} failed job(s) in {sweep_dir} (status.json in each):"),
            highlight=False,
        )
        for job in sorted(failures, key=lambda name: job_order(Path(name))):
            line = failure_line(job, failures[job], earlier=job not in new)
            console.print(Text(line), highlight=False)
        if new:
            raise SystemExit(1)  # not an Exception: Hydra's callbacks and run_and_report let it by


def status_stamp(job_dir: Path) -> int:
    """When the job's status.json last changed (0 when it has none), to tell a failure of this
    sweep from one an earlier run of the same sweep folder left."""
    try:
        return (job_dir / STATUS_FILE).stat().st_mtime_ns
    except OSError:
        return 0
