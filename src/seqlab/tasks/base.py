"""What every task LightningModule shares: optimiser wiring and a self-describing checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import torch

OptimizerFactory = Callable[..., torch.optim.Optimizer]
SchedulerFactory = Callable[..., Any]


class SeqlabTask(L.LightningModule):
    """Base of the tasks. ``optimizer`` / ``scheduler`` are Hydra ``_partial_`` factories.

    The run's resolved configuration rides along in every checkpoint (``seqlab_config``), so
    ``evaluate.py ckpt_path=…`` can rebuild data and model without the original command line.
    """

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
        self.run_config: dict[str, Any] | None = None

    def trainable(self) -> bool:
        """False for parameter-free baselines, which are evaluated but never fitted."""
        return any(p.requires_grad for p in self.parameters())

    def loss(self, batch: Any) -> torch.Tensor:
        """One training batch's loss from a fresh state: forward and loss, no logging, metrics
        or state carried across batches; what a plain PyTorch loop would optimise (benchmarks)."""
        raise NotImplementedError

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

    def write_artifacts(self, output_dir: Path, title: str) -> list[Path]:
        """Pictures, samples or sounds of the finished run (after testing); none by default."""
        return []

    def net_pictures(self, output_dir: Path, title: str) -> list[Path]:
        """What the architecture offers to be drawn, whatever the task: after testing, the
        attention weights of the first window of the last test batch (``attention.png``)."""
        net = getattr(self, "net", None)
        weights = None if net is None else net.attention_map()
        if weights is None:
            return []
        from seqlab.media.plots import plot_attention  # matplotlib only for runs that draw

        name = f"{title}: attention, a test window"
        return [plot_attention(weights[0].cpu(), output_dir / "attention.png", name)]
