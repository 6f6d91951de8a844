"""Time-series windows by index arithmetic: one contiguous series, samples are index ranges.

A window is never materialised ahead of time. ``__getitems__`` gathers a whole batch with one
indexing operation, so memory stays O(series) and the loader costs one gather per batch.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset


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
    if targets_in_split:
        end = min(end, series_length)
        count = end - begin - last_target_offset
    else:
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
    last input row of a 120-step window has offset 143. With ``covariates`` (values known in
    advance, such as the calendar), a sample also carries ``covariates[s + offsets]``: the known
    future of each target step, as a third part.
    """

    def __init__(
        self,
        series: torch.Tensor,
        targets: torch.Tensor,
        starts: torch.Tensor,
        length: int,
        target_offsets: torch.Tensor,
        covariates: torch.Tensor | None = None,
    ) -> None:
        self.series = series
        self.targets = targets
        self.starts = starts
        self.steps = torch.arange(length)
        self.target_offsets = target_offsets
        self.covariates = covariates

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return tuple(part[0] for part in self.__getitems__([index]))

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        starts = self.starts[torch.as_tensor(indices)]
        x = self.series[starts[:, None] + self.steps]
        rows = starts[:, None] + self.target_offsets
        y = self.targets[rows].flatten(1)
        if self.covariates is None:
            return x, y
        return x, y, self.covariates[rows]


def batch_as_is(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Collate for datasets whose ``__getitems__`` already returns a whole batch."""
    return batch


class SplitLoaders:
    """The three split loaders of a DataModule (a mixin); only the training split is shuffled.

    Needs ``self.datasets`` (split → dataset) and ``batch_size`` / ``num_workers`` hparams.
    A DataModule that batches differently (length buckets, say) overrides ``_loader`` only.
    """

    datasets: dict[str, WindowDataset]
    hparams: Any

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        workers = self.hparams.num_workers
        return DataLoader(
            self.datasets[split],
            batch_size=self.hparams.batch_size,
            shuffle=shuffle,
            collate_fn=batch_as_is,
            num_workers=workers,
            persistent_workers=workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
