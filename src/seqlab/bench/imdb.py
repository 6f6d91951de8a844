"""IMDB speed: vectorisation (cold and cached) and BiLSTM epochs, bucketed or not.

Measured in one process on the same data, model and seed: the reference's Embedding(256) +
BiLSTM(32), batch 32, masked (padding never reaches the state), for one epoch (or its first
``batches`` batches) three ways: seqlab's (length-bucketed batches, masking on the fused
kernels), the same net on randomly composed batches, and the usual PyTorch baseline (random
batches through ``pack_padded_sequence``); then, after full epochs, each one's validation
accuracy. The data are the ``data=imdb`` configuration's (``conf/data/imdb.yaml``, ``conf/paths``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from seqlab.data.imdb import ImdbDataModule
from seqlab.nets.recurrent import Recurrent
from seqlab.run.compose import configured_datamodule
from seqlab.spec import TaskSpec


def vectorise_seconds(cache_dir: Path, mode: str, ngrams: int) -> float:
    """Seconds to read, split, fit and index the reviews with the cache in ``cache_dir``."""
    dm = configured_datamodule(
        ["data=imdb"], cache_dir=str(cache_dir), output_mode=mode, ngrams=ngrams
    )
    started = time.perf_counter()
    dm.prepare_data()
    dm.setup()
    return round(time.perf_counter() - started, 2)


class PackedBiLSTM(nn.Module):
    """The usual PyTorch masking: ``pack_padded_sequence`` into a bidirectional LSTM."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(256, 32, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, True, enforce_sorted=False)
        _, (hidden, _) = self.rnn(packed)
        return torch.cat([hidden[0], hidden[1]], dim=-1)


def epoch(
    dm: ImdbDataModule, bucket: bool, packed: bool, batches: int | None, seed: int = 0
) -> dict:
    """Train a fresh model for one (partial) epoch: seconds, padding, and after a full epoch the
    validation accuracy."""
    torch.manual_seed(seed)
    spec = TaskSpec("imdb", "classification", "real", 256, 1)
    rnn = (
        PackedBiLSTM()
        if packed
        else Recurrent(spec, cell="lstm", hidden_size=32, bidirectional=True)
    )
    model = nn.ModuleDict(
        {
            "embedding": nn.Embedding(dm.spec.input_size, 256, padding_idx=0),
            "rnn": rnn,
            "head": nn.Linear(64, 1),
        }
    )
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    dm.hparams.bucket = bucket

    def logits(ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return model["head"](model["rnn"](model["embedding"](ids), lengths=lengths)).squeeze(-1)

    started, steps, tokens, padded = time.perf_counter(), 0, 0, 0
    model.train()
    for ids, lengths, labels in dm.train_dataloader():
        loss = nn.functional.binary_cross_entropy_with_logits(logits(ids, lengths), labels.float())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps, tokens, padded = steps + 1, tokens + int(lengths.sum()), padded + ids.numel()
        if batches and steps == batches:
            break
    seconds = time.perf_counter() - started
    result = {
        "batches": steps,
        # to the millisecond: the speed-ups divide these, and a short run's may be under 0.1 s
        "seconds": round(seconds, 3),
        "seconds_per_full_epoch": round(seconds * len(dm.train_dataloader()) / steps, 3),
        "padding_share": round(1 - tokens / padded, 3),
    }
    if batches is None:  # accuracy after a partial epoch says nothing; after a full one it does
        model.eval()
        correct = 0
        with torch.no_grad():
            for ids, lengths, labels in dm.val_dataloader():
                correct += int(((logits(ids, lengths) > 0).long() == labels).sum())
        result["val_acc"] = round(correct / len(dm.datasets["val"]), 4)
    return result


def measure(batches: int | None, cold: bool = True) -> dict:
    """Vectorisation seconds and the three epochs (see the module docstring)."""
    result: dict = {"threads": torch.get_num_threads(), "cpus": os.cpu_count()}
    if cold:
        for mode, ngrams in (("int", 1), ("multi_hot", 2)):
            empty = Path(tempfile.mkdtemp(prefix="seqlab-bench-"))
            try:
                result[f"vectorise_{mode}_{ngrams}gram_cold_s"] = vectorise_seconds(
                    empty, mode, ngrams
                )
                result[f"vectorise_{mode}_{ngrams}gram_cached_s"] = vectorise_seconds(
                    empty, mode, ngrams
                )
            finally:
                shutil.rmtree(empty, ignore_errors=True)
    dm = configured_datamodule(["data=imdb"], output_mode="int", batch_size=32)
    dm.prepare_data()
    dm.setup()
    result["bucketed"] = epoch(dm, bucket=True, packed=False, batches=batches)
    result["unsorted"] = epoch(dm, bucket=False, packed=False, batches=batches)
    result["unsorted_packed"] = epoch(dm, bucket=False, packed=True, batches=batches)
    for baseline in ("unsorted", "unsorted_packed"):
        result[f"speedup_vs_{baseline}"] = round(
            result[baseline]["seconds_per_full_epoch"]
            / result["bucketed"]["seconds_per_full_epoch"],
            2,
        )
    return result


def markdown(result: dict) -> list[str]:
    """Markdown lines of `measure`'s result."""
    lines = [
        "Vectorisation of the 50,000 labelled reviews from the archive (read, standardise, split, "
        "fit the vocabulary on the training split, index all), with an empty cache and then from "
        "it (targets: cold <= 10 s, cached <= 2 s):",
        "",
        "| output | cold s | cached s |",
        "|---|---|---|",
    ]
    for mode in ("int_1gram", "multi_hot_2gram"):
        if f"vectorise_{mode}_cold_s" in result:
            lines.append(
                f"| {mode.replace('_', ' ')} | {result[f'vectorise_{mode}_cold_s']} "
                f"| {result[f'vectorise_{mode}_cached_s']} |"
            )
    lines += [
        "",
        "Embedding(256) + BiLSTM(32), masked, batch 32, RMSprop, one epoch of the 20,000 training "
        "reviews (extrapolated from the first batches when `batches` < all); target: seqlab's "
        "bucketed epoch >= 3x faster than the same model on randomly composed batches.",
        "",
        "| batches | masking | batches timed | s per epoch | padding share | val acc |",
        "|---|---|---|---|---|---|",
    ]
    for key, batches, masking in (
        ("bucketed", "length-bucketed", "fused kernels (seqlab)"),
        ("unsorted", "random", "fused kernels (seqlab)"),
        ("unsorted_packed", "random", "pack_padded_sequence"),
    ):
        row = result[key]
        lines.append(
            f"| {batches} | {masking} | {row['batches']} | {row['seconds_per_full_epoch']:.1f} "
            f"| {row['padding_share']} | {row.get('val_acc', '')} |"
        )
    lines += [
        "",
        f"Speed-up of seqlab's epoch: {result['speedup_vs_unsorted']}x over the same net on random "
        f"batches, {result['speedup_vs_unsorted_packed']}x over random batches with "
        "`pack_padded_sequence`.",
    ]
    return lines
