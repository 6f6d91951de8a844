"""Text vectorisation: standardise, split into words, index a fitted vocabulary (unigrams/bigrams).

The heavy lifting (normalising, splitting and looking up ~100k reviews) runs in the Rust
``tokenizers`` library, batched and parallel; n-gram counting and lookup are vectorised numpy over
one flat array of word ids. The reference's Keras ``TextVectorization`` conventions hold: index 0
is padding, 1 is out-of-vocabulary, then the ``max_tokens - 2`` most frequent training n-grams.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np
import torch
from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordLevel
from tokenizers.trainers import WordLevelTrainer

from seqlab.errors import SeqlabError

PAD, OOV = "[PAD]", "[UNK]"
OutputMode = Literal["int", "multi_hot", "count", "tf_idf"]
# Keras' "lower_and_strip_punctuation", plus the HTML line breaks IMDB reviews are full of.
_PUNCTUATION = r"""[!"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~']"""


def word_tokenizer(vocab: dict[str, int] | None = None) -> Tokenizer:
    """Standardise (strip ``<br />``, lower-case, drop punctuation), split on whitespace, index.

    With ``vocab=None`` the tokenizer is untrained (for `corpus_word_ids`); otherwise unknown
    words map to the OOV index.
    """
    vocab = vocab if vocab is not None else {PAD: 0, OOV: 1}
    tokenizer = Tokenizer(WordLevel(vocab, unk_token=OOV))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(r"<br\s*/?>"), " "),
            normalizers.Lowercase(),
            normalizers.Replace(Regex(_PUNCTUATION), ""),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return tokenizer


def encode_ids(tokenizer: Tokenizer, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Word ids of every text as one flat int32 array and the texts' int64 offsets into it."""
    encodings = tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
    offsets = np.zeros(len(encodings) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.fromiter(
        (i for e in encodings for i in e.ids), dtype=np.int32, count=int(offsets[-1])
    )
    return flat, offsets


def corpus_word_ids(texts: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Index every distinct word of ``texts``: (words, flat ids, offsets), ids into ``words``.

    This is the split-independent, cacheable part of vectorisation; which words make the
    vocabulary is decided later by `Vectorizer.fit` from the training texts' counts alone.
    """
    tokenizer = word_tokenizer()
    trainer = WordLevelTrainer(vocab_size=1 << 30, min_frequency=0, special_tokens=[PAD, OOV])
    tokenizer.train_from_iterator(texts, trainer, length=len(texts))
    vocab = tokenizer.get_vocab()
    words = [""] * len(vocab)
    for word, index in vocab.items():
        words[index] = word
    flat, offsets = encode_ids(tokenizer, texts)
    return words, flat, offsets


def segment_ids(offsets: np.ndarray) -> np.ndarray:
    """For a flat array cut at ``offsets``, the segment (text) number of every element."""
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def _gram_keys(ids: np.ndarray, offsets: np.ndarray, ngrams: int, width: int) -> np.ndarray:
    """Keys of every unigram (the id) and, for ``ngrams=2``, every in-text bigram.

    A bigram (a, b) gets the key ``(a + 1) * width + b``, above every unigram key.
    """
    ids = ids.astype(np.int64)
    if ngrams == 1:
        return ids
    inside = np.ones(len(ids), dtype=bool)
    inside[offsets[1:-1] - 1] = False  # the last word of a text does not pair with the next text
    firsts = np.flatnonzero(inside[:-1]) if len(ids) else np.zeros(0, dtype=np.int64)
    bigrams = (ids[firsts] + 1) * width + ids[firsts + 1]
    return np.concatenate([ids, bigrams])


def _gram_offsets(offsets: np.ndarray, ngrams: int) -> np.ndarray:
    """Where each text's n-gram keys sit in `_gram_keys`' output, as a per-key text number."""
    texts = segment_ids(offsets)
    if ngrams == 1:
        return texts
    bigram_texts = np.repeat(np.arange(len(offsets) - 1), np.maximum(np.diff(offsets) - 1, 0))
    return np.concatenate([texts, bigram_texts])


class Vectorizer:
    """A vocabulary fitted on training texts, and the encodings the reference uses.

    ``words`` are the words the vocabulary needs (0 padding, 1 OOV); ``grams`` lists each
    vocabulary entry from index 2 on as a pair of word indices (``-1`` first for a unigram).
    ``idf`` holds Keras' inverse document frequencies ``log(1 + N / (1 + df))`` for ``tf_idf``.
    Its ``state_dict`` is plain lists, so it rides in Lightning checkpoints.
    """

    def __init__(
        self, words: list[str], grams: np.ndarray, idf: np.ndarray, ngrams: int = 1
    ) -> None:
        if ngrams not in (1, 2):
            raise SeqlabError(f"data.ngrams must be 1 or 2, got {ngrams}")
        self.words = words
        self.grams = np.asarray(grams, dtype=np.int64).reshape(-1, 2)
        self.idf = np.asarray(idf, dtype=np.float32)
        self.ngrams = ngrams
        width = len(words)
        keys = np.where(
            self.grams[:, 0] < 0,
            self.grams[:, 1],
            (self.grams[:, 0] + 1) * width + self.grams[:, 1],
        )
        self._order = np.argsort(keys, kind="stable")
        self._sorted_keys = keys[self._order]
        self._tokenizer: Tokenizer | None = None

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
    ) -> Vectorizer:
        """The ``max_tokens - 2`` most frequent n-grams of the given (training) texts.

        ``ids`` index ``corpus_words`` (from `corpus_word_ids`); ties keep the corpus order.
        """
        if max_tokens < 3:
            raise SeqlabError(
                f"data.max_tokens must be at least 3 (padding, OOV, a word), got {max_tokens}"
            )
        width = len(corpus_words)
        keys = _gram_keys(ids, offsets, ngrams, width)
        unique, counts = np.unique(keys, return_counts=True)
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
        vectorizer = cls(words, grams, np.zeros(len(grams) + 2, dtype=np.float32), ngrams)
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
        also the ``int`` output mode; n-grams outside the vocabulary get the OOV index.
        """
        keys = _gram_keys(word_ids, offsets, self.ngrams, len(self.words))
        position = np.searchsorted(self._sorted_keys, keys)
        position = np.minimum(position, max(len(self._sorted_keys) - 1, 0))
        found = self._sorted_keys[position] == keys if len(self._sorted_keys) else keys < 0
        index = np.where(found, self._order[position] + 2, 1)
        index[keys == 0] = 0
        return index, _gram_offsets(offsets, self.ngrams)

    def word_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """New texts as word indices into ``self.words`` (flat) and offsets."""
        if self._tokenizer is None:
            self._tokenizer = word_tokenizer({w: i for i, w in enumerate(self.words)})
        return encode_ids(self._tokenizer, texts)

    def state_dict(self) -> dict[str, Any]:
        return {
            "words": list(self.words),
            "grams": self.grams.tolist(),
            "idf": self.idf.tolist(),
            "ngrams": self.ngrams,
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Vectorizer:
        return cls(
            state["words"], np.array(state["grams"]), np.array(state["idf"]), state["ngrams"]
        )


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

    Stored sparse (the 25k × 20k dense matrix would take 2 GB); ``mode`` is ``multi_hot``
    (presence), ``count`` or ``tf_idf`` (count × idf). A batch is ``(features, labels)``.
    """

    def __init__(
        self,
        index: np.ndarray,
        texts: np.ndarray,
        count: int,
        labels: torch.Tensor,
        size: int,
        mode: OutputMode,
        idf: np.ndarray,
    ) -> None:
        cells, counts = np.unique(texts.astype(np.int64) * size + index, return_counts=True)
        columns = cells % size
        values = counts.astype(np.float32)
        if mode == "multi_hot":
            values = np.ones_like(values)
        elif mode == "tf_idf":
            values = values * idf[columns]
        values[columns == 0] = 0.0  # padding is no word
        self.row_offsets = torch.from_numpy(np.searchsorted(cells // size, np.arange(count + 1)))
        self.columns = torch.from_numpy(columns)
        self.values = torch.from_numpy(values)
        self.labels = labels
        self.size = size

    def __len__(self) -> int:
        return len(self.labels)

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        starts, ends = self.row_offsets[indices], self.row_offsets[[i + 1 for i in indices]]
        counts = ends - starts
        rows = torch.repeat_interleave(torch.arange(len(indices)), counts)
        cells = torch.repeat_interleave(starts - torch.cumsum(counts, 0) + counts, counts)
        cells = cells + torch.arange(int(counts.sum()))
        features = torch.zeros(len(indices), self.size)
        features[rows, self.columns[cells]] = self.values[cells]
        return features, self.labels[indices]


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
