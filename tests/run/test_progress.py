"""A run followed without a terminal (nohup, SLURM, CI): one line per epoch, the folder first."""

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
