"""What every task LightningModule shares: the loop's shape (one step for any split, the best
validation metric), optimiser wiring and a self-describing checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from torchmetrics import MaxMetric, MinMetric

from seqlab.nets.base import SequenceNet

OptimizerFactory = Callable[..., torch.optim.Optimizer]
SchedulerFactory = Callable[..., Any]


class SeqlabTask(L.LightningModule):
    """Base of the tasks. ``optimizer`` / ``scheduler`` are Hydra ``_partial_`` factories.

    The base owns the loop: every split's batch goes through `forward_loss` (the loss and what
    the metrics need) and `update_metrics` (the task's metrics of that split); every epoch ends
    with `epoch_metrics`, whose value of ``monitor`` after each validation feeds the best-so-far
    metric (``val/mae_best``, ``val/acc_best``). A task says only what differs.

    The run's resolved configuration rides along in every checkpoint (``seqlab_config``), so
    ``evaluate.py ckpt_path=…`` can rebuild data and model without the original command line.
    """

    # what the training step's loss is logged as, on the progress bar
    train_loss_key = "train/loss"
    # what pictures call the run (train.py: "lstm on jena")
    title = "run"
    net: SequenceNet  # the architecture, built from the spec by `tasks.network.build_network`

    def __init__(
        self,
        optimizer: OptimizerFactory,
        scheduler: SchedulerFactory | None = None,
        monitor: str = "val/loss",
        monitor_mode: str = "min",
    ) -> None:
        super().__init__()
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.monitor = monitor
        self.monitor_mode = monitor_mode
        self.monitor_best = MinMetric() if monitor_mode == "min" else MaxMetric()
        self.run_config: dict[str, Any] | None = None

    def trainable(self) -> bool:
        """False for parameter-free baselines, which are evaluated but never fitted."""
        return any(p.requires_grad for p in self.parameters())

    def forward_loss(self, batch: Any, split: str) -> tuple[torch.Tensor, Any]:
        """One batch of ``split``: its loss and what `update_metrics` needs (predictions)."""
        raise NotImplementedError

    def update_metrics(self, split: str, batch: Any, loss: torch.Tensor, outputs: Any) -> None:
        """Accumulate (and log, where a value is logged per batch) ``split``'s metrics."""

    def epoch_metrics(self, split: str) -> dict[str, Any]:
        """Log ``split``'s metrics at the end of its epoch and return them by logged name."""
        return {}

    def metric_units(self) -> dict[str, str]:
        """The unit of each metric that reads in the data's own units (``mae``: °C), for
        reports; none by default (accuracy, bits per character carry their unit in the name)."""
        return {}

    def loss(self, batch: Any) -> torch.Tensor:
        """One training batch's loss from a fresh state: forward and loss, no logging, metrics
        or state carried across batches; what a plain PyTorch loop would optimise (benchmarks)."""
        return self.forward_loss(batch, "train")[0]

    def _batch(self, batch: Any, split: str) -> torch.Tensor:
        loss, outputs = self.forward_loss(batch, split)
        self.update_metrics(split, batch, loss, outputs)
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss = self._batch(batch, "train")
        if self._logs_step(batch_idx):
            self.log(self.train_loss_key, loss, prog_bar=True, batch_size=len(batch[-1]))
        return loss

    def _logs_step(self, batch_idx: int) -> bool:
        """Whether the training loss of this step reaches a logger or the progress bar: on the
        steps the logger writes (``trainer.log_every_n_steps``) and each epoch's last, since a
        `log` call costs a net as small as DLinear about 8 % of its step."""
        trainer = self._trainer
        if trainer is None:  # called by hand: `log` warns there is no Trainer to log to
            return True
        return (
            trainer._logger_connector.should_update_logs
            or batch_idx + 1 >= trainer.num_training_batches
        )

    def validation_step(self, batch: Any, _: int) -> None:
        self._batch(batch, "val")

    def test_step(self, batch: Any, _: int) -> None:
        self._batch(batch, "test")

    def on_train_epoch_end(self) -> None:
        # metrics logged once per epoch: every self.log call costs the small nets a few % a step
        self.epoch_metrics("train")

    def on_validation_epoch_end(self) -> None:
        values = self.epoch_metrics("val")
        if not self.trainer.sanity_checking and self.monitor in values:
            self.monitor_best(values[self.monitor])
            self.log(f"{self.monitor}_best", self.monitor_best.compute(), sync_dist=True)

    def on_test_epoch_end(self) -> None:
        self.epoch_metrics("test")

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(params=self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "monitor": self.monitor, "interval": "epoch"},
        }

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.run_config is not None:
            checkpoint["seqlab_config"] = self.run_config
