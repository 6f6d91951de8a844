import json
from functools import partial

import torch

from seqlab.cli.train import train
from seqlab.nets.recurrent import Recurrent
from seqlab.nets.seq2seq import Seq2Seq
from seqlab.spec import TaskSpec
from seqlab.tasks.forecasting import ForecastingTask
from tests.helpers import TINY_RUN, compose_train
from tests.nets.test_shapes import jena_spec

CHICAGO_RUN = [
    "trainer=cpu",
    "trainer.max_epochs=1",
    "+trainer.limit_train_batches=2",
    "+trainer.limit_val_batches=2",
    "+trainer.limit_test_batches=2",
    "callbacks.rich_progress_bar=null",
]


def test_step_targets_are_the_next_values_of_each_step():
    spec = TaskSpec(
        "toy", "forecasting", "real", 2, 3, sequence_length=5, horizon=3, target_index=(1,)
    )
    task = ForecastingTask(Seq2Seq, spec, optimizer=torch.optim.Adam)
    series = torch.arange(8.0)
    x = torch.stack([-series[:5], series[:5]], dim=1)[None]  # the target is feature 1
    y = series[5:][None]
    steps = task.step_targets(x, y)
    assert steps.shape == (1, 5, 3)
    assert steps[0].tolist() == [[t + 1, t + 2, t + 3] for t in range(5)]


def test_chicago_seq2seq_reports_every_horizon(chicago_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(chicago_dir))
    overrides = [
        *CHICAGO_RUN,
        "data=chicago_multistep",
        "model=seq2seq",
        f"paths.cache_dir={tmp_path / 'cache'}",
    ]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    assert set(metrics["val"]) >= {"mae", "mae_t+1", "mae_t+14"}
    assert metrics["unit"] == "riders"
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "mae_t+7" in saved["test"]
    assert (tmp_path / "run" / "horizons.png").is_file()


def test_chicago_encdec_multitask_reports_each_target(chicago_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(chicago_dir))
    overrides = [
        *CHICAGO_RUN,
        "data=chicago",
        "data.target=both",
        "data.horizon=3",
        "model=encdec",
        f"paths.cache_dir={tmp_path / 'cache'}",
    ]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    assert {"mae_bus", "mae_rail", "mae_t+3"} <= set(metrics["test"])


def test_jena_multistep_runs_seq2seq_and_encdec(jena_hourly_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(jena_hourly_dir))
    for model in ("seq2seq", "encdec"):
        overrides = [*TINY_RUN, f"model={model}", "data.horizon=6", "trainer.max_epochs=1"]
        metrics = train(compose_train(overrides, tmp_path / model))
        assert metrics["unit"] == "°C" and "mae_t+6" in metrics["val"]


def make_task(**kwargs) -> ForecastingTask:
    return ForecastingTask(
        net=partial(Recurrent, cell="gru", hidden_size=16),
        spec=jena_spec(features=3),
        optimizer=partial(torch.optim.Adam, lr=1e-2),
        **kwargs,
    )


def test_metrics_are_in_the_targets_units():
    task = make_task()
    standardised = torch.tensor([[0.0], [1.0], [-0.5]])
    # target mean 9 °C, std 8 °C
    assert torch.allclose(task.natural(standardised), torch.tensor([[9.0], [17.0], [5.0]]))


def test_a_few_steps_fit_a_learnable_signal():
    torch.manual_seed(0)
    task = make_task(loss=torch.nn.HuberLoss())
    x = torch.randn(64, 20, 3)
    y = x[:, -1, :1] * 0.8  # the answer is in the last step
    optimizer = task.configure_optimizers()
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        loss = task.loss_fn(task(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


def test_scheduler_follows_the_monitored_metric():
    task = make_task(
        scheduler=partial(torch.optim.lr_scheduler.ReduceLROnPlateau, patience=1),
        monitor="val/mae",
    )
    config = task.configure_optimizers()
    assert config["lr_scheduler"]["monitor"] == "val/mae"
