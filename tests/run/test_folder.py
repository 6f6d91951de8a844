"""Run folders are never lost: finished folders are refused, one writer at a time, a clear end."""

import json
import os
import subprocess
import sys
import time

import lightning as L
import pytest

from seqlab.errors import SeqlabError
from seqlab.run.folder import RunFolder, read_status, resume_checkpoint, write_status
from tests.cli.test_train import run_cli
from tests.helpers import ROOT, mirror_dir

GRU = [
    "train.py",
    "model=gru",
    "model.hidden_size=8",
    "data.batch_size=64",
    "trainer=cpu",
    "trainer.max_epochs=2",
    "+trainer.limit_train_batches=6",
    "+trainer.limit_val_batches=2",
    "+trainer.limit_test_batches=2",
    "callbacks.rich_progress_bar=null",
]


class WaitFor(L.Callback):
    """Holds a run after its first epoch until ``path`` exists: a run still going."""

    def __init__(self, path: str) -> None:
        self.path = path

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        deadline = time.monotonic() + 300
        while not os.path.exists(self.path) and time.monotonic() < deadline:
            time.sleep(0.05)


def train_in(run_dir, *extra):
    return run_cli(
        *GRU, f"hydra.run.dir={run_dir}", *extra, env={"SEQLAB_DATA_DIR": str(mirror_dir())}
    )


def snapshot(run_dir):
    """Every file of a folder with its bytes: what must not change when a run is refused."""
    return {
        str(p.relative_to(run_dir)): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
    }


def test_a_folder_with_results_is_refused_unless_resumed_or_overwritten(tmp_path):
    folder = RunFolder(tmp_path)
    folder.check(resume=False, overwrite=False)  # empty: fine
    (tmp_path / "checkpoints").mkdir()
    with pytest.raises(SeqlabError, match="an unfinished run.*ckpt_path=last.*overwrite=true"):
        folder.check(resume=False, overwrite=False)
    (tmp_path / "metrics.json").write_text("{}")
    with pytest.raises(SeqlabError, match="a finished run"):
        folder.check(resume=False, overwrite=False)
    folder.check(resume=True, overwrite=False)
    folder.check(resume=False, overwrite=True)


def test_overwrite_clears_earlier_results_but_not_this_runs_hydra_files(tmp_path):
    for name in ["metrics.json", "forecast.png", "train.log", ".hydra/config.yaml", "csv/a.csv"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("old")
    folder = RunFolder(tmp_path)
    folder.claim(resume=False, overwrite=True)
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == [".hydra/config.yaml", ".lock", "train.log"]
    folder.release()
    assert not (tmp_path / ".lock").exists()


def test_a_live_owner_locks_the_folder_and_a_dead_ones_lock_is_taken_over(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / ".lock").write_text(json.dumps({"pid": sleeper.pid}))
        with pytest.raises(SeqlabError, match=f"another run \\(PID {sleeper.pid}\\) is writing"):
            RunFolder(tmp_path).claim(resume=False, overwrite=False)
    finally:
        sleeper.kill()
        sleeper.wait()
    RunFolder(tmp_path).claim(resume=False, overwrite=False)  # its owner is gone
    assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()


def test_the_end_of_a_run_is_recorded(tmp_path):
    folder = RunFolder(tmp_path / "ok")
    with folder.running(resume=False, overwrite=False):
        assert read_status(folder.path)["status"] == "running"
        assert (folder.path / ".lock").exists()
    assert read_status(folder.path)["status"] == "finished"
    assert not (folder.path / ".lock").exists()
    failed = RunFolder(tmp_path / "failed")
    with pytest.raises(ZeroDivisionError), failed.running(resume=False, overwrite=False):
        1 / 0  # noqa: B018
    assert read_status(failed.path) | {"pid": 0} == read_status(failed.path) | {
        "pid": 0,
        "status": "failed",
        "error": "ZeroDivisionError: division by zero",
    }
    interrupted = RunFolder(tmp_path / "interrupted")
    with pytest.raises(SystemExit) as stop, interrupted.running(resume=False, overwrite=False):
        raise KeyboardInterrupt
    assert stop.value.code == 130
    status = read_status(interrupted.path)
    assert status["status"] == "interrupted" and status["resume_command"].endswith("ckpt_path=last")


def test_status_keeps_earlier_fields(tmp_path):
    write_status(tmp_path, "running", pid=3)
    write_status(tmp_path, "failed", error="boom")
    assert read_status(tmp_path) == {"status": "failed", "pid": 3, "error": "boom"}


def test_a_checkpoint_to_resume_must_exist(tmp_path):
    assert resume_checkpoint(None, tmp_path) is None
    with pytest.raises(SeqlabError, match="ckpt_path=last, but .* holds no checkpoint"):
        resume_checkpoint("last", tmp_path)
    with pytest.raises(SeqlabError, match="ckpt_path=nope.ckpt: no such file"):
        resume_checkpoint("nope.ckpt", tmp_path)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(b"x")
    assert resume_checkpoint("last", tmp_path) == str(tmp_path / "checkpoints" / "last.ckpt")


@pytest.mark.integration
@pytest.mark.slow
def test_a_finished_run_is_not_overwritten_without_asking(tmp_path):
    run = tmp_path / "run"
    assert train_in(run).returncode == 0
    before = snapshot(run)
    again = train_in(run)
    assert again.returncode == 1
    lines = [line for line in again.stderr.splitlines() if line.strip()]
    assert lines == [
        f"error: {run} already holds a finished run; nothing was changed. Continue it with "
        "ckpt_path=last, start a new folder (drop hydra.run.dir=... or choose another), or "
        "replace its results with overwrite=true."
    ]
    assert snapshot(run) == before  # not even Hydra's .hydra/config.yaml was rewritten
    replaced = train_in(run, "overwrite=true")
    assert replaced.returncode == 0, replaced.stderr[-2000:]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert read_status(run)["status"] == "finished"


@pytest.mark.integration
@pytest.mark.slow
def test_resuming_nothing_or_a_missing_checkpoint_is_one_line(tmp_path):
    for value, says in [("last", "holds no checkpoint to resume"), ("gone.ckpt", "no such file")]:
        result = train_in(tmp_path / value, f"ckpt_path={value}")
        assert result.returncode == 1
        assert says in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / value / "metrics.json").exists()


@pytest.mark.integration
@pytest.mark.slow
def test_a_second_run_into_a_busy_folder_is_refused_and_the_first_completes(tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "WANDB_MODE": "disabled", "SEQLAB_DATA_DIR": str(mirror_dir())}
    first = subprocess.Popen(
        [
            sys.executable,
            *GRU,
            f"hydra.run.dir={run}",
            f"+callbacks.wait._target_={__name__}.WaitFor",
            f"+callbacks.wait.path={tmp_path / 'go'}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (run / ".lock").exists():
        assert first.poll() is None and time.monotonic() < deadline, "the first run never started"
        time.sleep(0.05)
    config = (run / ".hydra" / "config.yaml").read_bytes()
    second = train_in(run, "model.hidden_size=4")
    (tmp_path / "go").touch()
    out, err = first.communicate(timeout=600)
    assert second.returncode == 1
    assert f"another run (PID {first.pid}) is writing to {run}" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode == 0, err[-2000:]
    assert (run / ".hydra" / "config.yaml").read_bytes() == config
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 2
    assert not (run / ".lock").exists()


@pytest.mark.slow
def test_an_unwritable_run_folder_is_one_line(tmp_path):
    unwritable = "/sys/seqlab-test-run"  # sysfs: not writable, even by root
    result = run_cli("train.py", "model=naive", f"hydra.run.dir={unwritable}")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: cannot write the run folder {unwritable} (Operation not permitted); "
        "choose a writable place with hydra.run.dir=<folder>"
    )
