"""Time-series windows by index arithmetic: one contiguous series, samples are index ranges.

A window is never materialised ahead of time. ``__getitems__`` gathers a whole batch with one
indexing operation, so memory stays O(series) and the loader costs one gather per batch.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset


def window_starts(
    begin: int, end: int, length: int, last_target_offset: int, series_length: int
) -> torch.Tensor:
    """Start rows of every window whose inputs lie in ``[begin, end)``.

    Follows Keras' ``timeseries_dataset_from_array(data[:-delay], targets[delay:],
    start_index=begin, end_index=end)``: the inputs stay inside the split, the target may lie
    past its end, and no window's target may fall beyond the series.
    """
    end = min(end, series_length - last_target_offset)
    count = end - begin - (length - 1)
    if count <= 0:
        raise ValueError(
            f"no complete window of {length} steps (+{last_target_offset - length + 1} ahead) "
            f"fits in rows {begin}..{end}: the split is too short for this sequence length"
        )
    return torch.arange(begin, begin + count)


class WindowDataset(Dataset):
    """Samples ``(series[s : s + length], targets[s + offsets])`` for each start ``s``.

    ``target_offsets`` are counted from the window's first row, so a target 24 steps after the
    last input row of a 120-step window has offset 143.
    """

    def __init__(
        self,
        series: torch.Tensor,
        targets: torch.Tensor,
        starts: torch.Tensor,
        length: int,
        target_offsets: torch.Tensor,
    ) -> None:
        self.series = series
        self.targets = targets
        self.starts = starts
        self.steps = torch.arange(length)
        self.target_offsets = target_offsets

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.__getitems__([index])
        return x[0], y[0]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        starts = self.starts[torch.as_tensor(indices)]
        x = self.series[starts[:, None] + self.steps]
        y = self.targets[starts[:, None] + self.target_offsets]
        return x, y.flatten(1)


def batch_as_is(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Collate for datasets whose ``__getitems__`` already returns a whole batch."""
    return batch
