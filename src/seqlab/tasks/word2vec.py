"""Word vectors learnt without labels: skip-gram with negative sampling (word2vec) on IMDB.

The vocabulary is the one ``data=imdb`` fits (its training split, ``max_tokens``,
``split_seed``), so every vector has a word the classifier knows; the text is the 50,000 reviews
of ``train/unsup`` plus the training split's (never validation or test text). The vectors feed
``task.pretrained_embeddings``, matched word by word (``scripts/pretrain_embeddings.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from seqlab.data.imdb import ImdbDataModule, tokenized_corpus

# (epoch, batches done, batches in the epoch, mean loss so far), after every batch
Progress = Callable[[int, int, int, float], None]


def training_stream(dm: ImdbDataModule) -> np.ndarray:
    """Vocabulary indices of unsup + training-split text, one flat array, OOV dropped."""
    corpus = tokenized_corpus(dm.path, dm.cache_dir, unsup=True)
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


def skipgram(
    dm: ImdbDataModule,
    dim: int = 256,
    epochs: int = 1,
    window: int = 4,
    negatives: int = 5,
    batch: int = 8192,
    progress: Progress | None = None,
) -> torch.Tensor:
    """One ``dim``-wide vector per word of ``dm``'s fitted vocabulary (``dm`` set up).

    Frequent words are subsampled and negatives drawn from the unigram distribution to the
    power 0.75, as in word2vec; seeded (0), so the same data give the same vectors.
    """
    ids = training_stream(dm)
    size = dm.vectorizer.size
    counts = np.bincount(ids, minlength=size).astype(np.float64)
    frequency = counts / counts.sum()
    keep = np.minimum(
        1.0, np.sqrt(1e-4 / np.maximum(frequency, 1e-12)) + 1e-4 / np.maximum(frequency, 1e-12)
    )
    noise = torch.from_numpy(counts**0.75 / (counts**0.75).sum())
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    inputs = nn.Embedding(size, dim, sparse=True)
    outputs = nn.Embedding(size, dim, sparse=True)
    nn.init.uniform_(inputs.weight, -0.5 / dim, 0.5 / dim)
    nn.init.zeros_(outputs.weight)
    optimizer = torch.optim.SparseAdam([inputs.weight, outputs.weight], lr=0.002)
    for epoch in range(epochs):
        kept = ids[rng.random(len(ids)) < keep[ids]]
        centers, contexts = pairs(kept, window, rng)
        order = torch.from_numpy(rng.permutation(len(centers)))
        centers, contexts = torch.from_numpy(centers)[order], torch.from_numpy(contexts)[order]
        steps = -(-len(centers) // batch)
        total = 0.0
        for step, begin in enumerate(range(0, len(centers), batch)):
            c = inputs(centers[begin : begin + batch])
            o = outputs(contexts[begin : begin + batch])
            negative = torch.multinomial(noise, len(c) * negatives, replacement=True)
            n = outputs(negative).view(len(c), negatives, -1)
            positive_score = (c * o).sum(-1)
            negative_score = torch.bmm(n, c.unsqueeze(-1)).squeeze(-1)
            loss = -(
                nn.functional.logsigmoid(positive_score)
                + nn.functional.logsigmoid(-negative_score).sum(-1)
            ).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            if progress is not None:
                progress(epoch, step + 1, steps, total / (step + 1))
    return inputs.weight.detach().clone()
