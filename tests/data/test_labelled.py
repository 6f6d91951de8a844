"""data=text_csv and data=text_folder: a user's labelled texts, any number of classes (issue 23)."""

import json

import pandas as pd
import pytest

from seqlab.cli.evaluate import evaluate
from seqlab.cli.predict import main as predict
from seqlab.cli.train import train
from seqlab.data.labelled import TextCsvDataModule, TextFolderDataModule, stratified
from seqlab.errors import DataError
from tests.helpers import compose_train

TOPICS = {
    "hardware": "the printer is on fire and the screen flickers",
    "account": "cannot log in to my account password reset fails",
    "billing": "the invoice was charged twice please refund",
}


def tickets(path, per_class=40, extra=()):
    rows = [
        {"body": f"{text} ticket {i}", "category": label}
        for label, text in TOPICS.items()
        for i in range(per_class)
    ]
    pd.DataFrame([*rows, *extra]).to_csv(path, index=False)
    return path


def ready(dm):
    dm.prepare_data()
    dm.setup()
    return dm


def test_a_csv_of_three_classes_is_split_stratified_and_named(tmp_path):
    dm = ready(
        TextCsvDataModule(
            tmp_path,
            path=str(tickets(tmp_path / "t.csv")),
            text="body",
            label="category",
            batch_size=8,
        )
    )
    assert dm.spec.output_size == 3 and dm.spec.target_names == ("account", "billing", "hardware")
    assert dm.provenance["texts"] == {"train": 78, "val": 18, "test": 24}
    for split in ("train", "val", "test"):  # every class in every split (stratified)
        assert sorted(set(dm.datasets[split].labels.tolist())) == [0, 1, 2]
    keep, held = stratified(pd.Series(["a"] * 10 + ["b"] * 5).to_numpy(), 0.2, 0)
    assert len(held) == 3 and sorted(set(keep) | set(held)) == list(range(15))


def test_two_classes_keep_one_logit_and_a_folder_reads_as_its_classes(tmp_path):
    for label, text in list(TOPICS.items())[:2]:
        (tmp_path / "docs" / label).mkdir(parents=True)
        for i in range(20):
            (tmp_path / "docs" / label / f"{i}.txt").write_text(f"{text} {i}", encoding="utf-8")
    (tmp_path / "docs" / "unsup").mkdir()
    dm = ready(TextFolderDataModule(tmp_path, path=str(tmp_path / "docs"), batch_size=4))
    assert dm.spec.output_size == 1 and dm.spec.target_names == ("account", "hardware")


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"text": "message"}, "no column 'message' (data.text); it has ['body', 'category']"),
        ({"path": "nowhere.csv"}, "does not exist"),
        ({"single": True}, "one class only (hardware)"),
        ({"test_extra": True}, "the test texts hold class(es) ['network'] that training never saw"),
        ({"bytes": True}, "line 2: bytes that are not utf-8-sig"),
        ({"all_empty": True}, "holds no text"),
    ],
)
def test_each_bad_file_is_one_line(tmp_path, change, says):
    path = tickets(tmp_path / "t.csv")
    options = {"text": "body", "label": "category", "path": str(path)}
    if change.get("single"):
        pd.DataFrame({"body": ["a b", "c d"] * 10, "category": "hardware"}).to_csv(path)
    if change.get("test_extra"):
        test = tickets(tmp_path / "test.csv", 2, [{"body": "wifi down", "category": "network"}])
        options["test_path"] = str(test)
    if change.get("bytes"):
        path.write_bytes(b"body,category\ncaf\xe9 printer,hardware\n")
    if change.get("all_empty"):
        pd.DataFrame({"body": ["", " "], "category": ["a", "b"]}).to_csv(path, index=False)
    options.update({k: v for k, v in change.items() if k in ("text", "path")})
    with pytest.raises(DataError) as error:
        ready(TextCsvDataModule(tmp_path, **options))
    assert says in str(error.value) and "\n" not in str(error.value), error.value


def test_empty_texts_are_dropped_with_a_warning(tmp_path):
    path = tickets(tmp_path / "t.csv", extra=[{"body": "", "category": "billing"}])
    with pytest.warns(UserWarning, match="1 empty text"):
        dm = ready(TextCsvDataModule(tmp_path, path=str(path), text="body", label="category"))
    assert sum(dm.provenance["texts"].values()) == 120


@pytest.mark.slow
def test_three_classes_train_evaluate_and_predict_by_name(tmp_path, monkeypatch):
    path = tickets(tmp_path / "t.csv")
    overrides = [
        "data=text_csv",
        f"data.path={path}",
        "data.text=body",
        "data.label=category",
        "data.batch_size=8",
        "model=bow",
        "data.output_mode=multi_hot",
        "task.class_weights=true",
        "trainer=cpu",
        "trainer.max_epochs=30",
        "task.optimizer.lr=0.01",
        "callbacks.progress=null",
        f"paths.cache_dir={tmp_path / 'cache'}",
    ]
    record = train(compose_train(overrides, tmp_path / "run"))
    assert record.test["acc"] > 0.9 and {"f1", "auroc", "acc_billing"} <= set(record.test)
    assert (tmp_path / "run" / "confusion_matrix.png").exists()
    cfg = compose_train([f"ckpt_path={record.checkpoint}"], tmp_path / "eval", config_name="eval")
    assert evaluate(cfg)["test"]["acc"] == pytest.approx(record.test["acc"])
    answer = predict([f"ckpt_path={record.checkpoint}", "text=the printer is on fire"])
    assert answer["label"] == "hardware" and answer["probability"] > 0.5
    assert set(answer) >= {"p_account", "p_billing", "p_hardware"}
    lines = tmp_path / "new.txt"
    lines.write_text("invoice charged twice\ncannot log in\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    predict([f"ckpt_path={record.checkpoint}", f"file={lines}"])
    assert pd.read_csv(tmp_path / "predictions.csv")["label"].tolist() == ["billing", "account"]
    # a CSV's text column (the column trained on, body), one label per row
    tickets(tmp_path / "new.csv", per_class=2)
    result = predict([f"ckpt_path={record.checkpoint}", "csv=new.csv", "out=labels.csv"])
    assert result["rows"] == 6
    labelled = pd.read_csv(tmp_path / "labels.csv")
    assert (labelled["label"] == pd.read_csv(tmp_path / "new.csv")["category"]).all()
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["data_source"][
        "classes"
    ] == ["account", "billing", "hardware"]


def test_the_tokenised_texts_are_cached_and_a_changed_file_is_read_again(tmp_path, monkeypatch):
    path = tickets(tmp_path / "t.csv")
    options = {"path": str(path), "text": "body", "label": "category", "cache_dir": tmp_path / "c"}
    first = ready(TextCsvDataModule(tmp_path, **options))
    import seqlab.data.labelled as labelled

    def refuse(*_):
        raise AssertionError("tokenised again")

    monkeypatch.setattr(labelled, "corpus_word_ids", refuse)
    again = ready(TextCsvDataModule(tmp_path, **options))
    assert again.class_names == first.class_names
    for split in ("train", "val", "test"):
        assert again.datasets[split].labels.tolist() == first.datasets[split].labels.tolist()
    tickets(path, per_class=41)  # the file changed: read and tokenised again
    with pytest.raises(AssertionError, match="tokenised again"):
        ready(TextCsvDataModule(tmp_path, **options))
