import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra.errors import ConfigCompositionException, MissingConfigException

from seqlab.cli.evaluate import evaluate
from seqlab.cli.train import train
from seqlab.errors import SeqlabError
from tests.helpers import ROOT, TINY_EVAL, TINY_RUN, compose_train, mirror_dir

MODELS = ["naive", "dense", "conv1d", "rnn", "lstm", "gru", "lstm_dropout", "gru_stacked", "bilstm"]


def tiny(data_dir: Path, *overrides: str) -> list[str]:
    # the fixture series is short: a conv stack with the reference's 24-step kernel needs 120 steps
    return [*TINY_RUN, f"paths.data_dir={data_dir}", *overrides]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.slow
def test_every_model_trains_and_tests_on_jena(model, jena_hourly_dir, tmp_path):
    length = ["data.sequence_length=120", "data.delay=24"] if model == "conv1d" else []
    cfg = compose_train(tiny(jena_hourly_dir, f"model={model}", *length), tmp_path / "run")
    metrics = train(cfg)
    run = tmp_path / "run"
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["test"]["mae"] == pytest.approx(metrics.test["mae"])
    assert saved["unit"] == "°C" and saved["data"] == "jena" and saved["model"] == model
    assert 0 < saved["val"]["mae"] < 20 and 0 < saved["test"]["mae"] < 20
    assert saved["data_source"]["form"] == "hourly extract"
    assert (run / "forecast.png").stat().st_size > 10_000
    if model == "naive":
        assert saved["params"] == 0 and saved["epochs"] == 0
    else:
        assert saved["params"] > 0 and saved["epochs"] == 2 and saved["samples_per_s"] > 0
        assert (run / "checkpoints" / "best.ckpt").exists()
        assert (run / "checkpoints" / "last.ckpt").exists()
        assert (run / "csv" / "metrics.csv").exists()


def test_unknown_model_or_key_is_hydras_error(tmp_path):
    with pytest.raises(MissingConfigException, match="model/lstmm"):
        compose_train(["model=lstmm"], tmp_path)
    with pytest.raises(ConfigCompositionException, match="max_epoch"):
        compose_train(["trainer.max_epoch=3"], tmp_path)


class NaNAfter(torch.nn.MSELoss):
    """MSE for the first ``steps`` training batches, then NaN: a loss that blows up mid-run."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = steps
        self.calls = 0

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = super().forward(pred, target)
        if torch.is_grad_enabled():
            self.calls += 1
            if self.calls > self.steps:
                return loss * float("nan")
        return loss


@pytest.mark.slow
def test_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(jena_hourly_dir, tmp_path):
    overrides = tiny(
        jena_hourly_dir,
        "model=gru",
        f"task.loss._target_={__name__}.NaNAfter",
        "+task.loss.steps=4",
    )
    cfg = compose_train(overrides, tmp_path / "run")
    with pytest.raises(SeqlabError, match=r"loss became nan at step 4 \(epoch 1\)") as error:
        train(cfg)
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert str(last) in str(error.value)
    checkpoint = torch.load(last, weights_only=False)
    assert checkpoint["epoch"] == 0
    assert all(torch.isfinite(t).all() for t in checkpoint["state_dict"].values())


@pytest.mark.slow
def test_evaluate_rebuilds_the_run_from_its_checkpoint(jena_hourly_dir, tmp_path):
    trained = train(compose_train(tiny(jena_hourly_dir, "model=gru"), tmp_path / "run"))
    cfg = compose_train(
        [
            f"ckpt_path={trained.checkpoint}",
            f"paths.data_dir={jena_hourly_dir}",
            *TINY_EVAL,
        ],
        tmp_path / "eval",
        config_name="eval",
    )
    evaluated = evaluate(cfg)
    assert evaluated["test"]["mae"] == pytest.approx(trained.test["mae"], rel=1e-5)
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["unit"] == "°C"


def test_wandb_without_key_or_mode_says_how_to_run_offline(jena_hourly_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("HOME", str(tmp_path))
    cfg = compose_train(tiny(jena_hourly_dir, "model=naive", "logger=wandb"), tmp_path / "run")
    with pytest.raises(SeqlabError, match="WANDB_MODE=offline"):
        train(cfg)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "WANDB_MODE": "disabled", **(env or {})},
        timeout=1200,  # generous: a loaded machine is slow, and a hang still ends
        preexec_fn=as_from_a_terminal,
    )


def as_from_a_terminal() -> None:
    """Ctrl-C reaches the command as it would from a terminal, even when the tests themselves run
    as a background job (which starts with SIGINT ignored, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_help_lists_the_config_groups():
    result = run_cli("train.py", "--help")
    assert result.returncode == 0
    for group in ["data:", "model:", "trainer:", "logger:", "callbacks:", "debug:", "paths:"]:
        assert group in result.stdout


@pytest.mark.slow
def test_missing_data_offline_is_one_line_not_a_traceback(tmp_path):
    result = run_cli(
        "train.py",
        "model=naive",
        "data.download=false",
        f"hydra.run.dir={tmp_path}",
        env={"SEQLAB_DATA_DIR": str(tmp_path / "nothing")},
    )
    assert result.returncode == 1
    assert "error:" in result.stderr and "SEQLAB_DATA_DIR" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_cli_naive_run_on_the_mirror_prints_the_reference_numbers(tmp_path):
    # output to a pipe (a log file, CI) and a folder longer than a terminal line
    run_dir = tmp_path / "a-run-folder-whose-path-is-longer-than-eighty-columns" / "[seed 42]"
    result = run_cli(
        "train.py",
        "model=naive",
        f"hydra.run.dir='{run_dir}'",
        env={"SEQLAB_DATA_DIR": str(mirror_dir()), "COLUMNS": "80"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "val mae 2.443 °C, test mae 2.625 °C" in result.stdout
    assert f"run folder: {run_dir}\n" in result.stdout  # one line, to be copied whole
    assert (run_dir / ".hydra" / "config.yaml").exists()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert round(metrics["test"]["mae"], 2) == 2.62


@pytest.mark.integration
@pytest.mark.slow
def test_a_model_that_cannot_serve_the_data_is_one_line_naming_both(tmp_path):
    result = run_cli(
        "train.py",
        "model=charlm",
        "data=jena",
        f"hydra.run.dir={tmp_path}",
        env={"SEQLAB_DATA_DIR": str(mirror_dir())},
    )
    assert result.returncode == 1
    assert "model CharLM cannot serve data=jena" in result.stderr
    assert "language_model" in result.stderr and "forecasting" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_end_of_run_report_prints_riders_as_whole_numbers(capsys):
    from seqlab.cli.train import report
    from seqlab.run.record import RunRecord
    from tests.run.test_record import FIELDS

    record = RunRecord(**{**FIELDS, "unit": "riders", "val": {"mae": 437612.4}, "test": {}})
    report(record, {"mae": "riders"})
    assert "val mae 437,612 riders" in capsys.readouterr().out  # not 4.376e+05


@pytest.mark.slow
def test_runs_started_in_the_same_second_get_their_own_folders():
    """Array jobs on a cluster start together: the default folder names must not collide."""
    command = [sys.executable, "train.py", "--cfg", "all", "--resolve", "-p", "hydra.run.dir"]
    started = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in "ab"]
    folders = [process.communicate()[0].strip() for process in started]
    assert folders[0] != folders[1], folders
    assert all(f.startswith("logs/train/runs/lstm-jena/") for f in folders), folders
