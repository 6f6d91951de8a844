"""IMDB speed benchmark: vectorisation (cold and cached) and BiLSTM epochs, bucketed vs not.

    python scripts/bench_imdb.py [--batches N] [--skip-cold]

Measured in one process on the same data, model and seed: the reference's Embedding(256) +
BiLSTM(32) with packed sequences, one epoch (or its first ``--batches`` batches) with
length-bucketed batches and one with randomly composed batches (same texts, same packing), then
(for full epochs) the accuracy of each on the validation split. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from seqlab.data.imdb import ImdbDataModule
from seqlab.data.spec import TaskSpec
from seqlab.nets.recurrent import Recurrent


def vectorise_seconds(data_dir: Path, cache_dir: Path) -> float:
    started = time.perf_counter()
    dm = ImdbDataModule(data_dir, cache_dir=cache_dir, output_mode="multi_hot", ngrams=2)
    dm.prepare_data()
    dm.setup()
    return round(time.perf_counter() - started, 2)


def epoch(dm: ImdbDataModule, bucket: bool, batches: int | None, seed: int = 0) -> dict:
    """Train a fresh model for one (partial) epoch: seconds, padding, and after a full epoch the
    validation accuracy."""
    torch.manual_seed(seed)
    spec = TaskSpec("imdb", "classification", "real", 256, 1)
    model = nn.ModuleDict(
        {
            "embedding": nn.Embedding(dm.spec.input_size, 256, padding_idx=0),
            "rnn": Recurrent(spec, cell="lstm", hidden_size=32, bidirectional=True),
            "head": nn.Linear(64, 1),
        }
    )
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    dm.hparams.bucket = bucket

    def logits(ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return model["head"](model["rnn"](model["embedding"](ids), lengths)).squeeze(-1)

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
        "seconds": round(seconds, 1),
        "seconds_per_full_epoch": round(seconds * len(dm.train_dataloader()) / steps, 1),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=None, help="train batches per epoch")
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold vectorisation")
    args = parser.parse_args()
    data_dir = Path(os.environ.get("SEQLAB_DATA_DIR", "data"))
    result: dict = {"threads": torch.get_num_threads(), "cpus": os.cpu_count()}
    if not args.skip_cold:
        cold = Path(tempfile.mkdtemp(prefix="seqlab-bench-"))
        try:
            result["vectorise_cold_s"] = vectorise_seconds(data_dir, cold)
            result["vectorise_cached_s"] = vectorise_seconds(data_dir, cold)
        finally:
            shutil.rmtree(cold, ignore_errors=True)
    cache = Path(os.environ.get("SEQLAB_CACHE_DIR", ".cache/seqlab"))
    dm = ImdbDataModule(data_dir, cache_dir=cache, output_mode="int", batch_size=32)
    dm.prepare_data()
    dm.setup()
    result["bucketed"] = epoch(dm, bucket=True, batches=args.batches)
    result["unsorted"] = epoch(dm, bucket=False, batches=args.batches)
    result["speedup"] = round(
        result["unsorted"]["seconds_per_full_epoch"] / result["bucketed"]["seconds_per_full_epoch"],
        2,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
