"""Forecasting: regress future values of a series, report errors in the target's own units."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchmetrics import MeanAbsoluteError, MinMetric

from seqlab.data.spec import TaskSpec
from seqlab.plots import plot_forecast
from seqlab.tasks.base import OptimizerFactory, SchedulerFactory, SeqlabTask
from seqlab.tasks.network import NetFactory, build_network


class ForecastingTask(SeqlabTask):
    """Trains architecture → head on standardised targets with ``loss`` (MSE or Huber).

    Metrics are computed after undoing the standardisation, so ``val/mae`` reads in °C or riders.
    """

    def __init__(
        self,
        net: NetFactory,
        spec: TaskSpec,
        optimizer: OptimizerFactory,
        loss: nn.Module | None = None,
        scheduler: SchedulerFactory | None = None,
        monitor: str = "val/mae",
        monitor_mode: str = "min",
    ) -> None:
        super().__init__(optimizer, scheduler, monitor, monitor_mode)
        self.spec = spec
        self.adapter, self.net, self.head = build_network(net, spec)
        self.loss_fn = loss if loss is not None else nn.MSELoss()
        repeat = spec.output_size // max(len(spec.target_std), 1)
        self.register_buffer("target_mean", torch.tensor(spec.target_mean).repeat(repeat))
        self.register_buffer("target_std", torch.tensor(spec.target_std).repeat(repeat))
        self.train_mae = MeanAbsoluteError()
        self.val_mae = MeanAbsoluteError()
        self.test_mae = MeanAbsoluteError()
        self.val_mae_best = MinMetric()
        self.test_predictions: list[torch.Tensor] = []
        self.test_targets: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions in standardised units."""
        return self.head(self.net(self.adapter(x)))

    def natural(self, y: torch.Tensor) -> torch.Tensor:
        """Standardised values back to the target's own units."""
        return y * self.target_std + self.target_mean

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        x, y = batch
        pred = self(x)
        return self.loss_fn(pred, y), self.natural(pred), self.natural(y)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        loss, pred, target = self._step(batch)
        self.train_mae(pred, target)
        size = len(target)
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        self.log("train/mae", self.train_mae, on_step=False, on_epoch=True, batch_size=size)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
        loss, pred, target = self._step(batch)
        self.val_mae(pred, target)
        size = len(target)
        self.log("val/loss", loss, batch_size=size, sync_dist=True)
        self.log("val/mae", self.val_mae, prog_bar=True, batch_size=size)

    def on_validation_epoch_end(self) -> None:
        if not self.trainer.sanity_checking:
            self.val_mae_best(self.val_mae.compute())
            self.log("val/mae_best", self.val_mae_best.compute(), sync_dist=True)

    def on_test_epoch_start(self) -> None:
        self.test_predictions.clear()
        self.test_targets.clear()

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
        loss, pred, target = self._step(batch)
        self.test_mae(pred, target)
        size = len(target)
        self.log("test/loss", loss, batch_size=size, sync_dist=True)
        self.log("test/mae", self.test_mae, batch_size=size)
        self.test_predictions.append(pred.detach().cpu())
        self.test_targets.append(target.detach().cpu())

    def write_artifacts(self, output_dir: Path, title: str) -> list[Path]:
        if not self.test_predictions:
            return []
        path = plot_forecast(
            torch.cat(self.test_predictions),
            torch.cat(self.test_targets),
            output_dir / "forecast.png",
            title=f"{title}: {self.spec.target_names[0]}, test split",
            unit=self.spec.unit,
        )
        return [path]
