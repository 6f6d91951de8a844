"""IMDB movie reviews: binary sentiment, 25k training and 25k test reviews, as in the reference.

The archive is read in memory (one gzip pass, then tarfile over the decompressed bytes), never
extracted: writing 100,000 small files and reading them back costs more than vectorising them.
The word-level tokenisation of every review is cached under ``cache_dir``, so later runs skip
it; the vocabulary is then fitted on the training reviews only (never the validation or test
ones) and travels with the run in the DataModule's ``state_dict`` (stored in checkpoints).
``benchmarks/`` holds the measured start-up times.
"""

from __future__ import annotations

import io
import re
import tarfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqlab.data import sources
from seqlab.data.labelled import LabelledTexts, discard_cache, load_cache
from seqlab.data.text import Vectorizer, corpus_word_ids, segment_ids
from seqlab.errors import DataError
from seqlab.files import write_torch_atomic

SPLITS = ("train", "test", "unsup")
LABELS = ("neg", "pos")  # folder names; label 0 and 1
CLASS_NAMES = ("negative", "positive")
_REVIEW = re.compile(r"(?:\./)?aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt")
_CACHE_VERSION = 3  # bump when standardisation or the cache layout changes
_VECTORS_VERSION = 4  # the fitted splits' cache: bump when the split or its order changes


def read_reviews(archive: Path, unsup: bool = True) -> dict[str, tuple[list[str], list[int]]]:
    """Texts and labels (0 neg, 1 pos, -1 unlabelled) per split, in file-name order.

    Bytes that are not UTF-8 are replaced, not fatal. A damaged archive raises DataError.
    """
    try:
        with archive.open("rb") as f:
            inflate = zlib.decompressobj(31)
            data = inflate.decompress(f.read())
        if not inflate.eof:  # gzip's CRC covers every byte, so a complete stream is intact
            raise EOFError("the gzip stream ends early")
        found: dict[str, list[tuple[int, int, str]]] = {s: [] for s in SPLITS}
        for name, offset, size in _tar_files(data):
            match = _REVIEW.fullmatch(name)
            if not match:
                continue
            split, kind, number, _ = match.groups()
            if kind == "unsup":
                if not unsup:
                    continue
                split, label = "unsup", -1
            else:
                label = LABELS.index(kind)
            raw = data[offset : offset + size]
            found[split].append((label, int(number), raw.decode("utf-8", "replace")))
    except (*sources._CORRUPT, OSError, ValueError) as e:  # ValueError: a garbled tar header
        raise DataError(
            f"Cannot read {archive}: the archive is truncated or corrupt ({e}). "
            f"Delete it and re-run to download it again (or copy in a good one)."
        ) from e
    reviews = {}
    for split, rows in found.items():
        rows.sort(key=lambda row: row[:2])
        reviews[split] = ([r[2] for r in rows], [r[0] for r in rows])
    for split in ("train", "test"):
        if not reviews[split][0]:
            raise DataError(
                f"{archive} holds no aclImdb/{split}/pos|neg/*.txt reviews; it is not the IMDB "
                f"archive aclImdb_v1.tar.gz. Replace it with the upstream file."
            )
    return reviews


def _tar_files(data: bytes) -> list[tuple[str, int, int]]:
    """(name, data offset, size) of every regular file in an uncompressed tar archive.

    Python's ``tarfile`` builds a TarInfo per member, which was most of the cold read of 100k
    reviews; plain ustar headers are walked directly here, and any other header (pax, GNU long
    names) hands the whole archive to ``tarfile``.
    """
    files, position = [], 0
    while position + 512 <= len(data):
        header = data[position : position + 512]
        if not header.strip(b"\0"):  # the end-of-archive blocks
            return files
        if header[257:262] != b"ustar" or header[156:157] not in (b"0", b"\0", b"5"):
            return _tar_files_slow(data)
        size = int(header[124:136].strip(b"\0 ") or b"0", 8)
        prefix, name = header[345:500].rstrip(b"\0"), header[:100].rstrip(b"\0")
        path = (prefix + b"/" + name if prefix else name).decode("utf-8", "replace")
        position += 512
        if position + size > len(data):
            raise tarfile.ReadError(f"{path} is cut short")
        if header[156:157] != b"5":
            files.append((path, position, size))
        position += -(-size // 512) * 512
    raise tarfile.ReadError("the archive ends without its end-of-archive blocks")


def _tar_files_slow(data: bytes) -> list[tuple[str, int, int]]:
    with io.BytesIO(data) as buffer, tarfile.open(fileobj=buffer, mode="r:") as tar:
        return [(m.name, m.offset_data, m.size) for m in tar if m.isfile()]


def tokenized_corpus(archive: Path, cache_dir: Path | None, unsup: bool = False) -> dict[str, Any]:
    """Every review as word ids over the corpus's words, cached by the archive's identity.

    The 50,000 unlabelled ``train/unsup`` reviews double the work and only embedding pretraining
    reads them, so they are tokenised (into a cache of their own) only when ``unsup=True``.
    """
    stat = archive.stat()
    part = "-unsup" if unsup else ""
    name = f"tokens-v{_CACHE_VERSION}{part}-{stat.st_size}-{stat.st_mtime_ns}.pt"
    cached = Path(cache_dir) / "imdb" / name if cache_dir else None
    splits = SPLITS if unsup else SPLITS[:2]
    corpus = load_cache(cached)
    if corpus is not None:
        try:
            corpus["words"] = corpus["words"].split("\n")  # one string unpickles far faster
            for split in splits:
                _check_split(corpus[split], ("ids", "offsets", "labels"))
            return corpus
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            discard_cache(cached, error)
    reviews = read_reviews(archive, unsup)
    texts = [t for s in splits for t in reviews[s][0]]
    words, flat, offsets = corpus_word_ids(texts)
    corpus: dict[str, Any] = {"words": words}
    begin = 0
    for split in splits:
        count = len(reviews[split][0])
        edges = offsets[begin : begin + count + 1]
        corpus[split] = {
            "ids": torch.from_numpy(flat[edges[0] : edges[-1]].copy()),
            "offsets": torch.from_numpy(edges - edges[0]),
            "labels": torch.tensor(reviews[split][1], dtype=torch.int64),
        }
        begin += count
    if cached is not None:
        write_torch_atomic(cached, {**corpus, "words": "\n".join(words)})
    return corpus


def _check_split(split: dict[str, torch.Tensor], keys: tuple[str, str, str]) -> None:
    """Raise ValueError unless a cached split's flat values, offsets and labels fit together."""
    flat, offsets, labels = (split[key] for key in keys)
    if not all(isinstance(t, torch.Tensor) for t in (flat, offsets, labels)):
        raise ValueError("a cached split is not made of tensors")
    if (
        offsets.ndim != 1
        or len(offsets) != len(labels) + 1
        or int(offsets[0]) != 0
        or int(offsets[-1]) != len(flat)
        or bool((offsets.diff() < 0).any())
    ):
        raise ValueError("a cached split's offsets do not match its values and labels")


class ImdbDataModule(LabelledTexts):
    """Train 25k (``val_fraction`` held out, seeded), test 25k; vocabulary from training only.

    ``output_mode`` ``int`` gives padded id sequences (batches ``(ids, lengths, labels)``,
    length-bucketed for training when ``bucket=True``); ``multi_hot`` / ``count`` / ``tf_idf``
    give bag-of-n-gram vectors (batches ``(features, labels)``) for ``model=bow``.
    """

    data_name = "imdb"
    class_names = CLASS_NAMES
    counted = "reviews"

    def locate(self) -> Path:
        return self.fetch("imdb")

    def _indexed(self, path: Path) -> dict[str, tuple[np.ndarray, np.ndarray, torch.Tensor]]:
        """Vocabulary indices, text numbers and labels per split, fitting the vocabulary.

        The fitted result is cached too (by archive and vocabulary options), so a second run
        neither re-reads the archive nor re-counts n-grams.
        """
        stat = path.stat()
        h = self.hparams
        name = (
            f"vectors-v{_VECTORS_VERSION}-{stat.st_size}-{stat.st_mtime_ns}-{h.max_tokens}-"
            f"{h.ngrams}-{h.split_seed}-{h.val_fraction}{'-idf' if self._needs_idf else ''}.pt"
        )
        cached = self.cache_dir / "imdb" / name if self.cache_dir else None
        saved = load_cache(cached) if self.vectorizer is None else None
        if saved is not None:
            try:
                state = saved["vectorizer"]
                idf = state["idf"].numpy() if self._needs_idf else None
                vectorizer = Vectorizer(
                    state["words"].split("\n"), state["grams"].numpy(), idf, h.ngrams
                )
                for split in ("train", "val", "test"):
                    _check_split(saved["splits"][split], ("index", "offsets", "labels"))
                indexed = {
                    split: (d["index"].numpy(), segment_ids(d["offsets"].numpy()), d["labels"])
                    for split, d in saved["splits"].items()
                }
                self.vectorizer = vectorizer
                return indexed
            except (KeyError, TypeError, AttributeError, ValueError, IndexError) as error:
                discard_cache(cached, error)
        corpus = tokenized_corpus(path, self.cache_dir)
        words = corpus["words"]
        train = corpus["train"]
        n = len(train["labels"])
        generator = torch.Generator().manual_seed(h.split_seed)
        order = torch.randperm(n, generator=generator)
        n_val = int(round(h.val_fraction * n))
        # The reviews come sorted by label (all negative, then all positive). Validation and test
        # keep a seeded random order, so that their first batches (debug=limit,
        # trainer.limit_val_batches) hold both classes and accuracy, F1 and AUROC mean something.
        parts = {
            "train": (train, order[n_val:].sort().values),  # shuffled by its loader anyway
            "val": (train, order[:n_val]),
            "test": (
                corpus["test"],
                torch.randperm(len(corpus["test"]["labels"]), generator=generator),
            ),
        }
        selected = {split: _select(split_data, rows) for split, (split_data, rows) in parts.items()}
        fitting = self.vectorizer is None
        if fitting:
            ids, offsets, _ = selected["train"]
            self.vectorizer = Vectorizer.fit(
                words, ids, offsets, h.max_tokens, h.ngrams, idf=self._needs_idf
            )
        remap = self.vectorizer.corpus_map(words)
        indexed = {}
        for split, (ids, offsets, labels) in selected.items():
            index, texts = self.vectorizer.index(remap[ids], offsets)
            indexed[split] = (index, texts, labels)
        if fitting and cached is not None:
            vectorizer = self.vectorizer
            state = {
                "words": "\n".join(vectorizer.words),
                "grams": torch.from_numpy(vectorizer.grams),
                "idf": torch.from_numpy(vectorizer.idf) if self._needs_idf else torch.zeros(0),
            }
            splits = {
                split: {
                    "index": torch.from_numpy(index.astype(np.int32)),
                    "offsets": torch.from_numpy(np.searchsorted(texts, np.arange(len(labels) + 1))),
                    "labels": labels,
                }
                for split, (index, texts, labels) in indexed.items()
            }
            write_torch_atomic(cached, {"vectorizer": state, "splits": splits})
        return indexed


def _select(
    split: dict[str, torch.Tensor], rows: torch.Tensor | None
) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """Flat ids, offsets and labels of the chosen reviews (all when ``rows`` is None)."""
    ids, offsets, labels = split["ids"].numpy(), split["offsets"].numpy(), split["labels"]
    if rows is None:
        return ids, offsets, labels
    starts, ends = offsets[rows.numpy()], offsets[rows.numpy() + 1]
    lengths = ends - starts
    new_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    take = np.repeat(starts - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
    return ids[take], new_offsets, labels[rows]
