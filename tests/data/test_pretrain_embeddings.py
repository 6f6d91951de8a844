import runpy
import sys

import torch

from seqlab.data.imdb import ImdbDataModule
from seqlab.nets.recurrent import Recurrent
from seqlab.tasks.classification import ClassificationTask
from tests.helpers import ROOT


def test_word2vec_vectors_fit_the_classifier_vocabulary(imdb_dir, tmp_path, monkeypatch):
    out = tmp_path / "w2v.pt"
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(imdb_dir))
    monkeypatch.setenv("SEQLAB_CACHE_DIR", str(tmp_path / "cache"))
    argv = ["pretrain_embeddings.py", "--dim", "8", "--batch", "64", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(ROOT / "scripts" / "pretrain_embeddings.py"), run_name="__main__")
    saved = torch.load(out, weights_only=True)
    dm = ImdbDataModule(imdb_dir, cache_dir=tmp_path / "cache")
    dm.setup()
    assert saved["words"] == list(dm.spec.feature_names)
    assert saved["vectors"].shape == (dm.spec.input_size, 8) and saved["vectors"].abs().sum() > 0
    task = ClassificationTask(
        Recurrent, dm.spec, torch.optim.Adam, embedding_dim=8, pretrained_embeddings=str(out)
    )
    assert task.load_embeddings(out) == dm.spec.input_size
