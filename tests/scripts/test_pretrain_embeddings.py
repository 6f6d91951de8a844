"""seqlab.tasks.word2vec (scripts/pretrain_embeddings.py): seeded vectors, a progress total."""

import torch

from seqlab.files import write_torch_atomic
from seqlab.nets.recurrent import Recurrent
from seqlab.run.compose import configured_datamodule
from seqlab.tasks.classification import ClassificationTask
from seqlab.tasks.word2vec import skipgram


def test_skipgram_is_seeded_and_reports_each_epochs_total(imdb_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(imdb_dir))  # read through conf/paths
    monkeypatch.setenv("SEQLAB_CACHE_DIR", str(tmp_path / "cache"))
    dm = configured_datamodule(["data=imdb"])
    dm.setup()
    calls = []
    vectors = skipgram(dm, dim=8, epochs=2, batch=64, progress=lambda *call: calls.append(call))
    assert vectors.shape == (dm.spec.input_size, 8)
    for epoch in (0, 1):
        done = [(d, total) for e, d, total, _ in calls if e == epoch]
        assert [d for d, _ in done] == list(range(1, len(done) + 1))
        assert all(total == len(done) for _, total in done)  # the total is known from the start
    assert torch.equal(vectors, skipgram(dm, dim=8, epochs=2, batch=64))


def test_the_vectors_fit_the_classifier_vocabulary(imdb_dir, tmp_path):
    """What the script writes has one row per classifier word, in its order, and loads."""
    paths = [f"paths.data_dir={imdb_dir}", f"paths.cache_dir={tmp_path}"]
    dm = configured_datamodule(["data=imdb", *paths])
    dm.setup()
    out = tmp_path / "w2v.pt"
    write_torch_atomic(
        out, {"words": dm.vectorizer.vocabulary, "vectors": skipgram(dm, dim=8, batch=64)}
    )
    task = ClassificationTask(
        Recurrent, dm.spec, torch.optim.Adam, embedding_dim=8, pretrained_embeddings=str(out)
    )
    assert task.load_embeddings(out) == dm.spec.input_size
    assert list(dm.vectorizer.vocabulary) == list(dm.spec.feature_names)
    assert torch.equal(task.adapter.weight.detach(), torch.load(out)["vectors"])
