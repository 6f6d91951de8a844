"""Run folders are never lost: finished folders are refused, one writer at a time, a clear end."""

import json
import os
import subprocess
import sys
import time

import lightning as L
import pytest
import torch

from seqlab.errors import SeqlabError
from seqlab.run.folder import RunFolder, read_status, write_status
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
    "callbacks.progress=null",
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


def one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stderr[-3000:]
    return lines[0]


@pytest.fixture
def finished(tmp_path):
    """A finished run's folder, and the bytes of every file in it."""
    run = tmp_path / "run"
    assert train_in(run).returncode == 0
    return run, snapshot(run)


@pytest.mark.integration
@pytest.mark.slow
def test_a_finished_run_is_not_overwritten_without_asking(finished):
    run, before = finished
    assert one_error_line(train_in(run)) == (
        f"error: {run} already holds a finished run; nothing was changed. Continue it with "
        "ckpt_path=last, start a new folder (drop hydra.run.dir=... or choose another), or "
        "replace its results with overwrite=true."
    )
    assert snapshot(run) == before  # not even Hydra's .hydra/config.yaml was rewritten
    replaced = train_in(run, "overwrite=true")
    assert replaced.returncode == 0, replaced.stderr[-2000:]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert read_status(run)["status"] == "finished"


@pytest.mark.integration
@pytest.mark.slow
def test_resuming_nothing_or_a_missing_checkpoint_is_one_line(tmp_path):
    for value, says in [("last", "has no checkpoints/last.ckpt"), ("gone.ckpt", "no such file")]:
        result = train_in(tmp_path / value, f"ckpt_path={value}")
        assert result.returncode == 1
        assert says in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / value).exists()  # a refused run leaves no folder behind


@pytest.mark.integration
@pytest.mark.slow
def test_a_refused_rerun_resume_or_overwrite_changes_nothing_in_the_folder(finished, tmp_path):
    """Issue 26, items 1, 3 and 5: every check before anything is deleted or rewritten."""
    run, before = finished
    line = one_error_line(train_in(run, "overwrite=true", "data.target=nope"))
    assert "nope" in line
    assert snapshot(run) == before  # the earlier results and .hydra/config.yaml are intact
    line = one_error_line(train_in(run, "ckpt_path=last", "model=lstm"))
    assert "was trained with other settings (model.cell: gru -> lstm" in line
    assert snapshot(run) == before
    # a missing or broken last.ckpt: the line names what resumes instead
    last = run / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:1000])
    line = one_error_line(train_in(run, "ckpt_path=last"))
    assert "its newest readable checkpoint is best.ckpt (epoch 1, step " in line
    assert line.endswith(f"resume from that with ckpt_path={run / 'checkpoints' / 'best.ckpt'}")
    last.unlink()
    line = one_error_line(train_in(run, "ckpt_path=last"))
    assert "no checkpoints/last.ckpt" in line and "newest readable checkpoint is best.ckpt" in line
    # a bad value in a new folder: no empty folder left behind
    one_error_line(train_in(tmp_path / "new", "data.batch_size=0"))
    assert not (tmp_path / "new").exists()


@pytest.mark.integration
@pytest.mark.slow
def test_a_moved_run_folder_resumes_as_if_it_had_not_moved(tmp_path):
    """Issue 26, item 2: best score, best.ckpt and last.ckpt stay one consistent story."""
    run, moved = tmp_path / "run", tmp_path / "moved"
    assert train_in(run).returncode == 0
    run.rename(moved)
    result = train_in(moved, "ckpt_path=last", "trainer.max_epochs=4")
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in (moved / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    state = torch.load(moved / "checkpoints" / "last.ckpt", weights_only=False)["callbacks"]
    (checkpointing,) = [v for k, v in state.items() if k.startswith("ModelCheckpoint")]
    assert checkpointing["best_model_path"] == str(moved / "checkpoints" / "best.ckpt")
    best = torch.load(moved / "checkpoints" / "best.ckpt", weights_only=False)
    # the best checkpoint is the best epoch of the whole run, before and after the move
    scores = [float(v["best_model_score"]) for k, v in best["callbacks"].items() if "Check" in k]
    assert scores == [float(checkpointing["best_model_score"])]


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
