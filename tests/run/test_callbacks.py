"""The loss guard stops a NaN or diverging loss, and leaves a healthy one alone."""

from types import SimpleNamespace

import pytest
import torch

from seqlab.cli.evaluate import evaluate
from seqlab.cli.train import train
from seqlab.errors import ConfigError, SeqlabError
from seqlab.run.callbacks import LossGuard
from tests.helpers import TINY_EVAL, TINY_RUN, compose_train


def feed(guard: LossGuard, losses: list[float]) -> int:
    """Steps the guard let through before it stopped training."""
    trainer = SimpleNamespace(checkpoint_callback=None, global_step=0, current_epoch=0)
    for step, loss in enumerate(losses):
        trainer.global_step = step
        try:
            guard.on_before_backward(trainer, None, torch.tensor(loss))
        except SeqlabError:
            return step
    return len(losses)


def test_a_loss_that_explodes_without_becoming_infinite_is_stopped():
    losses = [1.0, 0.8, 0.7] + [1e9] * 30
    assert feed(LossGuard(), losses) == 3 + 9  # the smoothed loss is high for 10 steps


def test_nan_stops_at_once():
    assert feed(LossGuard(), [1.0, 0.9, float("nan")]) == 2


def test_a_healthy_or_memorising_run_is_left_alone():
    falling = [1.0 / (1 + step) for step in range(200)]
    memorised = [1.0 * 0.5**step for step in range(20)] + [0.05] * 50  # bounces far above 1e-6
    spike = [1.0] * 20 + [30.0] * 3 + [0.9] * 20  # a short spike
    for losses in (falling, memorised, spike):
        assert feed(LossGuard(), losses) == len(losses)
    assert feed(LossGuard(factor=None), [1.0] + [1e9] * 30) == 31


def test_factor_must_be_above_one():
    with pytest.raises(ConfigError, match="factor"):
        LossGuard(factor=0.5)


def test_a_huge_learning_rate_stops_with_the_step_and_the_last_good_checkpoint(
    jena_hourly_dir, tmp_path
):
    overrides = [
        *TINY_RUN,
        f"paths.data_dir={jena_hourly_dir}",
        "model=gru",
        "task.optimizer.lr=1e6",
        "trainer.max_epochs=6",
    ]
    with pytest.raises(SeqlabError, match=r"loss diverged .* at step \d+ .*Last good checkpoint"):
        train(compose_train(overrides, tmp_path / "run"))
    assert not (tmp_path / "run" / "metrics.json").exists()
    assert "diverged" in (tmp_path / "run" / "status.json").read_text()


def test_averaged_weights_are_what_validation_checkpoints_and_the_test_read(
    jena_hourly_dir, tmp_path
):
    overrides = [*TINY_RUN, f"paths.data_dir={jena_hourly_dir}", "model=gru"]
    trained = train(
        compose_train([*overrides, "callbacks=ema", "callbacks.ema.decay=0.5"], tmp_path / "run")
    )
    checkpoint = torch.load(trained.checkpoint, weights_only=False)
    averaged, current = checkpoint["state_dict"], checkpoint["current_model_state"]
    assert any(not torch.equal(averaged[k], current[k]) for k in averaged)
    # a fresh evaluation of the checkpoint reads its state_dict: the averaged weights
    cfg = compose_train(
        [f"ckpt_path={trained.checkpoint}", f"paths.data_dir={jena_hourly_dir}", *TINY_EVAL],
        tmp_path / "eval",
        config_name="eval",
    )
    assert evaluate(cfg)["test"]["mae"] == pytest.approx(trained.test["mae"], rel=1e-5)
