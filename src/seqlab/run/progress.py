"""How a run shows its progress: a rich bar on a terminal, one line per epoch everywhere else.

Under ``nohup``, SLURM or CI nobody watches a bar (it prints nothing until it ends), so without a
terminal each epoch prints one line (epoch, step, losses, the monitored metric and its best, time,
ETA) to stdout and the run's ``train.log``; on a terminal the bar shows, and the same lines go to
``train.log`` only.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ProgressBar, RichProgressBar

log = logging.getLogger("seqlab.progress")


def progress() -> ProgressBar:
    """The progress display for where the run's output goes (``callbacks.progress``)."""
    return TerminalBar() if sys.stdout.isatty() else EpochLines()


def log_to_files(record: logging.LogRecord) -> str | None:
    """Write ``record`` to the run's log file(s) only, not to the console; returns the file it
    went to (``None`` when nothing logs to a file)."""
    written = None
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)
            handler.flush()
            written = written or handler.baseFilename
    return written


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def epoch_line(
    trainer: L.Trainer, pl_module: L.LightningModule, elapsed: float, per_epoch: float
) -> str:
    """One epoch's summary: ``epoch 3/10 · step 6,837 · train/loss 0.4123 · val/mse 0.4276
    (best 0.4250) · 58 s · ETA 2 min 12 s`` (the ETA is at most: early stopping may end sooner)."""
    done = trainer.current_epoch + 1
    total = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else None
    parts = [f"epoch {done}/{total}" if total else f"epoch {done}", f"step {trainer.global_step:,}"]
    metrics = trainer.callback_metrics
    monitor = getattr(pl_module, "monitor", None)
    keys = [getattr(pl_module, "train_loss_key", "train/loss"), "train/loss", "val/loss", monitor]
    for key in dict.fromkeys(k for k in keys if k):
        if key in metrics:
            text = f"{key} {float(metrics[key]):.4g}"
            if key == monitor and f"{key}_best" in metrics:
                text += f" (best {float(metrics[f'{key}_best']):.4g})"
            parts.append(text)
    parts.append(duration(elapsed))
    if total and done < total:
        parts.append(f"ETA {duration(per_epoch * (total - done))}")
    return " · ".join(parts)


class EpochClock(L.Callback):
    """Times the fit from its start, for the epoch lines (a resumed run counts from its resume)."""

    def __init__(self) -> None:
        super().__init__()
        self._started = time.monotonic()
        self._first_epoch = 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._started = time.monotonic()
        self._first_epoch = trainer.current_epoch

    def line(self, trainer: L.Trainer, pl_module: L.LightningModule) -> str:
        elapsed = time.monotonic() - self._started
        epochs = max(trainer.current_epoch + 1 - self._first_epoch, 1)
        return epoch_line(trainer, pl_module, elapsed, elapsed / epochs)


class EpochLines(ProgressBar, EpochClock):
    """No terminal: one line per epoch to stdout and ``train.log``, nothing per batch."""

    def __init__(self) -> None:
        ProgressBar.__init__(self)
        EpochClock.__init__(self)
        self._enabled = True

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    @property
    def is_enabled(self) -> bool:
        return self._enabled

    @property
    def is_disabled(self) -> bool:
        return not self._enabled

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._enabled and not trainer.sanity_checking:
            log.info(self.line(trainer, pl_module))


def _throttled(loop: str, total: str) -> Callable[..., None]:
    """A `TerminalBar` hook that draws ``loop``'s batch as the rich bar does, when it is due
    (``total``: the bar's count of that loop's batches, whose last is always drawn)."""

    def on_batch_end(
        bar: TerminalBar,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        i: int,
        dataloader_idx: int = 0,
    ) -> None:
        if bar._due(i + 1 >= getattr(bar, total)):
            draw = getattr(RichProgressBar, f"on_{loop}_batch_end")
            draw(bar, trainer, pl_module, outputs, batch, i, dataloader_idx)

    return on_batch_end


class TerminalBar(RichProgressBar, EpochClock):
    """Lightning's rich bar, redrawn at most every ``interval`` seconds in training, validation
    and test (redrawn at every batch it costs a net as small as DLinear a tenth of its time),
    and always at a loop's last batch; each epoch's line goes to ``train.log`` only."""

    def __init__(self, interval: float = 0.1, **options: Any) -> None:
        RichProgressBar.__init__(self, **options)
        EpochClock.__init__(self)
        self.interval = interval
        self._drawn = 0.0

    def _due(self, last: bool) -> bool:
        now = time.monotonic()
        if last or now - self._drawn >= self.interval:
            self._drawn = now
            return True
        return False

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        RichProgressBar.on_train_start(self, trainer, pl_module)
        EpochClock.on_train_start(self, trainer, pl_module)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, i: int
    ) -> None:
        if self._due(i + 1 >= trainer.num_training_batches):
            super().on_train_batch_end(trainer, pl_module, outputs, batch, i)

    on_validation_batch_end = _throttled("validation", "total_val_batches_current_dataloader")
    on_test_batch_end = _throttled("test", "total_test_batches_current_dataloader")

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if not trainer.sanity_checking:
            message = self.line(trainer, pl_module)
            log_to_files(log.makeRecord(log.name, logging.INFO, __file__, 0, message, None, None))
