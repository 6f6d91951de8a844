"""DDP with two CPU processes (gloo) through the real CLI: plain ddp relaunches the command."""

import json

import pytest

from tests.cli.test_train import run_cli
from tests.helpers import mirror_dir


def ddp_run(run_dir, *overrides):
    return run_cli(
        "train.py",
        "trainer=ddp_cpu",
        "callbacks.progress=null",
        f"hydra.run.dir={run_dir}",
        *overrides,
        env={"SEQLAB_DATA_DIR": str(mirror_dir())},
    )


@pytest.mark.integration
@pytest.mark.slow
def test_metrics_reduced_across_ranks_equal_the_single_process_ones(tmp_path):
    # the naive forecaster has no weights, so two ranks must score exactly the reference
    result = ddp_run(tmp_path, "model=naive")
    assert result.returncode == 0, result.stderr[-3000:]
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert round(saved["val"]["mae"], 2) == 2.44
    assert round(saved["test"]["mae"], 2) == 2.62


@pytest.mark.integration
@pytest.mark.slow
def test_two_ranks_train_and_only_rank_zero_writes(tmp_path):
    result = ddp_run(tmp_path, "model=dense", "debug=limit")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2" in result.stderr + result.stdout
    assert result.stdout.count("run folder:") == 2  # rank 0 only: at the start and at the end
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["epochs"] == 3 and saved["test"]["mae"] > 0
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "best.ckpt",
        "last.ckpt",
    ]
    assert len(list(tmp_path.rglob("metrics.json"))) == 1
