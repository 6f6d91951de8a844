"""model=transformer: one class for every task kind, through the seam the other nets use."""

from functools import partial

import pytest
import torch
from torch import nn

from seqlab.cli.train import train
from seqlab.errors import ConfigError, SeqlabError
from seqlab.nets.base import NetInput
from seqlab.nets.transformer import Transformer
from seqlab.spec import TaskSpec
from seqlab.tasks.classification import ClassificationTask
from seqlab.tasks.language_model import LanguageModelTask
from seqlab.tasks.network import build_network
from tests.helpers import TINY_RUN, TINY_VERNE, compose_train
from tests.tasks.test_language_model import TickData, fit

FORECAST = TaskSpec("jena", "forecasting", "real", 5, 3, sequence_length=12)
PER_STEP = TaskSpec("jena", "forecasting", "real", 5, 2, 12, horizon=2, target_index=(1,))
TEXT = TaskSpec("imdb", "classification", "tokens", 30, 1)
WORDS = TaskSpec("imdb", "classification", "real", 8, 1)
CHARS = TaskSpec("verne", "language_model", "tokens", 9, 9, sequence_length=6)
SMALL = {"d_model": 8, "num_heads": 2, "feedforward": 16, "dropout": 0.0}


def net(spec: TaskSpec, **options) -> Transformer:
    torch.manual_seed(0)
    return Transformer(spec, **{**SMALL, **options}).eval()


@pytest.mark.parametrize(
    ("spec", "options", "shape"),
    [
        (FORECAST, {}, (4, 8)),
        (FORECAST, {"pool": "mean", "positions": "learned", "max_length": 12}, (4, 8)),
        (FORECAST, {"pool": "max", "patch": 5}, (4, 8)),
        (PER_STEP, {"per_step": True}, (4, 12, 8)),
        (WORDS, {"pool": "mean"}, (4, 8)),
    ],
    ids=["last", "mean-learned", "max-patches", "per-step", "classification"],
)
def test_features_have_the_shape_each_task_reads(spec, options, shape):
    x = torch.randn(4, 12, spec.input_size)
    assert net(spec, **options)(x).shape == shape


def test_a_language_model_returns_features_at_every_step_and_its_context():
    tokens = torch.randint(0, 9, (4, 6))
    features, context = net(CHARS, max_length=4)(tokens[:, :3])
    assert features.shape == (4, 3, 8) and torch.equal(context, tokens[:, :3])
    _, context = net(CHARS, max_length=4)(tokens[:, 3:], state=tokens[:, :3])
    assert torch.equal(context, tokens[:, -3:])  # the last max_length - 1 tokens


@pytest.mark.parametrize("pool", ["last", "mean", "max"])
def test_padding_does_not_reach_a_texts_features(pool):
    model = net(WORDS, pool=pool)
    texts = [torch.randn(1, n, 8) for n in (7, 3, 5)]
    batch = torch.zeros(3, 7, 8)
    for row, text in enumerate(texts):
        batch[row, : text.shape[1]] = text
    padded = model(NetInput(batch, lengths=torch.tensor([7, 3, 5])))
    noisy = batch.clone()
    noisy[1, 3:], noisy[2, 5:] = 100.0, -100.0  # different padding: the same features
    alone = torch.cat([model(NetInput(text)) for text in texts])
    assert torch.allclose(padded, alone, atol=1e-5)
    assert torch.allclose(model(NetInput(noisy, lengths=torch.tensor([7, 3, 5]))), alone, atol=1e-5)


def test_a_classifiers_logits_do_not_depend_on_padding():
    task = ClassificationTask(
        net=partial(Transformer, **SMALL, pool="mean"),
        spec=TEXT,
        optimizer=partial(torch.optim.Adam),
        embedding_dim=8,
    ).eval()
    ids = torch.tensor([[3, 4, 5, 0, 0], [6, 7, 8, 9, 2]])
    logits = task(ids, torch.tensor([3, 5]))
    assert torch.allclose(logits[0], task(ids[:1, :3], torch.tensor([3]))[0], atol=1e-5)


@pytest.mark.parametrize(
    ("spec", "options"), [(CHARS, {}), (PER_STEP, {"per_step": True})], ids=["lm", "per-step"]
)
def test_the_causal_mask_keeps_later_inputs_out_of_earlier_steps(spec, options):
    model = net(spec, **options)
    if spec.input_kind == "tokens":
        x = torch.randint(0, 9, (2, 6))
        changed = x.clone()
        changed[:, 4:] = (x[:, 4:] + 1) % 9
        before, after = model(NetInput(x))[0], model(NetInput(changed))[0]
    else:
        x = torch.randn(2, 12, 5)
        changed = x.clone()
        changed[:, 4:] += 5.0
        before, after = model(NetInput(x)), model(NetInput(changed))
    assert torch.allclose(before[:, :4], after[:, :4], atol=1e-6)
    assert not torch.allclose(before[:, 4:], after[:, 4:], atol=1e-3)


def test_generation_token_by_token_sees_what_the_whole_window_sees():
    model = net(CHARS)
    tokens = torch.randint(0, 9, (1, 6))
    whole, _ = model(NetInput(tokens))
    features, context = model(NetInput(tokens[:, :2]))
    steps = [features]
    for t in range(2, 6):
        features, context = model(NetInput(tokens[:, t : t + 1], state=context))
        steps.append(features)
    assert torch.allclose(torch.cat(steps, dim=1), whole, atol=1e-5)


def test_a_classifier_gets_the_tasks_embedding_and_a_language_model_the_ids():
    adapter, model, _ = build_network(partial(Transformer, **SMALL), TEXT, embedding_dim=8)
    assert isinstance(adapter, nn.Embedding) and isinstance(model.inputs, nn.Linear)
    adapter, model, _ = build_network(partial(Transformer, **SMALL), CHARS)
    assert isinstance(adapter, nn.Identity) and isinstance(model.inputs, nn.Embedding)


def test_tbptt_is_refused_in_one_line_and_never_carried_otherwise():
    lm = partial(LanguageModelTask, spec=CHARS, optimizer=partial(torch.optim.Adam))
    with pytest.raises(ConfigError, match="task.tbptt=false") as refused:
        lm(net=partial(Transformer, **SMALL), tbptt=True)
    assert "\n" not in str(refused.value)
    task = lm(net=partial(Transformer, **SMALL))
    fit(task, TickData(streamed=True))
    assert task.carry == dict.fromkeys(("train", "val", "test"), False)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"positions": "rotary"}, "model.positions='rotary'"),
        ({"pool": "cls"}, "model.pool='cls'"),
        ({"d_model": 10, "num_heads": 4}, "num_heads=4"),
    ],
)
def test_bad_options_name_their_key(options, message):
    with pytest.raises(ConfigError, match=message):
        Transformer.check_options(**options)


@pytest.mark.parametrize(
    ("spec", "options", "fix"),
    [
        (WORDS, {"patch": 4}, "model.patch=1"),
        (PER_STEP, {"patch": 4, "per_step": True}, "model.patch=1"),
        (FORECAST, {"max_length": 8}, "model.max_length=12"),
    ],
)
def test_what_it_cannot_serve_names_the_fix(spec, options, fix):
    assert fix in Transformer.incompatibility(spec, **options)


TINY_TRANSFORMER = ["model=transformer", "model.d_model=8", "model.num_heads=2"]


def test_trains_on_jena_with_patches(jena_hourly_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(jena_hourly_dir))
    overrides = [*TINY_RUN, *TINY_TRANSFORMER, "model.patch=4", "model.pool=mean"]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    assert metrics.model == "transformer" and metrics.test["mae"] > 0
    assert (tmp_path / "run" / "forecast.png").is_file()


def test_trains_per_step_on_multistep_jena(jena_hourly_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(jena_hourly_dir))
    overrides = [*TINY_RUN, *TINY_TRANSFORMER, "model.per_step=true", "data.horizon=6"]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    assert "mae_t+6" in metrics.test


def test_trains_on_imdb(imdb_dir, tmp_path):
    overrides = [
        "data=imdb",
        *TINY_RUN[:6],
        *TINY_TRANSFORMER,
        "model.pool=max",
        "task.embedding_dim=8",
        "data.batch_size=16",
        f"paths.data_dir={imdb_dir}",
        f"paths.cache_dir={tmp_path / 'cache'}",
    ]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    assert metrics.task == "classification" and 0 <= metrics.test["acc"] <= 1
    assert (tmp_path / "run" / "confusion_matrix.png").is_file()


def test_trains_on_verne_and_writes_a_sample(verne_dir, tmp_path):
    overrides = [
        *TINY_VERNE,
        *TINY_RUN[:6],
        *TINY_TRANSFORMER,
        "model.max_length=16",
        f"paths.data_dir={verne_dir}",
    ]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    assert 0 < metrics.test["bpc"] < 8
    sample = (tmp_path / "run" / "sample.txt").read_text(encoding="utf-8")
    assert sample.startswith("The island") and len(sample) == len("The island") + 30 + 1
    with pytest.raises(SeqlabError, match="task.tbptt=false"):
        train(compose_train([*overrides, "task.tbptt=true"], tmp_path / "again"))
