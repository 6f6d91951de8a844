"""curves.png from a run's CSV log: per epoch, or per step for a step-budget recipe."""

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from seqlab.run.curves import best_validation, plot_curves, series


def csv_log(epochs: int, steps: int, val_every: int | None = None) -> pd.DataFrame:
    """Rows as Lightning's CSV logger writes them: a training loss every 5 steps, training and
    validation metrics once per epoch (or validation every ``val_every`` steps)."""
    rows = []
    for step in range(1, epochs * steps + 1):
        epoch = (step - 1) // steps
        if step % 5 == 0:
            rows.append({"epoch": epoch, "step": step, "train/loss": 1 / step})
        if val_every and step % val_every == 0 or not val_every and step % steps == 0:
            mae = 3 - step / 100 if step < 60 else 2 + step / 100  # best at step 50 or 60
            rows.append({"epoch": epoch, "step": step, "val/loss": mae / 3, "val/mae": mae})
        if step % steps == 0:
            rows.append({"epoch": epoch, "step": step, "train/mae": 2.5})
    return pd.DataFrame(rows)


def test_per_epoch_the_training_loss_is_the_epochs_mean_and_validation_its_value():
    log = csv_log(epochs=4, steps=10)
    loss = series(log, "train/loss", by_epoch=True)
    assert loss.index.tolist() == [1, 2, 3, 4]
    assert loss[1] == pytest.approx(np.mean([1 / 5, 1 / 10]))
    assert series(log, "val/mae", by_epoch=True)[3] == pytest.approx(3 - 30 / 100)
    assert series(log, "train/acc", by_epoch=True).empty  # a metric this task does not log


@pytest.mark.parametrize(
    ("val_every", "best"), [(None, ("epoch", 5, 2.5)), (20, ("step", 40, 2.6))]
)
def test_the_figure_marks_the_best_validation(tmp_path, val_every, best):
    log = csv_log(
        epochs=8 if val_every is None else 1,
        steps=10 if val_every is None else 80,
        val_every=val_every,
    )
    assert best_validation(log, "val/mae_best", "min") == pytest.approx(best)
    path = plot_curves(log, "val/mae_best", "min", tmp_path / "curves.png", "GRU")
    image = matplotlib.image.imread(path)
    assert image.shape[1] > 2 * image.shape[0]  # loss and the metric side by side
    assert image[..., :3].std() > 0


def test_a_log_without_validation_is_named():
    with pytest.raises(ValueError, match="val/mae"):
        plot_curves(csv_log(1, 10).drop(columns=["val/mae"]), "val/mae", "min", None, "GRU")
