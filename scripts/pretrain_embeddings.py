"""Word2vec (skip-gram, negative sampling) on IMDB's unlabelled reviews, no internet needed.

    python scripts/pretrain_embeddings.py [--dim 256] [--epochs 1] [--out PATH]

The vocabulary is the one `data=imdb` fits (training split, same ``max_tokens`` and
``split_seed``), so every vector has a word the classifier knows. Trains on the 50,000 reviews of
``train/unsup`` plus the training split's text (never validation or test text). The output
``{"words", "vectors"}`` feeds ``task.pretrained_embeddings=PATH``, matched word by word.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seqlab.data.imdb import ImdbDataModule, tokenized_corpus


def training_stream(dm: ImdbDataModule, cache: Path) -> np.ndarray:
    """Vocabulary indices of unsup + training-split text, one flat array, OOV dropped."""
    corpus = tokenized_corpus(dm.path, cache, unsup=True)
    remap = dm.vectorizer.corpus_map(corpus["words"])
    unsup = corpus["unsup"]
    index, _ = dm.vectorizer.index(remap[unsup["ids"].numpy()], unsup["offsets"].numpy())
    ids = np.concatenate([index, dm.datasets["train"].flat.numpy()])
    return ids[ids > 1]


def pairs(ids: np.ndarray, window: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(center, context) pairs within a random window of 1..``window`` words either side."""
    reach = rng.integers(1, window + 1, size=len(ids))
    centers, contexts = [], []
    for d in range(1, window + 1):
        near = np.flatnonzero(reach[:-d] >= d)
        centers += [ids[near], ids[near + d]]
        contexts += [ids[near + d], ids[near]]
    return np.concatenate(centers), np.concatenate(contexts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--negatives", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8192)
    parser.add_argument("--max-tokens", type=int, default=20_000)
    parser.add_argument("--split-seed", type=int, default=1337)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    cache = Path(os.environ.get("SEQLAB_CACHE_DIR", ".cache/seqlab"))
    dm = ImdbDataModule(
        os.environ.get("SEQLAB_DATA_DIR", "data"),
        cache_dir=cache,
        max_tokens=args.max_tokens,
        split_seed=args.split_seed,
    )
    dm.prepare_data()
    dm.setup()
    ids = training_stream(dm, cache)
    size = dm.vectorizer.size
    counts = np.bincount(ids, minlength=size).astype(np.float64)
    frequency = counts / counts.sum()
    keep = np.minimum(
        1.0, np.sqrt(1e-4 / np.maximum(frequency, 1e-12)) + 1e-4 / np.maximum(frequency, 1e-12)
    )
    noise = torch.from_numpy(counts**0.75 / (counts**0.75).sum())
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    inputs = nn.Embedding(size, args.dim, sparse=True)
    outputs = nn.Embedding(size, args.dim, sparse=True)
    nn.init.uniform_(inputs.weight, -0.5 / args.dim, 0.5 / args.dim)
    nn.init.zeros_(outputs.weight)
    optimizer = torch.optim.SparseAdam([inputs.weight, outputs.weight], lr=0.002)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        kept = ids[rng.random(len(ids)) < keep[ids]]
        centers, contexts = pairs(kept, args.window, rng)
        order = torch.from_numpy(rng.permutation(len(centers)))
        centers, contexts = torch.from_numpy(centers)[order], torch.from_numpy(contexts)[order]
        total = 0.0
        for step, begin in enumerate(range(0, len(centers), args.batch)):
            c = inputs(centers[begin : begin + args.batch])
            o = outputs(contexts[begin : begin + args.batch])
            negative = torch.multinomial(noise, len(c) * args.negatives, replacement=True)
            n = outputs(negative).view(len(c), args.negatives, -1)
            positive_score = (c * o).sum(-1)
            negative_score = torch.bmm(n, c.unsqueeze(-1)).squeeze(-1)
            loss = -(
                nn.functional.logsigmoid(positive_score)
                + nn.functional.logsigmoid(-negative_score).sum(-1)
            ).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss)
            if step % 500 == 0:
                print(f"epoch {epoch} step {step} loss {total / (step + 1):.4f}", flush=True)
        print(f"epoch {epoch}: {len(centers):,} pairs, {time.perf_counter() - started:.0f} s")
    out = args.out or cache / "imdb" / f"word2vec-{args.dim}.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"words": dm.vectorizer.vocabulary, "vectors": inputs.weight.detach().clone()}, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
