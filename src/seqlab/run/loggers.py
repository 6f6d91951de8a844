"""Lightning's CSV and TensorBoard loggers, made to continue a resumed run's log.

Lightning's CSV logger deletes the ``metrics.csv`` it finds, so a resumed run kept only the rows
after the resume. Here the rows before the resumed checkpoint's step stay (those after it, which
the interrupted run logged past its last checkpoint, are dropped because the resumed run logs
those steps again), and every row is written as soon as it is logged, so a killed run loses none.
TensorBoard keeps every event file; ``purge_step`` tells it to hide the old files' events from
the resumed step on.
"""

from __future__ import annotations

import csv
from typing import Any

from lightning.pytorch.loggers import CSVLogger as _CSVLogger
from lightning.pytorch.loggers import TensorBoardLogger as _TensorBoardLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment


class _ContinuingWriter(ExperimentWriter):
    def __init__(self, log_dir: str, resume_step: int | None) -> None:
        self.resume_step = resume_step
        super().__init__(log_dir)

    def _check_log_dir_exists(self) -> None:
        if self.resume_step is None or not self._fs.isfile(self.metrics_file_path):
            super()._check_log_dir_exists()  # a new run: Lightning's own behaviour
            return
        with self._fs.open(self.metrics_file_path, "r", newline="") as file:
            reader = csv.DictReader(file)
            header = list(reader.fieldnames or [])
            rows = [row for row in reader if int(float(row["step"])) < self.resume_step]
        with self._fs.open(self.metrics_file_path, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
        self.metrics_keys = header


class CSVLogger(_CSVLogger):
    """``csv/metrics.csv``, continued across resumes (``resume_step``: the checkpoint's step)."""

    def __init__(self, *args: Any, resume_step: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resume_step = resume_step

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _ContinuingWriter(self.log_dir, self.resume_step)
        return self._experiment


class TensorBoardLogger(_TensorBoardLogger):
    """TensorBoard event files, continued across resumes (``resume_step``: the checkpoint's
    step; events the interrupted run wrote from that step on are hidden, not duplicated)."""

    def __init__(self, *args: Any, resume_step: int | None = None, **kwargs: Any) -> None:
        if resume_step is not None:
            kwargs["purge_step"] = resume_step
        super().__init__(*args, **kwargs)


def log_outcome(loggers: list[Any], params: dict[str, Any], metrics: dict[str, float]) -> None:
    """TensorBoard's HParams view: what the run was given (``params``: its model, data and
    overrides) beside its final metrics, so ``tensorboard --logdir <sweep folder>`` compares
    the runs of a sweep side by side."""
    for logger in loggers:
        if isinstance(logger, _TensorBoardLogger):
            logger.log_hyperparams(params, {f"hparams/{k}": v for k, v in metrics.items()})
            logger.finalize("success")
