"""Forecasting: regress future values of a series, report errors in the target's own units."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import torch
from torch import nn
from torchmetrics import MeanAbsoluteError, MeanSquaredError

from seqlab.errors import ConfigError
from seqlab.nets.base import NetInput
from seqlab.nets.baselines import Naive
from seqlab.spec import TaskSpec
from seqlab.tasks.base import OptimizerFactory, SchedulerFactory, SeqlabTask
from seqlab.tasks.capabilities import Forecasts
from seqlab.tasks.network import NetFactory, build_network

Batch = tuple[torch.Tensor, ...]  # inputs, targets[, known future covariates]


Level = Literal["shift", "window", "seasonal"]
Scale = Literal["natural", "standardised"]
SCALES = ("natural", "standardised")
METRICS = ("mae", "mse")
CHANNELS = ("mixed", "independent")


def channel_spec(spec: TaskSpec) -> TaskSpec:
    """What a net sees when every channel is its own series (``task.channels=independent``):
    one input series, its ``horizon`` next values."""
    if spec.target_index != tuple(range(spec.input_size)) or spec.covariates:
        raise ConfigError(
            f"task.channels=independent forecasts every input series from its own past, and "
            f"data={spec.data_name}'s inputs are not exactly its targets; set "
            "data.features=target (data=csv: data.target=all for every column), or "
            "task.channels=mixed"
        )
    first = spec.target_names[:1]
    return replace(
        spec,
        input_size=1,
        output_size=spec.horizon,
        target_names=first,
        target_index=(0,),
        series_index=(0,),
        target_mean=(0.0,),
        target_std=(1.0,),
        feature_names=first,
        channels=len(spec.target_index),
    )


LEVELS = ("shift", "window", "seasonal")
MIN_SCALE = 1e-5  # a flat window's scale: its values pass unscaled instead of dividing by ~0


class WindowLevel(nn.Module):
    """Level-invariant forecasting: the net sees each window relative to its own level and
    forecasts in those units; the forecast is mapped back.

    Why: a net fed absolute levels only knows the levels it was trained on. When a series leaves
    them (Chicago ridership in 2020 fell to a fifth), its forecasts stay near the old level,
    while a naive forecaster follows the window. ``shift`` subtracts each window's mean of every
    measured series (``spec.series_index``, the targets if empty) and adds the target's back to
    the forecast; ``window`` also divides by the window's standard deviation and multiplies the
    forecast by it (reversible instance normalisation without its affine weights); ``seasonal``
    reads the window as ``window`` does and forecasts the change from the seasonal naive value
    (``spec.season`` steps back), in the window's scale. A shifted (and, with ``window`` or
    ``seasonal``, scaled) copy of a window then gets the shifted (and scaled) forecast.
    Calendar and day-type inputs pass unchanged. ``steps`` takes the level and scale from the
    window's last ``steps`` steps only (a level that moved inside the window: the latest one).
    """

    def __init__(self, spec: TaskSpec, level: Level, steps: int | None = None) -> None:
        super().__init__()
        if level not in LEVELS:
            raise ConfigError(f"task.level={level!r}: choose one of {', '.join(('null', *LEVELS))}")
        if steps is not None and not 2 <= steps <= (spec.sequence_length or steps):
            raise ConfigError(
                f"task.level_steps={steps} must lie in 2..data.sequence_length "
                f"({spec.sequence_length}), or be null for the whole window"
            )
        if not spec.target_index:
            raise ConfigError(
                f"task.level={level} rescales each window by the level of its target series, "
                f"and data={spec.data_name}'s inputs do not hold the targets; set task.level=null"
            )
        self.scaled, self.steps = level != "shift", steps
        # seasonal: the naive forecaster's rows and columns, the base of each output
        self.naive = Naive(spec, lag=spec.season) if level == "seasonal" else None
        self.columns = list(dict.fromkeys([*spec.series_index, *spec.target_index]))
        # where each output value's target series sits among the rescaled columns
        self.outputs = [self.columns.index(i) for i in spec.target_index] * spec.horizon

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The window relative to its level, and each output's base and scale ``(batch, out)``."""
        values = x[:, :, self.columns]
        recent = values if self.steps is None else values[:, -self.steps :]
        loc = recent.mean(dim=1, keepdim=True)
        if self.scaled:
            scale = recent.std(dim=1, unbiased=False, keepdim=True).clamp_min(MIN_SCALE)
        else:
            scale = torch.ones_like(loc)
        base = loc[:, 0, self.outputs] if self.naive is None else self.naive(NetInput(x))
        x = x.clone()
        x[:, :, self.columns] = (values - loc) / scale
        return x, base, scale[:, 0, self.outputs]


class ForecastingTask(SeqlabTask):
    """Trains architecture → head on standardised targets with ``loss`` (MSE or Huber).

    Metrics are computed after undoing the standardisation, so ``val/mae`` reads in °C or riders.
    With several outputs ``val/mae`` is their mean, and the task also logs the MAE of each
    horizon step (``val/mae_t+1`` … ``val/mae_t+14``) and of each target (``val/mae_rail``).

    Three kinds of architecture are served. Most map a window to features (one forecast per
    window). A ``per_step`` net (seq2seq) forecasts the next ``horizon`` steps at every time step:
    it is trained on every step, the targets of the earlier steps being read off the window
    itself, and scored on the last step's forecast. Every net gets the known future covariates
    of each target step and, in training, the true targets for teacher forcing (`NetInput`),
    which an encoder–decoder reads.

    ``level`` (``task.level``): null feeds the net absolute levels; ``shift`` or ``window`` makes
    every net forecast relative to each window's own level (`WindowLevel`). The loss is computed
    on the forecasts mapped back, so it means what it means without the option.

    ``scale`` says where ``metrics`` (``mae``, ``mse``) are measured: in the targets' own units
    (``natural``), or on the standardised values, as the long-horizon benchmark publishes them
    (``standardised``: averaged over every window, step and channel), with the MAE of the
    ``natural_targets`` in their own units beside. ``breakdown`` logs the MAE of every horizon
    step and target (natural units).

    ``channels``: ``mixed`` (a net reads every input series at once) or ``independent`` (each
    series is its own window through one shared net, as DLinear and PatchTST read multivariate
    files; with ``level=window`` this is PatchTST's reversible instance normalisation).
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
        level: Level | None = None,
        level_steps: int | None = None,
        scale: Scale = "natural",
        metrics: tuple[str, ...] | list[str] = ("mae",),
        breakdown: bool = True,
        natural_targets: tuple[str, ...] | list[str] = (),
        channels: str = "mixed",
    ) -> None:
        super().__init__(optimizer, scheduler, monitor, monitor_mode)
        if scale not in SCALES:
            raise ConfigError(f"task.scale={scale!r}: choose natural or standardised")
        if not metrics or any(m not in METRICS for m in metrics):
            raise ConfigError(f"task.metrics={list(metrics)}: choose among {list(METRICS)}")
        if unknown := [t for t in natural_targets if t not in spec.target_names]:
            raise ConfigError(
                f"task.natural_targets={list(natural_targets)}: data={spec.data_name} has no "
                f"target {unknown[0]!r}; its targets are {list(spec.target_names)}"
            )
        self.spec = spec
        self.scale, self.metrics, self.breakdown = scale, tuple(metrics), breakdown
        self.natural_targets = tuple(natural_targets)
        if channels not in CHANNELS:
            raise ConfigError(f"task.channels={channels!r}: choose mixed or independent")
        self.independent = channels == "independent"
        self.level = None if level is None else WindowLevel(spec, level, level_steps)
        net_spec = channel_spec(spec) if self.independent else spec
        self.adapter, self.net, self.head = build_network(net, net_spec)
        if self.independent and self.net.per_step:
            raise ConfigError(
                "task.channels=independent: a net with features at every step (seq2seq, "
                "model.per_step) is not served yet; set task.channels=mixed"
            )
        self.loss_fn = loss if loss is not None else nn.MSELoss()
        repeat = spec.output_size // max(len(spec.target_std), 1)
        self.register_buffer("target_mean", torch.tensor(spec.target_mean).repeat(repeat))
        self.register_buffer("target_std", torch.tensor(spec.target_std).repeat(repeat))
        # the training MAE as a plain running sum (absolute errors, values): a torchmetrics
        # update costs a small net such as DLinear about 8 % of its step
        self.register_buffer("train_error", torch.zeros(2, dtype=torch.float64), persistent=False)
        self.val_mae = MeanAbsoluteError()
        self.test_mae = MeanAbsoluteError()
        self.val_mse = MeanSquaredError()
        self.test_mse = MeanSquaredError()
        self.val_columns = MeanAbsoluteError(num_outputs=spec.output_size)
        self.test_columns = MeanAbsoluteError(num_outputs=spec.output_size)
        self.test_predictions: list[torch.Tensor] = []
        self.test_targets: list[torch.Tensor] = []
        # the data set's naive forecaster, drawn beside the model in forecast.png
        self.naive = Naive(spec, lag=spec.season) if spec.target_index else None
        self.test_naive: list[torch.Tensor] = []

    def forward(
        self,
        x: torch.Tensor,
        future: torch.Tensor | None = None,
        teacher: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predictions in standardised units (per time step for a ``per_step`` net)."""
        x = self.adapter(x)
        if self.level is None:
            return self._forecast(x, future, teacher)
        x, loc, scale = self.level(x)
        if teacher is not None:
            teacher = (teacher - loc) / scale
        pred = self._forecast(x, future, teacher)
        if pred.dim() == 3:  # per step: the window's level holds for every step
            loc, scale = loc[:, None], scale[:, None]
        return pred * scale + loc

    def _forecast(
        self, x: torch.Tensor, future: torch.Tensor | None, teacher: torch.Tensor | None
    ) -> torch.Tensor:
        batch, channels = len(x), x.shape[-1]
        channel = None
        if self.independent:  # (batch × channels) windows of one series each
            x = x.transpose(1, 2).reshape(batch * channels, -1, 1)
            channel = torch.arange(channels, device=x.device).repeat(batch)
            if teacher is not None:
                teacher = teacher.view(batch, -1, channels).transpose(1, 2).flatten(0, 1)
            if future is not None:
                future = future.repeat_interleave(channels, dim=0)
        inputs = NetInput(
            x, future=future, teacher=teacher, epoch=self.current_epoch, channel=channel
        )
        pred = self.head(self.net(inputs))
        if self.independent:  # back to (batch, horizon × channels), step-major
            pred = pred.view(batch, channels, -1).transpose(1, 2).flatten(1)
        return pred

    def metric_units(self) -> dict[str, str]:
        """The unit of each metric that reads in the targets' own units (``mae``: °C)."""
        if self.scale == "natural":
            return {"mae": self.spec.unit}
        return {f"mae_{name}": self.spec.unit for name in self.natural_targets}

    def natural(self, y: torch.Tensor) -> torch.Tensor:
        """Standardised values back to the target's own units."""
        return y * self.target_std + self.target_mean

    def step_targets(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The ``horizon`` values following each time step of the window: ``(batch, time, out)``.

        The window's own target columns continue into the targets (``spec.lead == 1``), so the
        sequence of target values is the window's (from its second step) then the targets.
        """
        horizon, width = self.spec.horizon, len(self.spec.target_index)
        future = y.view(len(y), horizon, width)
        values = torch.cat([x[:, 1:, list(self.spec.target_index)], future], dim=1)
        steps = values.unfold(1, horizon, 1)  # (batch, time, width, horizon)
        return steps.transpose(2, 3).flatten(2)

    def forward_loss(
        self, batch: Batch, split: str
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """The loss, predictions and targets in standardised units."""
        x, y, *rest = batch
        future = rest[0] if rest else None
        pred = self(x, future, y if self.training else None)
        if self.net.per_step:
            loss = self.loss_fn(pred, self.step_targets(x, y))
            pred = pred[:, -1].contiguous()  # the last step's forecast, as metrics read it
        else:
            loss = self.loss_fn(pred, y)
        return loss, (pred, y)

    def update_metrics(
        self, split: str, batch: Batch, loss: torch.Tensor, outputs: tuple[torch.Tensor, ...]
    ) -> None:
        if split == "train":
            pred, target = outputs if self.scale == "standardised" else map(self.natural, outputs)
            self.train_error[0] += (pred.detach() - target).abs().sum()
            self.train_error[1] += target.numel()
            return
        pred, target = self.natural(outputs[0]), self.natural(outputs[1])
        scored = outputs if self.scale == "standardised" else (pred, target)
        size = len(target)
        self.log(f"{split}/loss", loss, batch_size=size, sync_dist=True)
        for name in self.metrics:
            metric = getattr(self, f"{split}_{name}")
            metric(*scored)
            self.log(f"{split}/{name}", metric, prog_bar=split == "val", batch_size=size)
        (self.val_columns if split == "val" else self.test_columns).update(pred, target)
        if split == "test":  # for pictures: the first target, every horizon step
            width = len(self.spec.target_names)
            self.test_predictions.append(pred[:, ::width].detach().cpu())
            self.test_targets.append(target[:, ::width].detach().cpu())
            if self.naive is not None:
                naive = self.natural(self.naive(NetInput(batch[0])))
                self.test_naive.append(naive[:, ::width].cpu())

    def epoch_metrics(self, split: str) -> dict[str, torch.Tensor]:
        if split == "train":
            total, count = self.train_error
            self.log("train/mae", (total / count).float(), sync_dist=True)
            self.train_error.zero_()
            return {}
        self._log_breakdown(split, self.val_columns if split == "val" else self.test_columns)
        if split != "val":
            return {}
        return {f"val/{name}": getattr(self, f"val_{name}").compute() for name in self.metrics}

    def _log_breakdown(self, split: str, columns: MeanAbsoluteError) -> None:
        """MAE per horizon step and per target, when there are several of either."""
        horizon, width = self.spec.horizon, len(self.spec.target_names)
        natural = self.natural_targets if self.scale == "standardised" or width == 1 else ()
        if (self.breakdown and horizon * width > 1) or natural:
            table = columns.compute().view(horizon, width)
            if self.breakdown and horizon > 1:
                for step, value in enumerate(table.mean(dim=1), start=1):
                    self.log(f"{split}/mae_t+{step}", value)
            for name, value in zip(self.spec.target_names, table.mean(dim=0), strict=True):
                if (self.breakdown and width > 1) or name in natural:
                    self.log(f"{split}/mae_{name}", value)
        columns.reset()

    def on_test_epoch_start(self) -> None:
        self.test_predictions.clear()
        self.test_targets.clear()
        self.test_naive.clear()

    def test_forecasts(self) -> Forecasts | None:
        """The last test pass's forecasts, targets and naive forecasts (None before one)."""
        if not self.test_predictions:
            return None
        naive = torch.cat(self.test_naive) if self.test_naive else None
        return Forecasts(
            torch.cat(self.test_predictions), torch.cat(self.test_targets), naive, self.spec
        )
