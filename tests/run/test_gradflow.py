import csv
import json

import pytest
import torch

from seqlab.cli.train import train
from seqlab.errors import ConfigError
from seqlab.nets.recurrent import Recurrent
from seqlab.run.gradflow import HIDDEN, INPUT, GradFlow, norms_by_distance
from seqlab.spec import TaskSpec
from tests.helpers import TINY_RUN, compose_train


def test_norms_count_back_from_each_sequences_own_last_step():
    grads = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]])[..., None]  # (batch, time, 1)
    assert norms_by_distance(grads) == [1.5, 3.5, 2.5]
    # the second sequence ends at step 1: its distance 0 is 5, distance 1 is 4
    assert norms_by_distance(grads, torch.tensor([3, 2])) == [4.0, 3.0, 1.0]


@pytest.mark.parametrize("lengths", [None, torch.tensor([6, 2, 4])])
def test_the_last_states_gradient_is_the_read_out_weights(lengths):
    """With the final state as the features and a linear loss ``w·h_T``, ``∂L/∂h_T = w`` for
    every sequence, padded or not; earlier steps get less from a simple RNN."""
    net = Recurrent(TaskSpec("t", "classification", "real", 3, 1), cell="rnn", impl="scratch")
    net.rnn.record = []
    w = torch.randn(net.output_size)
    (net(torch.randn(3, 6, 3), lengths=lengths) @ w).sum().backward()
    [(layer, steps, seen)] = net.rnn.record
    grads = torch.stack([h.grad for h in steps], dim=1)
    curve = norms_by_distance(grads, seen)
    assert layer == "l0" and len(curve) == 6
    torch.testing.assert_close(curve[0], float(w.norm()))
    assert curve[-1] < curve[0]


def measured(run_dir):
    return json.loads((run_dir / "grad_flow.json").read_text())


def test_grad_flow_measures_the_chosen_steps_and_draws_the_plot(tmp_path, jena_hourly_dir):
    overrides = [*TINY_RUN, f"paths.data_dir={jena_hourly_dir}", "model=rnn", "model.impl=scratch"]
    overrides += ["callbacks=grad_flow", "callbacks.grad_flow.steps=[0,4]"]
    train(compose_train(overrides, tmp_path / "run"))
    flow = measured(tmp_path / "run")
    assert flow["measure"] == HIDDEN
    assert [r["step"] for r in flow["records"]] == [0, 4]
    curve = flow["records"][0]["curves"]["net.rnn l0"]
    assert len(curve) == 24 and curve[-1] < curve[0]  # data.sequence_length=24
    assert "net.rnn.weight_hh_l0" in flow["records"][0]["params"]
    assert (tmp_path / "run" / "grad_flow.png").stat().st_size > 1000
    with open(tmp_path / "run" / "csv" / "metrics.csv") as f:
        rows = [r for r in csv.DictReader(f) if r.get("grad_norm/total")]
    assert [int(r["step"]) for r in rows] == [0, 4]  # logged at those steps only


@pytest.mark.slow
def test_fused_kernels_are_measured_at_their_inputs(tmp_path, jena_hourly_dir):
    overrides = [*TINY_RUN, f"paths.data_dir={jena_hourly_dir}", "model=gru_stacked"]
    overrides += ["callbacks=grad_flow", "callbacks.grad_flow.every_n_steps=3"]
    train(compose_train(overrides, tmp_path / "run"))
    flow = measured(tmp_path / "run")
    assert flow["measure"] == INPUT and [r["step"] for r in flow["records"]] == [0, 3]
    assert len(flow["records"][0]["curves"]["net.rnn"]) == 24


def test_a_step_interval_below_one_is_a_config_error():
    with pytest.raises(ConfigError, match="every_n_steps=0 must be 1 or more"):
        GradFlow(every_n_steps=0)
    assert GradFlow(every_n_steps=0, steps=[3]).chosen(3)
