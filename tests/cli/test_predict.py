import pandas as pd
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
        "callbacks.progress=null",
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
    huge = " ".join(["boring"] * 100_000)
    assert main([f"ckpt_path={checkpoint}", f"text={huge}"])["words"] == 100_000
    # a file: one answer per line (issue 26, item 12), bad bytes and blank lines included
    reviews = tmp_path / "reviews.txt"
    reviews.write_bytes(
        b"great, loved it: wonderful, superb, moving!\n\n\xff\xfe great \xc3\x28 film\n"
        b"awful, boring, terrible, dull, a waste\n"
    )
    out = tmp_path / "answers.csv"
    result = main([f"ckpt_path={checkpoint}", f"file={reviews}", f"out={out}"])
    assert result["lines"] == 3 and result["predictions"] == str(out)
    rows = pd.read_csv(out)
    assert rows["line"].tolist() == [1, 3, 4]
    assert rows["label"].iloc[0] == "positive" and rows["label"].iloc[-1] == "negative"
    assert f"3 lines of {reviews}" in capsys.readouterr().out
    with pytest.raises(SeqlabError, match="exists; name another file with out="):
        main([f"ckpt_path={checkpoint}", f"file={reviews}", f"out={out}"])


def test_arguments_are_checked_and_text_is_taken_verbatim():
    assert parse_arguments(["ckpt_path=a", "text=x=1, [y]"]) == {
        "ckpt_path": "a",
        "text": "x=1, [y]",
    }
    assert as_text(b"caf\xe9") == "caf\ufffd"
    for argv in (["text=x"], ["ckpt_path=a"], ["ckpt_path=a", "text=x", "file=y"], ["oops"]):
        with pytest.raises(SeqlabError, match="usage"):
            parse_arguments(argv)


@pytest.fixture(scope="module")
def sales_run(tmp_path_factory):
    """A GRU trained for one epoch on a user's CSV (tests/data/test_series.py's shop series)."""
    from tests.data.test_series import sales

    folder = tmp_path_factory.mktemp("sales")
    path = sales(folder / "sales.csv")
    overrides = [
        "data=csv",
        f"data.path={path}",
        "data.target=[units,price]",
        "data.sequence_length=24",
        "data.horizon=6",
        "model=gru",
        "model.hidden_size=8",
        "trainer.max_epochs=1",
        "callbacks.progress=null",
    ]
    train(compose_train(overrides, folder / "run"))
    return folder / "run" / "checkpoints" / "best.ckpt", path


def test_a_csv_run_forecasts_the_future_of_a_file(sales_run, tmp_path, monkeypatch, capsys):
    import pandas as pd

    ckpt, path = sales_run
    monkeypatch.chdir(tmp_path)
    result = main([f"ckpt_path={ckpt}", f"csv={path}"])
    table = pd.read_csv(tmp_path / "forecast.csv")
    assert list(table.columns) == ["date", "step", "units", "price"] and len(table) == 6
    assert table["date"].iloc[0] == "2024-01-17 16:00:00"  # the hour after the file's last row
    assert table["units"].between(0, 200).all()  # the shop's own units, not z-scores
    assert (tmp_path / "forecast.png").stat().st_size > 1000
    assert result["rows"] == 6 and "forecast: forecast.csv" in capsys.readouterr().out
    with pytest.raises(SeqlabError, match="forecast.csv exists; name another file with out="):
        main([f"ckpt_path={ckpt}", f"csv={path}"])


def test_a_csv_that_cannot_be_forecast_is_one_line(sales_run, tmp_path):
    import pandas as pd

    ckpt, path = sales_run
    frame = pd.read_csv(path)
    frame.drop(columns=["price"]).to_csv(tmp_path / "no_price.csv", index=False)
    frame.iloc[:10].to_csv(tmp_path / "short.csv", index=False)
    out = f"out={tmp_path / 'f.csv'}"
    with pytest.raises(SeqlabError, match="no column 'price', which the model was trained on"):
        main([f"ckpt_path={ckpt}", f"csv={tmp_path / 'no_price.csv'}", out])
    with pytest.raises(SeqlabError, match="10 rows; the model reads 24 rows back"):
        main([f"ckpt_path={ckpt}", f"csv={tmp_path / 'short.csv'}", out])
    assert not (tmp_path / "f.csv").exists()  # nothing half-written
