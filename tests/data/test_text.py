import numpy as np
import pytest
import torch

from seqlab.data.text import (
    Bags,
    BucketBatchSampler,
    Sequences,
    Vectorizer,
    corpus_word_ids,
)
from seqlab.errors import SeqlabError

TEXTS = [
    "The cat sat on the mat.<br /><br />The END!",
    "the cat, the CAT... the dog",
    "",
    "Dog's day",
]


def fitted(ngrams=1, max_tokens=100):
    words, ids, offsets = corpus_word_ids(TEXTS)
    return words, ids, offsets, Vectorizer.fit(words, ids, offsets, max_tokens, ngrams)


def decode(vectorizer, index):
    def name(i):
        if i < 2:
            return ["<pad>", "<oov>"][i]
        first, second = vectorizer.grams[i - 2]
        parts = ([] if first < 0 else [vectorizer.words[first]]) + [vectorizer.words[second]]
        return " ".join(parts)

    return [name(int(i)) for i in index]


def test_standardisation_and_frequency_order():
    words, ids, offsets, vectorizer = fitted()
    index, texts = vectorizer.index(vectorizer.corpus_map(words)[ids], offsets)
    first = decode(vectorizer, index[texts == 0])
    assert first == ["the", "cat", "sat", "on", "the", "mat", "the", "end"]  # no <br />, "."
    assert decode(vectorizer, [2, 3]) == ["the", "cat"]  # most frequent first
    assert decode(vectorizer, index[texts == 3]) == ["dogs", "day"]  # apostrophe stripped
    assert (texts == 2).sum() == 0  # the empty text has no tokens


def test_vocabulary_is_capped_and_unknown_words_are_oov():
    words, ids, offsets, vectorizer = fitted(max_tokens=4)
    assert vectorizer.size == 4 and decode(vectorizer, [2, 3]) == ["the", "cat"]
    new_ids, new_offsets = vectorizer.word_ids(["the zebra sat"])
    index, _ = vectorizer.index(new_ids, new_offsets)
    assert index.tolist() == [2, 1, 1]


def test_bigrams_stay_inside_a_text_and_match_new_text_encoding():
    words, ids, offsets, vectorizer = fitted(ngrams=2)
    names = set(decode(vectorizer, range(2, vectorizer.size)))
    assert {"the cat", "cat sat", "the dog", "dogs day"} <= names
    assert "end the" not in names and "dog dogs" not in names  # across texts
    train_index, _ = vectorizer.index(vectorizer.corpus_map(words)[ids], offsets)
    again = Vectorizer.from_state_dict(vectorizer.state_dict())
    new_index, _ = again.index(*again.word_ids(TEXTS))
    assert np.array_equal(train_index, new_index)


def test_bags_multi_hot_counts_and_tf_idf():
    words, ids, offsets, vectorizer = fitted()
    index, texts = vectorizer.index(vectorizer.corpus_map(words)[ids], offsets)
    labels = torch.tensor([1, 0, 0, 1])
    the = 2
    for mode, expected in (("multi_hot", 1.0), ("count", 3.0)):
        bags = Bags(index, texts, 4, labels, vectorizer.size, mode, vectorizer.idf)
        features, y = bags.__getitems__([1, 2])
        assert features.shape == (2, vectorizer.size) and y.tolist() == [0, 0]
        assert features[0, the] == expected and features[1].sum() == 0
    # "the" is in 2 of 4 texts: Keras' idf log(1 + 4 / (1 + 2))
    assert vectorizer.idf[the] == pytest.approx(np.log(1 + 4 / 3))
    bags = Bags(index, texts, 4, labels, vectorizer.size, "tf_idf", vectorizer.idf)
    assert bags.__getitems__([1])[0][0, the] == pytest.approx(3 * np.log(1 + 4 / 3))


def test_sequences_pad_per_batch_truncate_and_survive_empty_text():
    words, ids, offsets, vectorizer = fitted()
    index, texts = vectorizer.index(vectorizer.corpus_map(words)[ids], offsets)
    sequences = Sequences(index, texts, 4, torch.tensor([1, 0, 0, 1]), max_length=6)
    x, lengths, y = sequences.__getitems__([2, 3, 0])
    assert x.shape == (3, 6) and lengths.tolist() == [1, 2, 6]
    assert x[0].tolist() == [0] * 6  # the empty text: one padding step
    assert x[1, 2:].eq(0).all() and x[2].ne(0).all()
    fixed = Sequences(index, texts, 4, torch.tensor([1, 0, 0, 1]), max_length=6, pad_to=10)
    x, lengths, _ = fixed.__getitems__([3])
    assert x.shape == (1, 10) and lengths.tolist() == [10]


def test_int_mode_refuses_bigrams_and_tiny_vocabularies():
    words, ids, offsets = corpus_word_ids(TEXTS)
    with pytest.raises(SeqlabError, match="max_tokens"):
        Vectorizer.fit(words, ids, offsets, max_tokens=2)
    with pytest.raises(SeqlabError, match="ngrams"):
        Vectorizer.fit(words, ids, offsets, ngrams=3)


def test_bucketed_batches_cover_every_text_once_with_little_padding():
    lengths = torch.randint(1, 600, (1000,), generator=torch.Generator().manual_seed(0))
    sampler = BucketBatchSampler(lengths, batch_size=32, shuffle=True, seed=1)
    epochs = [list(sampler), list(sampler)]
    for batches in epochs:
        flat = sorted(i for batch in batches for i in batch)
        assert flat == list(range(1000)) and len(batches) == len(sampler)
        padded = sum(len(b) * int(lengths[b].max()) for b in batches)
        assert padded < 1.05 * int(lengths.sum())  # random batches would pad ~1.9x
    assert epochs[0] != epochs[1]  # reshuffled every epoch
    ordered = list(BucketBatchSampler(lengths, 32, shuffle=False))
    assert [lengths[b].max() for b in ordered] == sorted(lengths[b].max() for b in ordered)


def test_parallel_numbering_equals_serial():
    texts = [f"{t} extra{i % 7}" for i in range(600) for t in TEXTS]  # 2,400 texts: forks
    serial = corpus_word_ids(texts, workers=1)
    parallel = corpus_word_ids(texts, workers=2)
    assert parallel[0] == serial[0]
    np.testing.assert_array_equal(parallel[1], serial[1])
    np.testing.assert_array_equal(parallel[2], serial[2])
