import json
import re
from dataclasses import replace
from functools import partial

import pytest
import torch
from hydra.utils import instantiate

from seqlab.cli.train import train
from seqlab.errors import ConfigError
from seqlab.nets.recurrent import Recurrent
from seqlab.nets.seq2seq import Seq2Seq
from seqlab.spec import TaskSpec
from seqlab.tasks.forecasting import ForecastingTask, WindowLevel
from tests.helpers import TINY_RUN, compose_train
from tests.nets.test_shapes import jena_spec

CHICAGO_RUN = [
    "trainer=cpu",
    "trainer.max_epochs=1",
    "+trainer.limit_train_batches=2",
    "+trainer.limit_val_batches=2",
    "+trainer.limit_test_batches=2",
    "callbacks.progress=null",
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
    assert set(metrics.val) >= {"mae", "mae_t+1", "mae_t+14"}
    assert metrics.unit == "riders"
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "mae_t+7" in saved["test"]
    assert (tmp_path / "run" / "horizons.png").is_file()
    # what makes digits exact: the CPU, its kernels' instruction set, the precision (issue 24)
    assert saved["precision"] == "32-true" and saved["cpu_capability"] in (
        "DEFAULT",
        "AVX2",
        "AVX512",
    )
    assert saved["cpu"]


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
    assert {"mae_bus", "mae_rail", "mae_t+3"} <= set(metrics.test)


def test_jena_multistep_runs_seq2seq_and_encdec(jena_hourly_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(jena_hourly_dir))
    for model in ("seq2seq", "encdec"):
        overrides = [*TINY_RUN, f"model={model}", "data.horizon=6", "trainer.max_epochs=1"]
        metrics = train(compose_train(overrides, tmp_path / model))
        assert metrics.unit == "°C" and "mae_t+6" in metrics.val


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


FORECASTERS = [
    "naive",
    "seasonal_naive",
    "linear",
    "dense",
    "conv1d",
    "rnn",
    "lstm",
    "gru",
    "conv_gru",
    "wavenet",
    "seq2seq",
    "encdec",
]


def chicago_like_spec(horizon: int = 3) -> TaskSpec:
    """Multivariate Chicago inputs: bus, rail (the targets), then three day-type flags."""
    return TaskSpec(
        "chicago",
        "forecasting",
        "real",
        input_size=5,
        output_size=2 * horizon,
        sequence_length=56,
        horizon=horizon,
        covariates=3,
        target_names=("bus", "rail"),
        target_index=(0, 1),
        series_index=(0, 1),
        season=7,
        target_mean=(0.0, 0.0),
        target_std=(1e6, 1e6),
    )


def level_task(model: str, level: str, tmp_path, **kwargs) -> ForecastingTask:
    overrides = [f"model={model}", "data=chicago"]
    if model == "conv1d":
        overrides.append("model.kernel_sizes=[12,6,3]")
    net = instantiate(compose_train(overrides, tmp_path).model)
    return ForecastingTask(net, chicago_like_spec(), torch.optim.Adam, level=level, **kwargs)


@pytest.mark.parametrize("level", ["window", "seasonal"])
@pytest.mark.parametrize("model", FORECASTERS)
def test_a_shifted_and_scaled_window_gets_the_shifted_and_scaled_forecast(model, level, tmp_path):
    torch.manual_seed(0)
    task = level_task(model, level, tmp_path).eval()
    x = torch.rand(4, 56, 5)
    future = torch.rand(4, 3, 3)
    moved = x.clone()
    moved[:, :, :2] = x[:, :, :2] * 0.2 + 3.0  # a collapse and a shift; day types unchanged
    expected = task(x, future) * 0.2 + 3.0
    assert torch.allclose(task(moved, future), expected, atol=1e-4)


def test_without_a_level_the_forecast_reads_absolute_values(tmp_path):
    torch.manual_seed(0)
    task = level_task("gru", None, tmp_path).eval()
    x = torch.rand(4, 56, 5)
    assert not torch.allclose(task(x + 3.0), task(x) + 3.0, atol=1e-2)


def test_shift_moves_the_forecast_with_the_window_but_does_not_scale_it(tmp_path):
    torch.manual_seed(0)
    task = level_task("gru", "shift", tmp_path).eval()
    x = torch.rand(4, 56, 5)
    shifted, scaled = x.clone(), x.clone()
    shifted[:, :, :2] += 3.0
    scaled[:, :, :2] *= 3.0
    assert torch.allclose(task(shifted), task(x) + 3.0, atol=1e-4)
    assert not torch.allclose(task(scaled), task(x) * 3.0, atol=1e-2)


def test_level_steps_take_the_level_of_the_last_steps_only():
    level = WindowLevel(chicago_like_spec(), "shift", steps=7)
    x = torch.zeros(1, 56, 5)
    x[:, -7:, :2] = 2.0  # the series jumped a week ago
    window, loc, _ = level(x)
    assert loc.eq(2.0).all() and window[:, -7:, :2].eq(0).all()


def test_the_teacher_is_fed_in_the_windows_units(tmp_path):
    torch.manual_seed(0)
    task = level_task("encdec", "window", tmp_path).train()
    x, future, y = torch.rand(4, 56, 5), torch.rand(4, 3, 3), torch.rand(4, 6)
    moved = x.clone()
    moved[:, :, :2] = x[:, :, :2] * 0.5 + 1.0
    torch.manual_seed(1)
    expected = task(x, future, y) * 0.5 + 1.0
    torch.manual_seed(1)  # the same teacher-forcing draws
    assert torch.allclose(task(moved, future, y * 0.5 + 1.0), expected, atol=1e-4)


@pytest.mark.parametrize(
    ("level", "options", "message"),
    [
        ("median", {}, "task.level='median': choose one of null, shift, window, seasonal"),
        ("window", {"level_steps": 1}, "task.level_steps=1 must lie in 2..data.sequence_length"),
    ],
)
def test_bad_level_options_are_config_errors(level, options, message, tmp_path):
    with pytest.raises(ConfigError, match=re.escape(message)):
        level_task("gru", level, tmp_path, level_steps=options.get("level_steps"))


def test_chicago_trains_with_window_levels_and_dates_its_forecast(
    chicago_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(chicago_dir))
    overrides = [
        *CHICAGO_RUN,
        "data=chicago",
        "data.features=multivariate",
        "data.calendar=true",
        "model=gru",
        "task.level=window",
        f"paths.cache_dir={tmp_path / 'cache'}",
    ]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    assert 0 < metrics.test["mae"] < 1e6  # riders, finite
    assert (tmp_path / "run" / "forecast.png").is_file()


def test_seasonal_forecasts_the_change_from_the_seasonal_naive_value(tmp_path):
    spec = chicago_like_spec(horizon=1)
    x = torch.rand(2, 56, 5)
    _, base, _ = WindowLevel(spec, "seasonal")(x)
    assert torch.equal(base, x[:, -7, :2])  # tomorrow's base: the same weekday a week ago


def test_a_level_needs_the_targets_among_the_inputs():
    spec = replace(chicago_like_spec(), target_index=(), series_index=())
    with pytest.raises(ConfigError, match="inputs do not hold the targets; set task.level=null"):
        WindowLevel(spec, "window")


def test_independent_channels_go_through_one_net_each_with_its_channel():
    torch.manual_seed(0)
    spec = TaskSpec(
        "toy",
        "forecasting",
        "real",
        input_size=3,
        output_size=3 * 8,
        sequence_length=20,
        horizon=8,
        target_names=("a", "b", "c"),
        target_index=(0, 1, 2),
        target_mean=(0.0,) * 3,
        target_std=(1.0,) * 3,
    )
    net = partial(
        Recurrent, cell="gru", hidden_size=8, segment=4, decoder="segments", channel_embedding=True
    )
    task = ForecastingTask(net, spec, torch.optim.Adam, channels="independent").eval()
    assert task.net.channel_vectors.num_embeddings == 3
    x = torch.randn(2, 20, 3)
    pred = task(x).view(2, 8, 3)  # step-major: (batch, horizon, channel)
    for channel in range(3):
        alone = task.net(x[:, :, channel : channel + 1], channel=torch.full((2,), channel))
        assert torch.allclose(pred[:, :, channel], alone, atol=1e-6)
