import json

import pytest
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import InstantiationException
from hydra.types import RunMode
from omegaconf import OmegaConf

from seqlab.compare.sweeps import SweepSummary, collect
from seqlab.errors import ConfigError, DataError
from seqlab.run.folder import error_line, read_status, write_status
from tests.cli.test_train import run_cli
from tests.helpers import compose_train, mirror_dir


def test_collect_reads_every_finished_job(tmp_path):
    for job, mae in [("0-naive-jena", 2.44), ("1-gru-jena", 2.3)]:
        (tmp_path / job).mkdir()
        metrics = {
            "model": job.split("-")[1],
            "data": "jena",
            "val": {"mae": mae, "loss": 0.1},
            "test": {"mae": mae + 0.2},
            "params": 3,
            "epochs": 1,
            "train_seconds": 1.0,
        }
        (tmp_path / job / "metrics.json").write_text(json.dumps(metrics))
        (tmp_path / job / ".hydra").mkdir()
        overrides = [f"model={metrics['model']}", f"+task.optimizer.lr={mae / 1000}", "seed=1"]
        OmegaConf.save(OmegaConf.create(overrides), tmp_path / job / ".hydra" / "overrides.yaml")
    (tmp_path / "2-lstm-jena").mkdir()  # a job that failed before writing metrics
    frame = collect(tmp_path)
    assert frame["model"].tolist() == ["naive", "gru"]
    assert frame["val/mae"].tolist() == [2.44, 2.3]
    assert "val/loss" not in frame
    # a column for every overridden parameter, next to what the job ran
    assert list(frame.columns[:5]) == ["job", "model", "data", "task.optimizer.lr", "seed"]
    assert frame["task.optimizer.lr"].tolist() == ["0.00244", "0.0023"]


@pytest.mark.integration
@pytest.mark.slow
def test_multirun_keeps_finished_jobs_when_one_fails_and_summarises_them(tmp_path):
    # conv1d's kernels cannot read a 12-step window: that job fails, the ones around it stand
    result = run_cli(
        "train.py",
        "-m",
        "model=naive,conv1d,dense",
        "debug=limit",
        "data.sequence_length=12",
        "callbacks.progress=null",
        f"hydra.sweep.dir={tmp_path}",
        env={"SEQLAB_DATA_DIR": str(mirror_dir())},
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    done = sorted(p.parent.name for p in tmp_path.glob("*/metrics.json"))
    assert done == ["0-naive-jena", "2-dense-jena"]  # the job after the failure ran too
    summary = (tmp_path / "summary.csv").read_text().splitlines()
    assert summary[0].startswith(
        "job,model,data,debug,data.sequence_length,callbacks.progress,val/mae,test/mae"
    )
    assert len(summary) == 3
    # the table of the finished jobs is printed although a job failed
    assert f"2 runs in {tmp_path}" in result.stdout
    assert "0-naive-jena" in result.stdout and "2-dense-jena" in result.stdout
    # then one line for the failed job: its folder, its overrides and its error
    status = read_status(tmp_path / "1-conv1d-jena")
    assert status["status"] == "failed" and status["error"]
    assert "model=conv1d" in status["overrides"]
    failed = [line for line in result.stderr.splitlines() if line.startswith("error: job ")]
    assert len(failed) == 1
    assert failed[0].startswith("error: job 1-conv1d-jena (model=conv1d ")
    assert "data.sequence_length=12" in failed[0]
    assert failed[0].endswith(f"failed: {status['error']}")


def finished_job(sweep_dir, job: str) -> None:
    (sweep_dir / job).mkdir(parents=True)
    metrics = {"model": "naive", "data": "jena", "val": {"mae": 2.0}, "test": {"mae": 2.1}}
    (sweep_dir / job / "metrics.json").write_text(json.dumps(metrics))


def test_sweep_end_lists_each_failed_job_after_the_table_and_exits_non_zero(tmp_path, capsys):
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}})
    summary = SweepSummary()
    summary.on_multirun_start(config)
    finished_job(tmp_path, "0-naive-jena")
    # a job in another process (joblib, submitit) leaves only its status.json
    (tmp_path / "10-gru-jena").mkdir()
    write_status(
        tmp_path / "10-gru-jena", "failed", error="boom [1]", overrides=["model=gru", "x=[1]"]
    )
    (tmp_path / "2-lstm-jena").mkdir()
    write_status(tmp_path / "2-lstm-jena", "failed", error="ValueError: bad", overrides=[])
    with pytest.raises(SystemExit) as ended:
        summary.on_multirun_end(config)
    assert ended.value.code == 1
    out, err = capsys.readouterr()
    assert "1 runs in" in out and "0-naive-jena" in out
    lines = [line for line in err.splitlines() if line.startswith("error: job")]
    assert lines == [  # in launch order, brackets printed as they are
        "error: job 2-lstm-jena (no overrides) failed: ValueError: bad",
        "error: job 10-gru-jena (model=gru x=[1]) failed: boom [1]",
    ]


def test_failures_left_by_an_earlier_run_of_the_sweep_are_listed_but_do_not_fail_it(
    tmp_path, capsys
):
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}})
    (tmp_path / "trial-0").mkdir()
    write_status(tmp_path / "trial-0", "failed", error="boom", overrides=["a=1"])
    summary = SweepSummary()
    summary.on_multirun_start(config)  # a resumed search: trial-0 failed the first time
    finished_job(tmp_path, "trial-1")
    summary.on_multirun_end(config)  # no SystemExit
    err = capsys.readouterr().err
    assert "error: job trial-0 (a=1) failed in an earlier run of this sweep: boom" in err


def test_a_failed_job_is_recorded_in_its_folder_and_fails_the_sweep(tmp_path, capsys):
    config = OmegaConf.create(
        {
            "hydra": {
                "mode": RunMode.MULTIRUN,
                "sweep": {"dir": str(tmp_path)},
                "runtime": {"output_dir": str(tmp_path / "0-gru-jena")},
            }
        }
    )
    (tmp_path / "0-gru-jena").mkdir()
    summary = SweepSummary()
    summary.on_multirun_start(config)
    job = JobReturn(overrides=["model=gru"], status=JobStatus.FAILED)
    job.return_value = ConfigError("model.hidden_size=-4: give a positive number")
    summary.on_job_end(config, job)
    assert read_status(tmp_path / "0-gru-jena") == {
        "status": "failed",
        "error": "model.hidden_size=-4: give a positive number",
        "overrides": ["model=gru"],
        "traceback_in": None,
    }
    with pytest.raises(SystemExit):
        summary.on_multirun_end(config)
    assert "error: job 0-gru-jena (model=gru) failed: model.hidden_size=-4" in (
        capsys.readouterr().err
    )
    # the same job run again into its folder, fixed: no longer listed as failed
    summary = SweepSummary()
    summary.on_multirun_start(config)
    summary.on_job_end(config, JobReturn(overrides=["model=gru"], status=JobStatus.COMPLETED))
    assert read_status(tmp_path / "0-gru-jena")["status"] == "finished"
    summary.on_multirun_end(config)  # no SystemExit


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (DataError("the file is corrupt;\nfetch it again"), "the file is corrupt; fetch it again"),
        (ValueError("bad value\n  details"), "ValueError: bad value"),
        (KeyError("x"), "KeyError: 'x'"),
        (RuntimeError(), "RuntimeError"),
        (
            InstantiationException("Error in call to target 'T':\nTypeError('no')\nfull_key: t"),
            "InstantiationException: Error in call to target 'T': TypeError('no')",
        ),
    ],
)
def test_error_line_is_the_message_of_a_user_error_else_type_and_first_line(error, line):
    assert error_line(error) == line


@pytest.mark.integration
@pytest.mark.slow
def test_wandb_offline_in_a_sweep_writes_runs_that_share_the_sweeps_group(tmp_path):
    sweep = tmp_path / "sweep-2026"
    result = run_cli(
        "train.py",
        "-m",
        "model=naive,dense",
        "debug=limit",
        "logger=wandb",
        "callbacks.progress=null",
        f"hydra.sweep.dir={sweep}",
        env={
            "SEQLAB_DATA_DIR": str(mirror_dir()),
            "WANDB_MODE": "offline",
            "WANDB_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = sorted(sweep.glob("*/wandb/offline-run-*/*.wandb"))
    assert len(runs) == 2
    assert all(b"sweep-2026" in path.read_bytes() for path in runs)  # the group, in each log


@pytest.mark.parametrize("search", ["jena_optuna", "imdb_optuna"])
def test_every_search_composes_with_its_sweeper(search, tmp_path):
    cfg = compose_train([f"hparams_search={search}"], tmp_path)
    hydra = HydraConfig.get()
    assert hydra.sweeper._target_.endswith("OptunaSweeper")
    assert OmegaConf.to_container(hydra.sweeper)["storage"].startswith("sqlite:///")
    assert cfg.optimized_metric in ("val/mae", "val/acc")


@pytest.mark.parametrize(("launcher", "key"), [("parallel", "n_jobs"), ("slurm", "partition")])
def test_launcher_configs_compose(launcher, key, tmp_path):
    compose_train([f"hydra/launcher={launcher}"], tmp_path)
    assert key in HydraConfig.get().launcher
