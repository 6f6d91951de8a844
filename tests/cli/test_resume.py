"""Fault tolerance and reproducibility through the real CLI, on the real Jena data."""

import json
import os
import signal

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
    "callbacks.rich_progress_bar=null",
]


def train_in(run_dir, *extra):
    result = run_cli(
        *RUN, f"hydra.run.dir={run_dir}", *extra, env={"SEQLAB_DATA_DIR": str(mirror_dir())}
    )
    return result


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
