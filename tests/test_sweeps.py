import json

import pytest
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

from seqlab.sweeps import collect
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
    (tmp_path / "2-lstm-jena").mkdir()  # a job that failed before writing metrics
    frame = collect(tmp_path)
    assert frame["model"].tolist() == ["naive", "gru"]
    assert frame["val/mae"].tolist() == [2.44, 2.3]
    assert "val/loss" not in frame


@pytest.mark.integration
def test_multirun_keeps_finished_jobs_when_one_fails_and_summarises_them(tmp_path):
    # conv1d's 24-step kernel cannot read a 12-step window: that job fails, the others stand
    result = run_cli(
        "train.py",
        "-m",
        "model=naive,dense,conv1d",
        "debug=limit",
        "data.sequence_length=12",
        "callbacks.rich_progress_bar=null",
        f"hydra.sweep.dir={tmp_path}",
        env={"SEQLAB_DATA_DIR": str(mirror_dir())},
    )
    assert result.returncode != 0
    done = sorted(p.parent.name for p in tmp_path.glob("*/metrics.json"))
    assert done == ["0-naive-jena", "1-dense-jena"]
    summary = (tmp_path / "summary.csv").read_text().splitlines()
    assert summary[0].startswith("job,model,data,val/mae,test/mae")
    assert len(summary) == 3


@pytest.mark.integration
def test_wandb_offline_in_a_sweep_writes_runs_that_share_the_sweeps_group(tmp_path):
    sweep = tmp_path / "sweep-2026"
    result = run_cli(
        "train.py",
        "-m",
        "model=naive,dense",
        "debug=limit",
        "logger=wandb",
        "callbacks.rich_progress_bar=null",
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
