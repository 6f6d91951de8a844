"""DLinear and NLinear (Zeng et al., "Are Transformers Effective for Time Series Forecasting?",
AAAI 2023): one linear map of each series' look-back window to its horizon.

Each target series is forecast from its own window only (channel-independent), as the authors'
``models/DLinear.py`` and ``models/NLinear.py`` do: DLinear splits the window into a moving-average
trend (kernel 25, the ends padded by repeating the first and last values) and the remainder and
maps each with its own linear layer, then sums; NLinear subtracts the window's last value and adds
it back. ``individual`` gives every series its own layers (the authors' ``--individual``);
otherwise they are shared across series. Both predict the targets themselves (no head).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from seqlab.nets.base import NetInput, SequenceNet
from seqlab.spec import TaskSpec


class SeriesLinear(SequenceNet):
    """The targets' own windows → their next ``horizon`` values, one linear map per part."""

    task_kinds = frozenset({"forecasting"})
    predicts_targets = True
    fixed_length = True
    parts = 1

    @classmethod
    def incompatibility(cls, spec: TaskSpec, **options: Any) -> str | None:
        reason = super().incompatibility(spec, **options)
        if reason is None and not spec.target_index:
            reason = (
                "it forecasts each target from its own past, and this data set's inputs do not "
                "hold the targets"
            )
        return reason

    def __init__(self, spec: TaskSpec, individual: bool = False) -> None:
        super().__init__()
        if spec.sequence_length is None:  # the task checks `incompatibility` first
            raise ValueError(f"{type(self).__name__} needs fixed-length windows")
        self.target_index = list(spec.target_index)
        # the inputs are the targets themselves (data=weather): no gather per batch
        self.reads_all = self.target_index == list(range(spec.input_size))
        self.horizon = spec.horizon
        # forecast from the step after the window to the last target; keep the last `horizon`
        ahead = spec.lead + spec.horizon - 1
        copies = len(self.target_index) if individual else 1
        self.maps = nn.ModuleList(
            nn.ModuleList(nn.Linear(spec.sequence_length, ahead) for _ in range(copies))
            for _ in range(self.parts)
        )
        self.output_size = spec.output_size

    def split(self, series: torch.Tensor) -> list[torch.Tensor]:
        """The parts of ``(batch, series, time)`` windows that get their own map."""
        return [series]

    def forward(self, inputs: NetInput) -> torch.Tensor:
        x = inputs.x if self.reads_all else inputs.x[:, :, self.target_index]
        series = x.transpose(1, 2)  # (batch, series, time)
        forecast = 0
        for part, maps in zip(self.split(series), self.maps, strict=True):
            if len(maps) == 1:
                forecast = forecast + maps[0](part)
            else:
                forecast = forecast + torch.stack(
                    [m(part[:, i]) for i, m in enumerate(maps)], dim=1
                )
        forecast = self.restore(forecast, series)[:, :, -self.horizon :]
        return forecast.transpose(1, 2).flatten(1)  # (batch, horizon × series), step-major

    def restore(self, forecast: torch.Tensor, series: torch.Tensor) -> torch.Tensor:
        return forecast


class DLinear(SeriesLinear):
    """Trend (moving average over ``kernel_size`` steps) and remainder, a linear map each.

    The average is a difference of cumulative sums, the same numbers as the authors'
    ``nn.AvgPool1d`` up to rounding and about 7x faster on a CPU, where on a net this small it
    is most of a step (benchmarks/weather_dlinear.md).
    """

    parts = 2

    def __init__(self, spec: TaskSpec, individual: bool = False, kernel_size: int = 25) -> None:
        super().__init__(spec, individual)
        self.kernel_size = kernel_size
        self.pad = (kernel_size - 1) // 2

    def split(self, series: torch.Tensor) -> list[torch.Tensor]:
        front = series[:, :, :1].expand(-1, -1, self.pad)
        end = series[:, :, -1:].expand(-1, -1, self.pad)
        padded = torch.cat([front, series, end], dim=2)
        sums = nn.functional.pad(padded.cumsum(dim=2), (1, 0))
        width = self.kernel_size
        trend = (sums[:, :, width:] - sums[:, :, :-width]) / width
        return [series - trend, trend]


class NLinear(SeriesLinear):
    """The window relative to its last value, mapped; the last value added back."""

    def split(self, series: torch.Tensor) -> list[torch.Tensor]:
        return [series - series[:, :, -1:]]

    def restore(self, forecast: torch.Tensor, series: torch.Tensor) -> torch.Tensor:
        return forecast + series[:, :, -1:]
