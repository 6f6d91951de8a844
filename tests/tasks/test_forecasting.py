from functools import partial

import torch

from seqlab.nets.recurrent import Recurrent
from seqlab.tasks.forecasting import ForecastingTask
from tests.nets.test_shapes import jena_spec


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
