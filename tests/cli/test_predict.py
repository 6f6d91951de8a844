import pytest
import torch

from seqlab.cli.predict import as_text, main, parse_arguments
from seqlab.cli.train import train
from seqlab.errors import SeqlabError
from tests.helpers import compose_train


@pytest.fixture
def checkpoint(imdb_dir, tmp_path):
    overrides = [
        "data=imdb",
        "model=bilstm",
        "task.embedding_dim=8",
        "trainer=cpu",
        "trainer.max_epochs=3",
        "+trainer.limit_val_batches=2",
        "+trainer.limit_test_batches=1",
        "callbacks.rich_progress_bar=null",
        "data.batch_size=16",
        "task.optimizer.lr=0.02",
        f"paths.data_dir={imdb_dir}",
        f"paths.cache_dir={tmp_path / 'cache'}",
    ]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    return metrics.checkpoint


@pytest.mark.slow
def test_predict_handles_normal_empty_binary_and_huge_text(
    checkpoint, tmp_path, capsys, monkeypatch
):
    loads = []
    real = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(a[0]) or real(*a, **k))
    good = main([f"ckpt_path={checkpoint}", "text=great, loved it: wonderful, superb, moving!"])
    assert [str(p) for p in loads] == [str(checkpoint)]  # the checkpoint is read once
    bad = main([f"ckpt_path={checkpoint}", "text=awful, boring, terrible, dull, a waste"])
    assert good["probability_positive"] > bad["probability_positive"]
    assert good["label"] == "positive" and bad["label"] == "negative"
    empty = main([f"ckpt_path={checkpoint}", "text="])
    assert empty["words"] == 0 and 0.0 <= empty["probability_positive"] <= 1.0
    assert "empty text" in capsys.readouterr().out
    binary = tmp_path / "review.txt"
    binary.write_bytes(b"\xff\xfe great \xc3\x28 film")
    assert main([f"ckpt_path={checkpoint}", f"file={binary}"])["words"] == 4
    huge = tmp_path / "huge.txt"
    huge.write_text(" ".join(["boring"] * 100_000))
    assert main([f"ckpt_path={checkpoint}", f"file={huge}"])["words"] == 100_000


def test_arguments_are_checked_and_text_is_taken_verbatim():
    assert parse_arguments(["ckpt_path=a", "text=x=1, [y]"]) == {
        "ckpt_path": "a",
        "text": "x=1, [y]",
    }
    assert as_text(b"caf\xe9") == "caf\ufffd"
    for argv in (["text=x"], ["ckpt_path=a"], ["ckpt_path=a", "text=x", "file=y"], ["oops"]):
        with pytest.raises(SeqlabError, match="usage"):
            parse_arguments(argv)
