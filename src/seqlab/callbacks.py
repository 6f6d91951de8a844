"""Callbacks seqlab adds to Lightning's: a guard against non-finite loss and a training clock."""

from __future__ import annotations

import random
import time
from typing import Any

import lightning as L
import numpy as np
import torch

from seqlab.errors import SeqlabError


class FiniteLossGuard(L.Callback):
    """Stops training at the first NaN or infinite loss, before it reaches the weights.

    Lightning's early stopping only looks at validation metrics, once per epoch; by then a NaN
    has already been back-propagated into every parameter. The checkpoints written so far stay.
    """

    def on_before_backward(
        self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor
    ) -> None:
        if torch.isfinite(loss).all():
            return
        saved = trainer.checkpoint_callback
        kept = (saved.last_model_path or saved.best_model_path) if saved else ""
        raise SeqlabError(
            f"the training loss became {loss.item()} at step {trainer.global_step} "
            f"(epoch {trainer.current_epoch}); training stopped. "
            f"Last good checkpoint: {kept or 'none yet (no epoch finished)'}. "
            "Lower the learning rate (task.optimizer.lr) or clip gradients "
            "(trainer.gradient_clip_val=1.0)."
        )


class RandomState(L.Callback):
    """Saves the random generators' state in every checkpoint and restores it on resume.

    Shuffling and dropout draw from the global generators; with their state restored, a run
    killed mid-epoch and resumed from its last checkpoint replays exactly what the uninterrupted
    run did, so both reach the same metrics.
    """

    def state_dict(self) -> dict[str, Any]:
        return {
            "torch": torch.get_rng_state(),
            "numpy": np.random.get_state(),
            "python": random.getstate(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        torch.set_rng_state(state_dict["torch"])
        np.random.set_state(state_dict["numpy"])
        random.setstate(state_dict["python"])


class TrainingClock(L.Callback):
    """Seconds spent in training loops and samples seen, for throughput in ``metrics.json``.

    Validation is left out: an epoch is timed from its start to its last training batch.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.samples = 0
        self._epoch_start = 0.0
        self._epoch_seconds = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_start = time.perf_counter()
        self._epoch_seconds = 0.0

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, _: int
    ) -> None:
        self.samples += len(batch[-1])
        self._epoch_seconds = time.perf_counter() - self._epoch_start

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.seconds += self._epoch_seconds

    @property
    def samples_per_second(self) -> float | None:
        return self.samples / self.seconds if self.seconds else None
