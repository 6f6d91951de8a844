"""Bad option values are one line naming the key, the value and what is allowed, before data."""

import pytest

from seqlab.cli.train import train
from seqlab.errors import ConfigError
from seqlab.run.options import check_options
from tests.cli.test_train import run_cli
from tests.helpers import compose_train


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ("trainer.max_epochs=abc", "trainer.max_epochs='abc' is not allowed: use a whole number"),
        ("trainer.max_epochs=2.5", "trainer.max_epochs=2.5 is not allowed"),
        ("data.batch_size=0", "data.batch_size=0 is not allowed: use a whole number >= 1"),
        ("model.hidden_size=-4", "model.hidden_size=-4 is not allowed: use a whole number >= 1"),
        ("task.optimizer.lr=-1", "task.optimizer.lr=-1 is not allowed: use a number > 0"),
        ("task.optimizer.lr=nan", "task.optimizer.lr=nan is not allowed"),
        ("model.dropout=1.0", "model.dropout=1.0 is not allowed: use a number >= 0 and < 1"),
        ("data.batch_size=true", "data.batch_size=True is not allowed"),
        (
            "model=lstm model.bidirectional=maybe",
            "model.bidirectional='maybe' is not allowed: use one of true, false",
        ),
        ("trainer.precision=bogus", "trainer.precision='bogus' is not allowed: use one of "),
        ("trainer.accelerator=tpuu", "trainer.accelerator='tpuu' is not allowed: use one of auto"),
        ("model.cell=foo", "model.cell='foo' is not a recurrent cell; choose one of gru, lstm"),
        ("model.pool=avg", "model.pool='avg' is not a pooling"),
        ("model=seq2seq +model.bidirectional=true", "model.bidirectional=true: a seq2seq"),
        ("model=charlm model.cell=rnn", "model.cell='rnn' is not a cell this model offers"),
        ("model=conv1d model.kernel_sizes=[4,0]", "model.filters=[8, 8, 8] and model.kernel"),
        (
            "trainer.max_epochs=0",
            "trainer.max_epochs=0 is not allowed: use a whole number >= -1 "
            "but not 0 or null (-1: no limit)",
        ),
        ("data.train_fraction=1.2", "data.train_fraction=1.2 is not allowed: use a number > 0"),
    ],
)
def test_a_bad_value_is_refused_before_any_data_are_read(override, says, tmp_path):
    # the data folder does not exist: reading data first would be a data error instead
    overrides = [*override.split(), f"paths.data_dir={tmp_path / 'no-data'}", "debug=fdr"]
    cfg = compose_train(overrides, tmp_path / "run")
    with pytest.raises(ConfigError) as error:
        train(cfg)
    assert str(error.value).startswith(says)
    assert not (tmp_path / "run" / "status.json").exists()  # refused before the folder is used


def test_good_values_and_absent_keys_pass(tmp_path):
    check_options(compose_train(["model=naive", "trainer.max_epochs=-1"], tmp_path))
    check_options(compose_train(["trainer.gradient_clip_val=0.5", "seed=0"], tmp_path))


@pytest.mark.slow
def test_the_cli_prints_one_line(tmp_path):
    result = run_cli("train.py", "trainer.max_epochs=abc", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: trainer.max_epochs='abc' is not allowed: use a whole number >= -1 but not 0 "
        "or null (-1: no limit)"
    ]


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ("length=-5", "length=-5 is not allowed: use a whole number >= 1 or null"),
        ("temperature=-1", "temperature=-1 is not allowed: use a number >= 0 or null (0: greedy)"),
        ("top_k=0", "top_k=0 is not allowed"),
    ],
)
def test_generate_refuses_a_negative_length_or_temperature(override, says, tmp_path):
    from seqlab.cli.generate import generate

    cfg = compose_train([override, "ckpt_path=whatever.ckpt"], tmp_path, config_name="generate")
    with pytest.raises(ConfigError) as error:
        generate(cfg)
    assert str(error.value).startswith(says), error.value


def test_a_gpu_asked_for_where_torch_sees_none_is_one_line(monkeypatch):
    from seqlab.run.options import check_accelerator

    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    monkeypatch.setattr("torch.backends.mps.is_available", lambda: False)
    with pytest.raises(ConfigError, match="trainer.accelerator=gpu, but torch sees no GPU"):
        check_accelerator("gpu")
    check_accelerator("cpu")
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    check_accelerator("gpu")
