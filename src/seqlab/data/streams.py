"""Loaders for language modelling: shuffled windows, or parallel streams for truncated BPTT.

Both read a `WindowDataset` of token windows (inputs ``series[s : s + T]``, targets shifted by
one). In stream order the windows of a split are cut into ``batch_size`` contiguous streams and
batch ``i`` holds the ``i``-th window of every stream, so row ``b`` of batch ``i + 1`` continues
row ``b`` of batch ``i`` exactly where it stopped: the task can carry the hidden state across.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Sampler

from seqlab.data.spec import TaskSpec
from seqlab.data.windows import WindowDataset, batch_as_is
from seqlab.errors import SeqlabError


class StreamBatchSampler(Sampler[list[int]]):
    """Batches of window indices in stream order: ``[b * steps + i for b in range(streams)]``.

    ``num_windows`` consecutive, non-overlapping windows are split into ``streams`` runs of
    ``steps = num_windows // streams`` windows; the remainder (fewer than ``streams`` windows)
    is left out so that every batch has one row per stream.
    """

    def __init__(self, num_windows: int, streams: int) -> None:
        if num_windows < streams:
            raise ValueError(
                f"{num_windows} windows cannot fill {streams} streams: lower the batch size "
                "or the sequence length"
            )
        self.streams = streams
        self.steps = num_windows // streams

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[list[int]]:
        for i in range(self.steps):
            yield [b * self.steps + i for b in range(self.streams)]


def range_starts(begin: int, end: int, length: int, stride: int) -> torch.Tensor:
    """Start tokens of the windows of ``length`` (+1 target) tokens in ``[begin, end)``."""
    count = (end - begin - length - 1) // stride + 1
    if count <= 0:
        raise ValueError(
            f"no window of {length}+1 tokens fits in tokens {begin}..{end}: the split is too "
            "short for this sequence length"
        )
    return begin + stride * torch.arange(count)


def next_token_windows(series: torch.Tensor, starts: torch.Tensor, length: int) -> WindowDataset:
    """Windows ``series[s : s + length]`` whose targets are the same tokens shifted by one."""
    return WindowDataset(series, series, starts, length, torch.arange(1, length + 1))


class TokenDataModule(L.LightningDataModule):
    """Loaders and the generation interface shared by the language-modelling data sets.

    ``train_order`` is ``"streams"`` (truncated BPTT: the task carries the state across
    batches) or ``"shuffle"`` (independent windows, state reset every batch). Validation and
    test are always stream-ordered, non-overlapping windows, so each held-out token is scored
    exactly once; whether the state is carried there is the task's choice. Subclasses fill
    ``datasets`` and ``spec`` in ``setup`` and say how tokens become prompts and samples.
    """

    sample_length: int = 500  # tokens generated for the end-of-training sample
    token_name: str = "tokens"  # what a token is, for speed reports ("chars", "notes")

    def __init__(self) -> None:
        super().__init__()
        self.datasets: dict[str, WindowDataset] = {}
        self.spec: TaskSpec | None = None
        self.provenance: dict[str, Any] = {}

    def _loader(self, split: str, streams: bool) -> DataLoader:
        dataset, batch_size = self.datasets[split], self.hparams.batch_size
        if streams:
            sampler = StreamBatchSampler(len(dataset), batch_size)
            return DataLoader(dataset, batch_sampler=sampler, collate_fn=batch_as_is)
        return DataLoader(dataset, batch_size=batch_size, shuffle=True, collate_fn=batch_as_is)

    def train_dataloader(self) -> DataLoader:
        order = self.hparams.train_order
        if order not in ("streams", "shuffle"):
            raise SeqlabError(f"data.train_order must be 'streams' or 'shuffle', got {order!r}")
        return self._loader("train", streams=order == "streams")

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", streams=True)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", streams=True)

    def prompt_tokens(self, prompt: str | None) -> torch.Tensor:
        """The token ids generation starts from; ``None``: the data set's default prompt."""
        raise NotImplementedError

    def write_sample(self, tokens: torch.Tensor, prompt_length: int, path: Path) -> list[Path]:
        """Save a generated sequence (prompt included) next to ``path`` (no suffix)."""
        raise NotImplementedError
