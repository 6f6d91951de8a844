"""Text vectorisation: standardise, split into words, index a fitted vocabulary (unigrams/bigrams).

Standardisation runs in the Rust ``tokenizers`` normaliser; words are split and numbered once per
corpus with C-level dict lookups; n-gram counting and vocabulary lookup are vectorised numpy over
one flat array of word ids. The reference's Keras ``TextVectorization`` conventions hold: index 0
is padding, 1 is out-of-vocabulary, then the ``max_tokens - 2`` most frequent training n-grams.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import chain
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from tokenizers import Regex, normalizers

from seqlab.errors import DataError, SeqlabError

PAD, OOV = "[PAD]", "[UNK]"
OutputMode = Literal["int", "multi_hot", "count", "tf_idf"]
# Keras' "lower_and_strip_punctuation", plus the HTML line breaks IMDB reviews are full of.
_PUNCTUATION = r"""[!"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~']"""


def _standardizer() -> normalizers.Normalizer:
    """Strip ``<br />``, lower-case, drop punctuation (Keras' ``lower_and_strip_punctuation``)."""
    return normalizers.Sequence(
        [
            normalizers.Replace(Regex(r"<br\s*/?>"), " "),
            normalizers.Lowercase(),
            normalizers.Replace(Regex(_PUNCTUATION), ""),
        ]
    )


def decoded(raw: bytes, path: Path, encoding: str) -> str:
    """A file's bytes as text; bytes the encoding cannot read are one error naming the file and
    line, and ``data.encoding=`` as the way on."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataError(
            f"{path}, line {line}: bytes that are not {encoding} "
            f"({raw[error.start : error.start + 4]!r}); name the file's encoding with "
            "data.encoding=<name> (e.g. data.encoding=latin-1)"
        ) from error
    except LookupError as error:
        raise DataError(f"data.encoding={encoding}: no such encoding ({error})") from error


def split_words(texts: Sequence[str]) -> list[list[str]]:
    """Each text standardised (by the ``tokenizers`` normaliser) and split on whitespace.

    Word lookup is a Python dict, not a ``tokenizers`` model, which would build an ``Encoding``
    object per review (token strings, offsets, masks) that costs more than the lookup itself.
    """
    normalize = _standardizer().normalize_str
    return [normalize(text).split() for text in texts]


def lookup_ids(
    words: list[list[str]], index: dict[str, int], default: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Word ids of every text as one flat int32 array and the texts' int64 offsets into it.

    Words missing from ``index`` get ``default`` (``None``: every word must be there).
    """
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    find = index.__getitem__ if default is None else lambda w: index.get(w, default)
    flat = np.fromiter(
        map(find, chain.from_iterable(words)), dtype=np.int32, count=int(offsets[-1])
    )
    return flat, offsets


def corpus_word_ids(
    texts: Sequence[str], workers: int | None = None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Index every distinct word of ``texts``: (words, flat ids, offsets), ids into ``words``.

    This is the split-independent, cacheable part of vectorisation; which words make the
    vocabulary is decided later by `Vectorizer.fit` from the training texts' counts alone.
    Words are numbered in order of first appearance after the padding and OOV markers. Large
    corpora are cut into one contiguous chunk per CPU (forked processes: the tokenizers
    normaliser holds the GIL), each numbered on its own, then the numberings are merged.
    """
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(texts) < 1_000 or sys.platform != "linux":
        return _number_words(texts)
    bounds = np.linspace(0, len(texts), workers + 1).astype(int)
    chunks = [texts[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = list(pool.map(_number_words, chunks))
    words = [PAD, OOV, *dict.fromkeys(chain.from_iterable(w[2:] for w, _, _ in parts))]
    index = {w: i for i, w in enumerate(words)}
    flats, offsets = [], [np.zeros(1, dtype=np.int64)]
    for part_words, flat, part_offsets in parts:
        remap = np.fromiter(map(index.__getitem__, part_words), np.int32, len(part_words))
        flats.append(remap[flat])
        offsets.append(part_offsets[1:] + offsets[-1][-1])
    return words, np.concatenate(flats), np.concatenate(offsets)


def _number_words(texts: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    per_text = split_words(texts)
    words = [PAD, OOV, *dict.fromkeys(chain.from_iterable(per_text))]
    flat, offsets = lookup_ids(per_text, {w: i for i, w in enumerate(words)})
    return words, flat, offsets


def segment_ids(offsets: np.ndarray) -> np.ndarray:
    """For a flat array cut at ``offsets``, the segment (text) number of every element."""
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def _bigram_keys(ids: np.ndarray, offsets: np.ndarray, width: int) -> np.ndarray:
    """Keys of every in-text bigram (a, b): ``(a + 1) * width + b``, above every word id."""
    inside = np.ones(len(ids), dtype=bool)
    inside[offsets[1:-1] - 1] = False  # the last word of a text does not pair with the next text
    firsts = np.flatnonzero(inside[:-1]) if len(ids) else np.zeros(0, dtype=np.int64)
    return (ids[firsts].astype(np.int64) + 1) * width + ids[firsts + 1]


def _gram_offsets(offsets: np.ndarray, ngrams: int) -> np.ndarray:
    """The text number of every n-gram as `Vectorizer.index` looks them up (all words, then all
    bigrams)."""
    texts = segment_ids(offsets)
    if ngrams == 1:
        return texts
    bigram_texts = np.repeat(np.arange(len(offsets) - 1), np.maximum(np.diff(offsets) - 1, 0))
    return np.concatenate([texts, bigram_texts])


class Vectorizer:
    """A vocabulary fitted on training texts, and the encodings the reference uses.

    ``words`` are the words the vocabulary needs (0 padding, 1 OOV); ``grams`` lists each
    vocabulary entry from index 2 on as a pair of word indices (``-1`` first for a unigram).
    ``idf`` holds Keras' inverse document frequencies ``log(1 + N / (1 + df))`` for ``tf_idf``
    (``None`` when fitted without them: counting documents costs a sort of every n-gram).
    Its ``state_dict`` is plain lists, so it rides in Lightning checkpoints.
    """

    def __init__(
        self, words: list[str], grams: np.ndarray, idf: np.ndarray | None, ngrams: int = 1
    ) -> None:
        if ngrams not in (1, 2):
            raise SeqlabError(f"data.ngrams must be 1 or 2, got {ngrams}")
        self.words = words
        self.grams = np.asarray(grams, dtype=np.int64).reshape(-1, 2)
        self.idf = None if idf is None else np.asarray(idf, dtype=np.float32)
        self.ngrams = ngrams
        width = len(words)
        keys = np.where(
            self.grams[:, 0] < 0,
            self.grams[:, 1],
            (self.grams[:, 0] + 1) * width + self.grams[:, 1],
        )
        unigram = self.grams[:, 0] < 0
        # words through a dense table (one gather), bigrams by binary search in sorted keys
        self._word_index = np.ones(len(words), dtype=np.int64)
        self._word_index[:1] = 0
        self._word_index[self.grams[unigram, 1]] = np.flatnonzero(unigram) + 2
        self._bigram_index = np.flatnonzero(~unigram)
        order = np.argsort(keys[self._bigram_index], kind="stable")
        self._bigram_index = self._bigram_index[order] + 2
        self._sorted_bigrams = keys[~unigram][order]
        self._lookup: dict[str, int] | None = None

    @property
    def vocabulary(self) -> list[str]:
        """The name of every index: padding, OOV, then each word or "first second" bigram."""
        names = [
            self.words[b] if a < 0 else f"{self.words[a]} {self.words[b]}" for a, b in self.grams
        ]
        return [PAD, OOV, *names]

    @property
    def size(self) -> int:
        """Vocabulary size including padding and OOV (the model's input width)."""
        return len(self.grams) + 2

    @classmethod
    def fit(
        cls,
        corpus_words: list[str],
        ids: np.ndarray,
        offsets: np.ndarray,
        max_tokens: int = 20_000,
        ngrams: int = 1,
        idf: bool = True,
    ) -> Vectorizer:
        """The ``max_tokens - 2`` most frequent n-grams of the given (training) texts.

        ``ids`` index ``corpus_words`` (from `corpus_word_ids`); ties keep the corpus order.
        ``idf=False`` skips the document frequencies that only ``tf_idf`` needs.
        """
        if max_tokens < 3:
            raise SeqlabError(
                f"data.max_tokens must be at least 3 (padding, OOV, a word), got {max_tokens}"
            )
        width = len(corpus_words)
        counts = np.bincount(ids, minlength=width)  # words: a count per id, no sort
        unique = np.flatnonzero(counts)
        counts = counts[unique]
        if ngrams == 2:
            pairs, pair_counts = np.unique(_bigram_keys(ids, offsets, width), return_counts=True)
            unique, counts = np.concatenate([unique, pairs]), np.concatenate([counts, pair_counts])
        real = unique >= 2  # never pick the padding / OOV markers themselves
        unique, counts = unique[real], counts[real]
        chosen = unique[np.argsort(-counts, kind="stable")[: max_tokens - 2]]
        first = np.where(chosen >= width, chosen // width - 1, -1)
        second = np.where(chosen >= width, chosen % width, chosen)
        needed = np.unique(np.concatenate([first[first >= 0], second]))
        words = [PAD, OOV, *(corpus_words[i] for i in needed)]
        remap = np.full(width, 1, dtype=np.int64)
        remap[needed] = np.arange(2, len(needed) + 2)
        grams = np.stack([np.where(first >= 0, remap[np.maximum(first, 0)], -1), remap[second]], 1)
        vectorizer = cls(words, grams, None, ngrams)
        if not idf:
            return vectorizer
        index, texts = vectorizer.index(remap[ids], offsets)
        documents = np.unique(texts.astype(np.int64) * vectorizer.size + index)
        frequency = np.bincount(documents % vectorizer.size, minlength=vectorizer.size)
        vectorizer.idf = np.log1p((len(offsets) - 1) / (1 + frequency)).astype(np.float32)
        return vectorizer

    def corpus_map(self, corpus_words: list[str]) -> np.ndarray:
        """For each corpus word id, its index in ``self.words`` (OOV when not needed)."""
        mine = {word: i for i, word in enumerate(self.words)}
        return np.fromiter(
            (mine.get(w, 1) for w in corpus_words), dtype=np.int64, count=len(corpus_words)
        )

    def index(self, word_ids: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vocabulary index of every n-gram of every text, and which text it belongs to.

        ``word_ids`` index ``self.words``. For ``ngrams=1`` the result keeps word order, so it is
        also the ``int`` output mode; with bigrams each text's words come first, then its bigrams,
        text after text. N-grams outside the vocabulary get the OOV index.
        """
        index = self._word_index[word_ids]
        texts = _gram_offsets(offsets, self.ngrams)
        if self.ngrams == 2:
            keys = _bigram_keys(word_ids, offsets, len(self.words))
            known = self._sorted_bigrams
            position = np.minimum(np.searchsorted(known, keys), max(len(known) - 1, 0))
            found = known[position] == keys if len(known) else keys < 0
            index = np.concatenate([index, np.where(found, self._bigram_index[position], 1)])
            order = np.argsort(texts, kind="stable")
            index, texts = index[order], texts[order]
        return index, texts

    def word_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """New texts as word indices into ``self.words`` (flat) and offsets."""
        if self._lookup is None:
            self._lookup = {w: i for i, w in enumerate(self.words)}
        return lookup_ids(split_words(texts), self._lookup, default=1)

    def state_dict(self) -> dict[str, Any]:
        return {
            "words": list(self.words),
            "grams": self.grams.tolist(),
            "idf": None if self.idf is None else self.idf.tolist(),
            "ngrams": self.ngrams,
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Vectorizer:
        return cls(state["words"], np.array(state["grams"]), state["idf"], state["ngrams"])


class Sequences:
    """Texts as int sequences (first ``max_length`` indices each), padded per batch.

    A batch is ``(ids, lengths, labels)``: ``ids`` (batch, longest) int64 padded with 0,
    ``lengths`` the true lengths (at least 1, so an empty text is one padding step), or with
    ``pad_to`` every batch is padded to that length as in the reference's fixed 600 steps.
    """

    def __init__(
        self,
        index: np.ndarray,
        texts: np.ndarray,
        count: int,
        labels: torch.Tensor,
        max_length: int | None,
        pad_to: int | None = None,
    ) -> None:
        offsets = np.searchsorted(texts, np.arange(count + 1))
        lengths = np.diff(offsets)
        if max_length is not None:
            lengths = np.minimum(lengths, max_length)
        self.flat = torch.from_numpy(index.astype(np.int64))
        self.starts = torch.from_numpy(offsets[:-1].astype(np.int64))
        self.lengths = torch.from_numpy(np.maximum(lengths, 1).astype(np.int64))
        self.true_lengths = torch.from_numpy(lengths.astype(np.int64))
        self.labels = labels
        self.pad_to = pad_to

    def __len__(self) -> int:
        return len(self.labels)

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rows = torch.as_tensor(indices, dtype=torch.int64)
        lengths = self.lengths[rows]
        width = self.pad_to or int(lengths.max())
        steps = torch.arange(width)
        mask = steps < self.true_lengths[rows, None]
        where = (self.starts[rows, None] + steps).clamp(max=max(len(self.flat) - 1, 0))
        ids = torch.where(mask, self.flat[where] if len(self.flat) else 0, 0)
        if self.pad_to:
            lengths = torch.full_like(lengths, width)
        return ids, lengths, self.labels[rows]


class Bags:
    """Texts as bags of n-grams: a dense (batch, vocabulary) row per text, built per batch.

    The texts' vocabulary indices are kept as they are, grouped by text, and counted only when
    a batch asks for them: counting all of them up front would sort every bigram entry of the
    corpus at every start. ``mode`` is ``multi_hot`` (presence), ``count`` or ``tf_idf``
    (count × idf). A batch is ``(features, labels)``.
    """

    def __init__(
        self,
        index: np.ndarray,
        texts: np.ndarray,
        count: int,
        labels: torch.Tensor,
        size: int,
        mode: OutputMode,
        idf: np.ndarray | None,
    ) -> None:
        if mode == "tf_idf" and idf is None:
            raise SeqlabError("tf_idf needs a vocabulary fitted with idf=True")
        self.index = torch.from_numpy(index)
        self.offsets = torch.from_numpy(np.searchsorted(texts, np.arange(count + 1)))
        self.labels = labels
        self.size = size
        self.mode = mode
        self.idf = torch.from_numpy(idf).float() if mode == "tf_idf" else None

    def __len__(self) -> int:
        return len(self.labels)

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = torch.as_tensor(indices, dtype=torch.int64)
        starts, counts = self.offsets[rows], self.offsets[rows + 1] - self.offsets[rows]
        owner = torch.repeat_interleave(torch.arange(len(rows)), counts)
        entries = torch.repeat_interleave(starts - torch.cumsum(counts, 0) + counts, counts)
        columns = self.index[entries + torch.arange(int(counts.sum()))].long()
        features = torch.zeros(len(rows), self.size)
        if self.mode == "multi_hot":
            features[owner, columns] = 1.0
        else:
            features.index_put_((owner, columns), torch.ones(len(columns)), accumulate=True)
            if self.idf is not None:
                features *= self.idf
        features[:, 0] = 0.0  # padding is no word
        return features, self.labels[rows]


class BucketBatchSampler:
    """Batches of similar length, in random order: little padding, still shuffled training.

    Each epoch shuffles the texts, cuts them into pools of ``pool`` batches, sorts each pool by
    length and cuts it into batches, then shuffles the batches. With ``shuffle=False`` (evaluation)
    batches follow the length order. Padding, and with it wasted recurrent steps, nearly vanishes.
    """

    def __init__(
        self,
        lengths: torch.Tensor,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        pool: int = 50,
    ) -> None:
        self.lengths = lengths
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pool = pool
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        n, size = len(self.lengths), self.batch_size
        if not self.shuffle:
            order = torch.argsort(self.lengths, stable=True)
            yield from (order[i : i + size].tolist() for i in range(0, n, size))
            return
        order = torch.randperm(n, generator=self.generator)
        batches: list[torch.Tensor] = []
        for begin in range(0, n, size * self.pool):
            chunk = order[begin : begin + size * self.pool]
            chunk = chunk[torch.argsort(self.lengths[chunk], stable=True)]
            batches.extend(chunk.split(size))
        for b in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[b].tolist()
