"""Time-series windows by index arithmetic: one contiguous series, samples are index ranges.

A window is never materialised ahead of time. ``__getitems__`` gathers a whole batch with one
indexing operation, so memory stays O(series) and the loader costs one gather per batch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset


def window_starts(
    begin: int,
    end: int,
    length: int,
    last_target_offset: int,
    series_length: int,
    targets_in_split: bool = False,
) -> torch.Tensor:
    """Start rows of every window whose inputs lie in ``[begin, end)``.

    By default follows Keras' ``timeseries_dataset_from_array(data[:-delay], targets[delay:],
    start_index=begin, end_index=end)`` (the Jena example): the inputs stay inside the split, the
    target may lie past its end, and no window's target may fall beyond the series.
    ``targets_in_split`` follows ``timeseries_dataset_from_array(split, targets=split[length:])``
    (the Chicago example) instead: windows are cut inside the split, targets included, so the
    first target is the split's row ``length`` and no target leaves the split.
    """
    rows = min(end, series_length) - begin
    needs = last_target_offset + 1 if targets_in_split else length
    if targets_in_split:
        end = min(end, series_length)
        count = end - begin - last_target_offset
    else:
        end = min(end, series_length - last_target_offset)
        count = end - begin - (length - 1)
    if count <= 0:
        raise ValueError(
            f"no complete window of {length} steps (+{last_target_offset - length + 1} ahead) "
            f"fits in the split's {max(rows, 0):,} rows (from row {begin:,}; a window needs "
            f"{needs:,}): the split is too short for this sequence length"
        )
    return torch.arange(begin, begin + count)


class BatchedDataset(Dataset):
    """A dataset read a batch at a time (``__getitems__``, one gather per batch); a single
    sample is a batch of one."""

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return tuple(part[0] for part in self.__getitems__([index]))


class WindowDataset(BatchedDataset):
    """Samples ``(series[s : s + length], targets[s + offsets])`` for each start ``s``.

    ``target_offsets`` are counted from the window's first row, so a target 24 steps after the
    last input row of a 120-step window has offset 143. With ``covariates`` (values known in
    advance, such as the calendar), a sample also carries ``covariates[s + offsets]``: the known
    future of each target step, as a third part. ``times`` (one per row of the series) date the
    samples (`target_times`).
    """

    def __init__(
        self,
        series: torch.Tensor,
        targets: torch.Tensor,
        starts: torch.Tensor,
        length: int,
        target_offsets: torch.Tensor,
        covariates: torch.Tensor | None = None,
        times: np.ndarray | None = None,
    ) -> None:
        self.series = series
        self.times = times
        self.targets = targets
        self.starts = starts
        self.steps = torch.arange(length)
        self.target_offsets = target_offsets
        self.covariates = covariates

    def target_times(self) -> np.ndarray:
        """The time of each sample's first target (``datetime64``), in sample order."""
        if self.times is None:
            raise ValueError("this WindowDataset was built without the times of its rows")
        return self.times[(self.starts + self.target_offsets[0]).numpy()]

    def __len__(self) -> int:
        return len(self.starts)

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        starts = self.starts[torch.as_tensor(indices)]
        x = self.series[starts[:, None] + self.steps]
        rows = starts[:, None] + self.target_offsets
        y = self.targets[rows].flatten(1)
        if self.covariates is None:
            return x, y
        return x, y, self.covariates[rows]


class DatedWindows:
    """A DataModule of dated `WindowDataset` splits: when each sample's target falls, and which
    stretch of a split a forecast plot shows (``plot_steps`` targets from ``plot_from``, or from
    the split's start; its last ones if the split ends before), so a picture can show the part
    of a test span that matters."""

    datasets: dict[str, WindowDataset]
    plot_from: str | None = None
    plot_steps: int = 24 * 14

    def target_times(self, split: str) -> np.ndarray:
        return self.datasets[split].target_times()

    def plot_stretch(self, times: np.ndarray) -> slice:
        """Which of the consecutive targets dated ``times`` (a split's first ones) to plot."""
        first = int(np.searchsorted(times, np.datetime64(self.plot_from or times[0])))
        first = min(first, max(len(times) - self.plot_steps, 0))  # a split ending before it
        return slice(first, first + self.plot_steps)
