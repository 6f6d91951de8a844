import pytest
import torch

from seqlab.data import imdb as imdb_module
from seqlab.data.imdb import ImdbDataModule, read_reviews
from seqlab.errors import DataError, SeqlabError
from tests.helpers import mirror_dir
from tests.imdb_fixture import TEST_ONLY


def make(data_dir, tmp_path, **options):
    dm = ImdbDataModule(data_dir, cache_dir=tmp_path / "cache", batch_size=8, **options)
    dm.prepare_data()
    dm.setup()
    return dm


def test_splits_labels_and_a_vocabulary_from_training_text_only(imdb_dir, tmp_path):
    dm = make(imdb_dir, tmp_path)
    assert dm.provenance["reviews"] == {"train": 97, "val": 24, "test": 40}
    assert dm.spec.kind == "classification" and dm.spec.input_kind == "tokens"
    assert dm.spec.feature_names[:2] == ("[PAD]", "[UNK]")
    assert "great" in dm.spec.feature_names and TEST_ONLY not in dm.spec.feature_names
    great = dm.spec.feature_names.index("great")
    ids, _ = dm.encode(["great"])
    assert ids.tolist() == [[great]]  # feature_names name the indices the data yields
    for split in ("train", "val", "test"):
        labels = dm.datasets[split].labels
        assert set(labels.tolist()) == {0, 1}
    ids, lengths, labels = next(iter(dm.train_dataloader()))
    assert ids.dtype == torch.int64 and ids.shape[0] == len(lengths) == len(labels) == 8
    assert int(lengths.max()) == ids.shape[1]  # padded to the batch's longest only


def test_validation_split_is_seeded_and_disjoint(imdb_dir, tmp_path):
    a, b = make(imdb_dir, tmp_path), make(imdb_dir, tmp_path)
    c = make(imdb_dir, tmp_path, split_seed=7)
    assert torch.equal(a.datasets["val"].flat, b.datasets["val"].flat)
    assert not torch.equal(a.datasets["val"].flat, c.datasets["val"].flat)


def test_second_setup_reads_the_cache_not_the_archive(imdb_dir, tmp_path, monkeypatch):
    first = make(imdb_dir, tmp_path)
    assert list((tmp_path / "cache" / "imdb").glob("tokens-*.pt"))

    def fail(*_, **__):
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(imdb_module, "read_reviews", fail)
    second = make(imdb_dir, tmp_path)
    assert second.vectorizer.words == first.vectorizer.words
    for split in ("train", "val", "test"):
        assert torch.equal(second.datasets[split].flat, first.datasets[split].flat)
    # the fitted vocabulary is cached too: another mode re-uses it, other options refit
    monkeypatch.setattr(imdb_module, "tokenized_corpus", fail)
    bags = make(imdb_dir, tmp_path, output_mode="count")
    assert bags.vectorizer.words == first.vectorizer.words
    with pytest.raises(AssertionError, match="read again"):
        make(imdb_dir, tmp_path, output_mode="count", ngrams=2)


def test_bag_modes_publish_bag_inputs(imdb_dir, tmp_path):
    dm = make(imdb_dir, tmp_path, output_mode="tf_idf", ngrams=2)
    cached = make(imdb_dir, tmp_path, output_mode="tf_idf", ngrams=2)
    rows = list(range(len(dm.datasets["test"])))
    assert torch.equal(
        dm.datasets["test"].__getitems__(rows)[0], cached.datasets["test"].__getitems__(rows)[0]
    )
    features, labels = next(iter(dm.train_dataloader()))
    assert dm.spec.input_kind == "bag" and features.shape == (8, dm.spec.input_size)
    assert features.dtype == torch.float32 and (features >= 0).all()


def test_state_dict_restores_the_vocabulary_for_new_text(imdb_dir, tmp_path):
    dm = make(imdb_dir, tmp_path, output_mode="multi_hot", ngrams=2)
    fresh = ImdbDataModule(imdb_dir, output_mode="multi_hot", ngrams=2)
    fresh.load_state_dict(dm.state_dict())
    assert fresh.publish_spec() == dm.spec
    texts = ["A great, moving film", "", "b\ufffdd"]
    (features,) = fresh.encode(texts)
    assert torch.equal(features, dm.encode(texts)[0]) and features[1].sum() == 0


def test_bad_options_and_archives_are_user_errors(imdb_dir, tmp_path):
    with pytest.raises(SeqlabError, match="ngrams=1"):
        ImdbDataModule(imdb_dir, output_mode="int", ngrams=2)
    with pytest.raises(SeqlabError, match="output_mode"):
        ImdbDataModule(imdb_dir, output_mode="one_hot")
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes((imdb_dir / "imdb" / "aclImdb_v1.tar.gz").read_bytes()[:300])
    with pytest.raises(DataError, match="truncated or corrupt"):
        read_reviews(broken)


def test_non_utf8_bytes_are_replaced(imdb_dir):
    texts, _ = read_reviews(imdb_dir / "imdb" / "aclImdb_v1.tar.gz")["train"]
    assert any(t.startswith("Caf\ufffd was great") for t in texts)


@pytest.mark.integration
def test_mirror_holds_the_reference_splits():
    reviews = read_reviews(mirror_dir() / "imdb" / "aclImdb_v1.tar.gz", unsup=False)
    for split in ("train", "test"):
        texts, labels = reviews[split]
        assert len(texts) == 25_000 and sum(labels) == 12_500


def cache_file(tmp_path, kind):
    (path,) = (tmp_path / "cache" / "imdb").glob(f"{kind}-*.pt")
    return path


def corrupt(path, how):
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        path.write_bytes(bytes(range(256)) * 40)
    elif how == "empty":
        path.write_bytes(b"")
    else:  # a readable torch file whose contents do not fit
        torch.save({"splits": {"train": {"ids": torch.zeros(3)}}, "words": 7}, path)


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty", "foreign"])
@pytest.mark.parametrize("kind", ["tokens", "vectors"])
def test_a_corrupt_cache_file_is_named_and_rebuilt(imdb_dir, tmp_path, kind, how):
    first = make(imdb_dir, tmp_path)
    damaged = cache_file(tmp_path, kind)
    corrupt(damaged, how)
    if kind == "tokens":  # the fitted splits' cache would spare reading the token cache
        cache_file(tmp_path, "vectors").unlink()
    with pytest.warns(UserWarning, match=f"cache file {damaged}.* corrupt.*rebuilding"):
        second = make(imdb_dir, tmp_path)
    assert second.vectorizer.words == first.vectorizer.words
    for split in ("train", "val", "test"):
        assert torch.equal(second.datasets[split].flat, first.datasets[split].flat)
        assert torch.equal(second.datasets[split].labels, first.datasets[split].labels)
    rebuilt = torch.load(damaged, weights_only=True)  # rewritten whole
    assert isinstance(rebuilt, dict) and "words" in (
        rebuilt if kind == "tokens" else rebuilt["vectorizer"]
    )
    assert list(damaged.parent.glob(".*")) == []  # no temporary file left


def reviews(dataset, vocabulary):
    """(label, words) of every review of an ``int``-mode dataset, in dataset order."""
    ids, lengths, labels = dataset.__getitems__(list(range(len(dataset))))
    return [
        (int(label), tuple(vocabulary[i] for i in row[:length].tolist()))
        for row, length, label in zip(ids, dataset.true_lengths, labels, strict=True)
    ]


@pytest.mark.parametrize("options", [{"bucket": False}, {"output_mode": "multi_hot"}])
def test_validation_and_test_batches_are_not_ordered_by_label(imdb_dir, tmp_path, options):
    dm = make(imdb_dir, tmp_path, **options)
    for loader in (dm.val_dataloader(), dm.test_dataloader()):
        labels = next(iter(loader))[-1]  # a limited evaluation (limit_val_batches=1) sees this
        assert set(labels.tolist()) == {0, 1}
    for split in ("val", "test"):
        labels = dm.datasets[split].labels.tolist()
        assert labels != sorted(labels)


def test_only_the_order_of_the_validation_split_changed(imdb_dir, tmp_path):
    """The same seed holds out the same reviews as before: the seeded permutation's first 20 %."""
    dm = make(imdb_dir, tmp_path, bucket=False)
    corpus = imdb_module.tokenized_corpus(dm.path, tmp_path / "cache")
    vocabulary = dm.spec.feature_names
    known = set(vocabulary)
    train = corpus["train"]
    n = len(train["labels"])
    rows = torch.randperm(n, generator=torch.Generator().manual_seed(1337))[: round(0.2 * n)]
    expected = []
    for row in rows.tolist():
        begin, end = train["offsets"][row : row + 2].tolist()
        words = [corpus["words"][i] for i in train["ids"][begin:end].tolist()]
        expected.append(
            (int(train["labels"][row]), tuple(w if w in known else "[UNK]" for w in words))
        )
    assert sorted(reviews(dm.datasets["val"], vocabulary)) == sorted(expected)
    test = reviews(dm.datasets["test"], vocabulary)
    assert len(test) == len(corpus["test"]["labels"]) and sorted(test) != test
