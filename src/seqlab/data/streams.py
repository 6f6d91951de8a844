"""Token windows for language modelling: independent windows, or parallel streams for TBPTT.

Both are `WindowDataset`s over one token series (windows by index arithmetic, one gather per
batch). In stream layout a token range is cut into ``streams`` contiguous pieces, each padded
to a whole number of windows, and the windows are ordered step by step: batch ``i`` holds the
``i``-th window of every stream, so row ``b`` of batch ``i + 1`` continues row ``b`` of batch
``i`` exactly where it stopped and the task can carry the hidden state across. Every token of
the range but the first is a target exactly once, whatever the window length, so held-out
metrics of models with different sequence lengths are measured on the same characters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from seqlab.data.base import DataModule
from seqlab.data.windows import WindowDataset
from seqlab.errors import SeqlabError
from seqlab.spec import IGNORE


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


class StreamWindows(WindowDataset):
    """Windows of ``streams`` parallel streams in step order (see `stream_windows`)."""

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor, streams: int, length: int):
        steps = inputs.shape[1] // length
        starts = (
            torch.arange(steps)[:, None] * length + torch.arange(streams)[None, :] * steps * length
        )
        offsets = torch.arange(length)  # the targets are already shifted by one token
        super().__init__(inputs.flatten(), targets.flatten(), starts.flatten(), length, offsets)
        self.streams = streams


def stream_windows(tokens: torch.Tensor, streams: int, length: int) -> StreamWindows:
    """``tokens`` as ``streams`` parallel streams of ``length``-token windows, in step order.

    Stream ``s`` reads ``tokens[s * n : (s + 1) * n]`` and predicts the tokens one further on,
    with ``n = (len(tokens) - 1) // streams`` (fewer than ``streams`` tokens at the end go
    unused); its tail is padded to a whole window with inputs 0 and targets ``IGNORE``.
    Load it with ``batch_size=streams`` and no shuffling.
    """
    per = (len(tokens) - 1) // streams
    if per < 1:
        raise ValueError(f"{len(tokens)} tokens cannot fill {streams} streams")
    steps = -(-per // length)
    inputs = torch.zeros(streams, steps * length, dtype=tokens.dtype)
    targets = torch.full((streams, steps * length), IGNORE, dtype=tokens.dtype)
    used = tokens[: streams * per + 1]
    inputs[:, :per] = used[:-1].view(streams, per)
    targets[:, :per] = used[1:].view(streams, per)
    return StreamWindows(inputs, targets, streams, length)


class TokenDataModule(DataModule):
    """A language-modelling data set: `LanguageData` with the stream layout of `stream_windows`.

    A dataset made by `stream_windows` is loaded in stream order, one row per stream (the
    task may carry its state across batches); any other is loaded in batches of
    ``batch_size``, shuffled for training. Subclasses say how a prompt becomes tokens and
    tokens become a sample on disk.
    """

    sample_length: int = 500
    token_name: str = "tokens"
    never_generate: tuple[int, ...] = ()

    def streamed(self, split: str) -> bool:
        return isinstance(self.datasets[split], StreamWindows)

    def batching(self, split: str) -> dict[str, Any]:
        dataset = self.datasets[split]
        if isinstance(dataset, StreamWindows):
            return {"batch_size": dataset.streams, "shuffle": False}
        return super().batching(split)

    def prompt_tokens(self, prompt: str | None) -> torch.Tensor:
        raise NotImplementedError

    def write_sample(self, tokens: torch.Tensor, prompt_length: int, path: Path) -> list[Path]:
        raise NotImplementedError


def check_order(order: str) -> None:
    """Refuse an unknown ``train_order`` with the choices."""
    if order not in ("streams", "shuffle"):
        raise SeqlabError(f"data.train_order must be 'streams' or 'shuffle', got {order!r}")
