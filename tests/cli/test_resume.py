"""Fault tolerance and reproducibility through the real CLI, on the real Jena data."""

import csv
import json
import os
import shlex
import signal
import signal as signal_module

import lightning as L
import pytest

from tests.cli.test_train import run_cli
from tests.helpers import mirror_dir


class SigkillAt(L.Callback):
    """Kills the training process outright at a given global step: a power cut, mid-epoch."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


class SignalAt(L.Callback):
    """Sends this process ``signal`` at a global step of a fresh run (Ctrl-C, a scheduler's
    SIGTERM); a resumed run is left alone."""

    def __init__(self, step: int, signal: str) -> None:
        self.step = step
        self.signal = getattr(signal_module, signal)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.step and trainer.ckpt_path is None:
            os.kill(os.getpid(), self.signal)


RUN = [
    "train.py",
    "model=gru",
    "model.hidden_size=8",
    "data.batch_size=64",
    "trainer=cpu",
    "trainer.deterministic=true",
    "trainer.max_epochs=3",
    "+trainer.limit_train_batches=12",
    "+trainer.limit_val_batches=4",
    "+trainer.limit_test_batches=4",
    "callbacks.progress=null",
]


def train_in(run_dir, *extra):
    result = run_cli(
        *RUN, f"hydra.run.dir={run_dir}", *extra, env={"SEQLAB_DATA_DIR": str(mirror_dir())}
    )
    return result


def log_rows(run_dir):
    with (run_dir / "csv" / "metrics.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def scalars(run_dir, tag):
    """(step, value) of a TensorBoard scalar as TensorBoard shows it (purged steps hidden)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    return [(event.step, event.value) for event in events.Scalars(tag)]


def metrics(run_dir):
    saved = json.loads((run_dir / "metrics.json").read_text())
    return saved["val"], saved["test"], saved["epochs"]


@pytest.mark.integration
@pytest.mark.slow
def test_same_seed_same_config_gives_identical_metrics(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert train_in(first).returncode == 0
    assert train_in(second).returncode == 0
    assert metrics(first) == metrics(second)


@pytest.mark.integration
@pytest.mark.slow
def test_a_run_killed_mid_epoch_resumes_to_the_same_metrics(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert train_in(whole).returncode == 0
    # killed in the middle of the second epoch (12 batches an epoch)
    crashed = train_in(
        killed, f"+callbacks.kill._target_={__name__}.SigkillAt", "+callbacks.kill.step=17"
    )
    assert crashed.returncode == -signal.SIGKILL
    assert not (killed / "metrics.json").exists()
    assert (killed / "checkpoints" / "last.ckpt").exists()
    resumed = train_in(killed, "ckpt_path=last")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Restoring states from the checkpoint" in resumed.stderr + resumed.stdout
    assert metrics(killed) == metrics(whole)
    # the log holds every step and epoch once, in order, as the uninterrupted run's does
    assert log_rows(killed) == log_rows(whole)
    assert len(log_rows(whole)) > 8
    assert (killed / "curves.png").stat().st_size > 1000  # drawn from the whole log


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize(("signal_name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_an_interrupted_run_says_how_to_resume_and_the_command_finishes_it(
    signal_name, code, tmp_path
):
    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    both_logs = ["logger=[csv,tensorboard]"]
    assert train_in(whole, *both_logs).returncode == 0
    interrupted = train_in(
        stopped,
        *both_logs,
        f"+callbacks.stop._target_={__name__}.SignalAt",
        "+callbacks.stop.step=17",
        f"+callbacks.stop.signal={signal_name}",
    )
    assert interrupted.returncode == code, interrupted.stderr[-3000:]
    assert "Traceback" not in interrupted.stderr
    status = json.loads((stopped / "status.json").read_text())
    assert status["status"] == "interrupted"
    assert status["last_checkpoint"] == str(stopped / "checkpoints" / "last.ckpt")
    assert not (stopped / "metrics.json").exists()
    command = interrupted.stderr.strip().splitlines()[-1]
    assert command == status["resume_command"]
    words = shlex.split(command)
    assert words[:2] == ["python", "train.py"] and words[-1] == "ckpt_path=last"
    resumed = run_cli(*words[1:], env={"SEQLAB_DATA_DIR": str(mirror_dir())})
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((stopped / "status.json").read_text())["status"] == "finished"
    assert metrics(stopped) == metrics(whole)
    assert log_rows(stopped) == log_rows(whole)
    assert scalars(stopped, "train/loss") == scalars(whole, "train/loss")
