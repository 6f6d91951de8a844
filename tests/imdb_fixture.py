"""A tiny IMDB archive in the upstream layout: clearly positive and negative made-up reviews."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np

POSITIVE = ["great", "loved", "wonderful", "superb", "moving"]
NEGATIVE = ["awful", "boring", "terrible", "dull", "waste"]
FILLER = ["the", "movie", "film", "plot", "actors", "was", "a", "and", "it", "story", "of"]
TEST_ONLY = "zyzzyva"  # appears only in test reviews: must never enter the vocabulary


def review(rng: np.random.Generator, mood: list[str], words: int) -> str:
    picks = rng.choice(FILLER + mood * 2, size=words)
    text = " ".join(picks)
    return f"{text.capitalize()}.<br /><br />Really, {mood[0]}!"


def write_imdb_archive(path: Path, per_class: tuple[int, int, int] = (60, 20, 10)) -> None:
    """``per_class``: train and test reviews per label, unlabelled reviews."""
    rng = np.random.default_rng(0)
    train, test, unsup = per_class
    files: dict[str, bytes] = {"aclImdb/README": b"tiny IMDB fixture\n"}
    for split, count in (("train", train), ("test", test)):
        for label, mood, rating in (("pos", POSITIVE, 9), ("neg", NEGATIVE, 2)):
            for i in range(count):
                text = review(rng, mood, int(rng.integers(3, 40)))
                if split == "test":
                    text += f" {TEST_ONLY}"
                files[f"aclImdb/{split}/{label}/{i}_{rating}.txt"] = text.encode()
    for i in range(unsup):
        files[f"aclImdb/train/unsup/{i}_0.txt"] = review(rng, FILLER, 20).encode()
    files["aclImdb/train/pos/999_10.txt"] = b"Caf\xe9 was great \xff\xfe"  # not UTF-8
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
