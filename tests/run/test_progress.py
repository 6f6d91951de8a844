"""A run followed without a terminal (nohup, SLURM, CI): one line per epoch, the folder first."""

import time

import pytest

from seqlab.run.progress import EpochLines, TerminalBar, duration, progress
from tests.run.test_folder import train_in


def test_durations_read_as_a_person_says_them():
    assert [duration(s) for s in (4.2, 65, 3725)] == ["4 s", "1 min 05 s", "1 h 02 min"]


def test_the_display_follows_where_the_output_goes(monkeypatch):
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    assert isinstance(progress(), EpochLines)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert isinstance(progress(), TerminalBar)


@pytest.mark.parametrize("loop", ["train", "validation", "test"])
def test_the_bar_redraws_at_most_every_interval_and_at_a_loops_last_batch(loop, monkeypatch):
    drawn = []
    parent = f"lightning.pytorch.callbacks.RichProgressBar.on_{loop}_batch_end"
    monkeypatch.setattr(parent, lambda self, trainer, module, out, batch, i, *rest: drawn.append(i))
    monkeypatch.setattr(TerminalBar, "total_val_batches_current_dataloader", 100, raising=False)
    monkeypatch.setattr(TerminalBar, "total_test_batches_current_dataloader", 100, raising=False)
    bar = TerminalBar(interval=0.1)
    bar._drawn = -1.0  # as if last drawn long ago
    clock = iter([0.0, 0.01, 0.02, 0.2, 0.21, 0.22])
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    trainer = type("T", (), {"num_training_batches": 100})()
    for i in (0, 1, 2, 3, 4, 99):
        getattr(bar, f"on_{loop}_batch_end")(trainer, None, None, None, i)
    assert drawn == [0, 3, 99]  # the first, the first after 0.1 s, and the last


@pytest.mark.integration
@pytest.mark.slow
def test_without_a_terminal_each_epoch_is_one_line_in_stdout_and_train_log(tmp_path):
    """Issue 26, item 13."""
    run = tmp_path / "run"
    result = train_in(run, "callbacks.progress={_target_:seqlab.run.progress.progress}")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0] == f"run folder: {run}"  # before the first epoch, not only at the end
    epochs = [line for line in lines if "][seqlab.progress][INFO] - epoch " in line]
    assert [line.split(" - ")[1].split(" · ")[0] for line in epochs] == ["epoch 1/2", "epoch 2/2"]
    assert "val/mae" in epochs[0] and "(best " in epochs[0] and "ETA" in epochs[0]
    logged = (run / "train.log").read_text().splitlines()
    assert [line.split(" - ")[1] for line in logged if "epoch " in line] == [
        line.split(" - ")[1] for line in epochs
    ]
