import json
from functools import partial

import pytest
import torch

from seqlab.cli.train import train
from seqlab.errors import ConfigError, SeqlabError
from seqlab.nets.conv import ConvGRU
from seqlab.nets.recurrent import Recurrent
from seqlab.nets.text import TextCNN
from seqlab.spec import TaskSpec
from seqlab.tasks.classification import ClassificationTask
from tests.helpers import compose_train

TINY_TEXT_RUN = [
    "data=imdb",
    "trainer=cpu",
    "trainer.max_epochs=2",
    "+trainer.limit_train_batches=4",
    "+trainer.limit_val_batches=2",
    "+trainer.limit_test_batches=2",
    "callbacks.progress=null",
    "data.batch_size=16",
]


TOKENS = TaskSpec("t", "classification", "tokens", 10, 1)


def tiny_run(imdb_dir, tmp_path, overrides):
    cfg = compose_train(
        [*TINY_TEXT_RUN, f"paths.data_dir={imdb_dir}", f"paths.cache_dir={tmp_path / 'cache'}"]
        + overrides,
        tmp_path / "run",
    )
    return train(cfg), tmp_path / "run"


@pytest.mark.parametrize(
    "overrides",
    [
        ["model=bow", "data.output_mode=tf_idf", "data.ngrams=2"],
        ["model=bilstm", "task.embedding_dim=8"],
        ["model=text_cnn", "model.filters=8", "model.units=8", "task.embedding_dim=8"],
        ["model=gru", "task.one_hot=true", "data.max_length=20"],
        # the fixture's reviews (5-45 words) are shorter than conv1d's 69-step kernel stack
        ["model=conv1d", "task.embedding_dim=8"],
        ["model=conv_gru", "model.filters=8", "model.hidden_size=8", "task.embedding_dim=8"],
    ],
    ids=["bow", "bilstm", "text_cnn", "one_hot_gru", "conv1d", "conv_gru"],
)
def test_models_train_on_imdb_and_draw_a_confusion_matrix(imdb_dir, tmp_path, overrides):
    metrics, run = tiny_run(imdb_dir, tmp_path, overrides)
    assert metrics.task == "classification"
    assert set(metrics.test) >= {"acc", "f1", "auroc", "loss"}
    assert 0.0 <= metrics.test["acc"] <= 1.0
    assert json.loads((run / "metrics.json").read_text())["val"]["acc"] == metrics.val["acc"]
    assert (run / "confusion_matrix.png").stat().st_size > 1000
    assert (run / "curves.png").stat().st_size > 1000


def test_bow_needs_bags_and_sequence_models_need_sequences(imdb_dir, tmp_path):
    with pytest.raises(
        ConfigError, match=r"BagOfWords cannot serve data=imdb: .* set data.output_mode=multi_hot"
    ):
        tiny_run(imdb_dir, tmp_path, ["model=bow"])
    with pytest.raises(
        ConfigError, match="Recurrent cannot serve data=imdb: it reads real inputs, not bag"
    ):
        tiny_run(imdb_dir, tmp_path, ["model=lstm", "data.output_mode=multi_hot"])


@pytest.mark.parametrize("model", ["dense", "linear"])
def test_flattening_models_refuse_reviews_of_any_length_or_train_on_padded_ones(
    imdb_dir, tmp_path, model
):
    with pytest.raises(ConfigError, match="it flattens a fixed-length window.*data.pad_to=600"):
        tiny_run(imdb_dir, tmp_path, [f"model={model}"])
    metrics, _ = tiny_run(imdb_dir, tmp_path, [f"model={model}", "data.pad_to=50"])
    assert 0.0 <= metrics.test["acc"] <= 1.0


@pytest.mark.parametrize(
    "net",
    [
        partial(Recurrent, cell="lstm", hidden_size=4, bidirectional=True),
        partial(Recurrent, cell="gru", hidden_size=4, pool="max"),
        partial(TextCNN, filters=4, kernel_size=2, units=4),
    ],
    ids=["bilstm", "gru_max", "text_cnn"],
)
def test_masking_keeps_padding_out_of_the_logits(net):
    """The task hands the true lengths to every net (`NetInput.lengths`); these nets mask the
    padded steps (no packing), so words past a text's end change nothing."""
    torch.manual_seed(0)
    task = ClassificationTask(net, TOKENS, torch.optim.Adam, embedding_dim=3).eval()
    ids = torch.randint(1, 10, (2, 5))
    padded = ids.clone()
    padded[1, 2:] = 7  # words (not padding ids) past the second text's length
    logits = task(padded, torch.tensor([5, 2]))
    assert torch.allclose(logits[1], task(ids[1:, :2])[0], atol=1e-6)
    assert torch.allclose(logits[0], task(ids[:1])[0], atol=1e-6)


def test_nets_that_read_no_lengths_ignore_them():
    task = ClassificationTask(
        partial(ConvGRU, hidden_size=4), TOKENS, torch.optim.Adam, embedding_dim=3
    )
    ids = torch.randint(1, 10, (2, 5))
    assert torch.equal(task(ids, torch.tensor([5, 2])), task(ids))


def test_pretrained_embeddings_are_copied_word_by_word(tmp_path):
    spec = TaskSpec(
        "t", "classification", "tokens", 4, 1, feature_names=("[PAD]", "[UNK]", "a", "b")
    )
    path = tmp_path / "vectors.pt"
    torch.save(
        {"words": ["b", "zzz"], "vectors": torch.ones(2, 8) * torch.tensor([[3.0], [5.0]])}, path
    )
    task = ClassificationTask(
        Recurrent, spec, torch.optim.Adam, embedding_dim=8, pretrained_embeddings=str(path)
    )
    before = task.adapter.weight[2].clone()
    task.setup("fit")
    assert torch.equal(task.adapter.weight[3], torch.full((8,), 3.0))
    assert torch.equal(task.adapter.weight[2], before)
    wrong = ClassificationTask(Recurrent, spec, torch.optim.Adam, embedding_dim=4)
    with pytest.raises(SeqlabError, match="embedding_dim=8"):
        wrong.load_embeddings(path)


@pytest.mark.parametrize(("labels", "predicted"), [([1, 1, 0], 1.0), ([0, 1, 0], 0.0)])
def test_the_majority_baseline_predicts_the_training_majority_untrained(labels, predicted):
    from types import SimpleNamespace

    from seqlab.nets.baselines import Majority

    batches = [(torch.zeros(len(labels), 4, dtype=torch.long), torch.tensor(labels))]
    datamodule = SimpleNamespace(train_dataloader=lambda: batches)
    task = ClassificationTask(Majority, TOKENS, optimizer=partial(torch.optim.Adam))
    assert not task.trainable()
    task._trainer = SimpleNamespace(datamodule=datamodule)
    task.setup("validate")
    probabilities = task.predict_proba(torch.ones(5, 7, dtype=torch.long))
    assert torch.equal(probabilities.round(), torch.full((5,), predicted))
