"""Callbacks seqlab adds to Lightning's: a guard against a NaN or diverging loss, the random
state in checkpoints, a training clock, checkpointing that survives a moved run folder, and a
moving average of the weights that the test reads too."""

from __future__ import annotations

import math
import os
import random
import time
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import EMAWeightAveraging, ModelCheckpoint
from lightning.pytorch.trainer.states import TrainerFn

from seqlab.errors import ConfigError, SeqlabError


class LossGuard(L.Callback):
    """Stops training when the loss is NaN or infinite, or when it diverges, before the damage
    reaches the weights and the checkpoints.

    Lightning's early stopping only looks at validation metrics, once per epoch; by then a NaN
    has already been back-propagated into every parameter, and a loss that explodes without
    becoming infinite (``task.optimizer.lr=1e6``) trains on to a "best" checkpoint that is
    useless. Divergence: the loss, smoothed over a few steps, stays above ``factor`` times its
    running minimum and above where it started for ``patience`` steps in a row (a loss that
    has fallen far, say when memorising a batch, may bounce without counting). The checkpoints
    written so far stay.
    """

    def __init__(self, factor: float | None = 100.0, patience: int = 10, smoothing: float = 0.9):
        if factor is not None and factor <= 1:
            raise ConfigError(f"callbacks.loss_guard.factor={factor} must be above 1 (or null)")
        self.factor = factor
        self.patience = patience
        self.smoothing = smoothing
        self._smoothed: float | None = None
        self._start = math.inf
        self._minimum = math.inf
        self._above = 0

    def on_before_backward(
        self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor
    ) -> None:
        if not torch.isfinite(loss).all():
            self._stop(trainer, f"the training loss became {loss.item()}")
        if self.factor is None:
            return
        value = float(loss.detach())
        if self._smoothed is None:
            self._smoothed = self._start = value
        else:
            self._smoothed = self.smoothing * self._smoothed + (1 - self.smoothing) * value
        self._minimum = min(self._minimum, self._smoothed)
        diverging = self._smoothed > max(self.factor * self._minimum, self._start)
        self._above = self._above + 1 if diverging else 0
        if self._above >= self.patience:
            self._stop(
                trainer,
                f"the training loss diverged ({self._smoothed:.4g}, smoothed, against a minimum "
                f"of {self._minimum:.4g} for {self.patience} steps)",
            )

    @staticmethod
    def _stop(trainer: L.Trainer, what: str) -> None:
        saved = trainer.checkpoint_callback
        kept = (saved.last_model_path or saved.best_model_path) if saved else ""
        raise SeqlabError(
            f"{what} at step {trainer.global_step} (epoch {trainer.current_epoch}); training "
            f"stopped. Last good checkpoint: {kept or 'none yet (no epoch finished)'}. "
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


class RunCheckpoint(ModelCheckpoint):
    """Lightning's `ModelCheckpoint`, resuming a run folder that was moved or copied.

    Lightning forgets the best score when the checkpoint folder is not where the checkpoint
    says it was, so a resumed copy saves a worse epoch as ``best-v1.ckpt`` and leaves a stale
    ``best.ckpt``. Here the paths recorded under the old folder are read in the new one (same
    file names) when the best checkpoint is there, so best score, ``best.ckpt`` and
    ``last.ckpt`` stay consistent; otherwise (resuming another folder's checkpoint) Lightning's
    own behaviour holds.
    """

    @property
    def state_key(self) -> str:
        # the key Lightning's own class writes: checkpoints from before this class resume too
        return super().state_key.replace(type(self).__qualname__, "ModelCheckpoint", 1)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        old, new = state_dict.get("dirpath"), self.dirpath
        best = state_dict.get("best_model_path") or ""
        if old and new and old != new and best.startswith(old):
            moved = os.path.join(new, os.path.relpath(best, old))
            if os.path.isfile(moved):
                state_dict = self._moved(state_dict, old, new)
        super().load_state_dict(state_dict)

    @staticmethod
    def _moved(state_dict: dict[str, Any], old: str, new: str) -> dict[str, Any]:
        def place(path: Any) -> Any:
            if isinstance(path, str) and path.startswith(old):
                return os.path.join(new, os.path.relpath(path, old))
            return path

        state = {key: place(value) for key, value in state_dict.items()}
        state["dirpath"] = new
        state["best_k_models"] = {
            place(path): score for path, score in (state_dict.get("best_k_models") or {}).items()
        }
        return state


class AveragedWeights(EMAWeightAveraging):
    """Lightning's exponential moving average of the weights, which validation, the
    checkpoints and the test all read.

    Lightning's callback saves the averaged weights as a checkpoint's ``state_dict`` and the
    current ones beside them, and on loading puts the current ones back into the model: right
    for resuming a fit, wrong for ``trainer.test(ckpt_path="best")`` after the fit, which would
    then score weights that validation never chose. Outside a fit the checkpoint's averaged
    weights stay where Lightning loaded them.
    """

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if trainer.state.fn == TrainerFn.FITTING:
            super().on_load_checkpoint(trainer, pl_module, checkpoint)
