import copy

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.nets.base import NetInput
from seqlab.nets.baselines import Naive
from seqlab.nets.conv import Conv1DStack
from seqlab.nets.dense import Dense
from seqlab.nets.recurrent import Recurrent
from seqlab.spec import TaskSpec
from seqlab.tasks.network import build_network


def jena_spec(features: int = 14, horizon: int = 1) -> TaskSpec:
    return TaskSpec(
        data_name="jena",
        kind="forecasting",
        input_kind="real",
        input_size=features,
        output_size=horizon,
        sequence_length=120,
        horizon=horizon,
        target_index=(1,),
        target_mean=(9.0,),
        target_std=(8.0,),
    )


def param_count(*modules: torch.nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def test_dense_matches_the_reference_parameter_count():
    _, net, head = build_network(Dense, jena_spec())
    assert param_count(net, head) == 26_913  # Keras summary: Flatten → Dense(16) → Dense(1)


def test_conv1d_matches_the_reference_parameter_count():
    _, net, head = build_network(Conv1DStack, jena_spec())
    assert param_count(net, head) == 3_873


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize(("layers", "bidirectional"), [(1, False), (2, True)])
def test_recurrent_features(cell, layers, bidirectional):
    net = Recurrent(
        jena_spec(6), cell=cell, hidden_size=8, num_layers=layers, bidirectional=bidirectional
    )
    out = net(NetInput(torch.randn(5, 120, 6)))
    assert out.shape == (5, net.output_size) == (5, 16 if bidirectional else 8)


def test_bidirectional_features_read_both_directions():
    torch.manual_seed(0)
    net = Recurrent(jena_spec(3), cell="gru", hidden_size=4, bidirectional=True).eval()
    x = torch.randn(2, 10, 3)
    changed_first = x.clone()
    changed_first[:, 0] += 5
    out, out_changed = net(NetInput(x)), net(NetInput(changed_first))
    # the backward direction's final state is the one that has just read step 0
    assert not torch.allclose(out[:, 4:], out_changed[:, 4:])


def test_naive_copies_the_last_target_value():
    x = torch.randn(4, 120, 14)
    assert torch.equal(Naive(jena_spec())(x), x[:, -1, [1]])
    assert torch.equal(Naive(jena_spec(horizon=3))(x), x[:, -1, [1]].repeat(1, 3))
    assert Naive(jena_spec(), lag=7)(x).eq(x[:, -7, [1]]).all()


def test_naive_has_no_head_and_no_parameters():
    _, net, head = build_network(Naive, jena_spec())
    assert param_count(net, head) == 0


def test_unknown_cell_or_pool_is_a_config_error():
    with pytest.raises(
        ConfigError,
        match="cell=.transformer. is not a recurrent cell; choose one of gru, lstm, peephole_lstm",
    ):
        Recurrent(jena_spec(), cell="transformer")
    with pytest.raises(ConfigError, match="model.pool='mean' .* choose last .* or max"):
        Recurrent(jena_spec(), pool="mean")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_batches_equal_packed_sequences(cell, bidirectional):
    """The fused masked path gives pack_padded_sequence's states and gradients, stacked too."""
    torch.manual_seed(0)
    spec = TaskSpec("t", "classification", "real", 3, 1)
    net = Recurrent(spec, cell=cell, hidden_size=4, num_layers=2, bidirectional=bidirectional)
    x = torch.randn(3, 6, 3, requires_grad=True)
    lengths = torch.tensor([6, 2, 4])
    padded = torch.where(torch.arange(6)[None, :, None] < lengths[:, None, None], x, 99.0)
    ours = net(NetInput(padded, lengths=lengths))
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, True, enforce_sorted=False)
    _, state = net.rnn(packed)
    hidden = state[0] if cell == "lstm" else state
    reference = torch.cat(list(hidden[-(2 if bidirectional else 1) :]), dim=-1)
    assert torch.allclose(ours, reference, atol=1e-6)
    (grad_ours,) = torch.autograd.grad(ours.square().sum(), x)
    (grad_reference,) = torch.autograd.grad(reference.square().sum(), x)
    assert torch.allclose(grad_ours, grad_reference, atol=1e-6)


def test_max_pooling_reads_only_the_true_steps():
    torch.manual_seed(0)
    spec = TaskSpec("t", "classification", "real", 3, 1)
    net = Recurrent(spec, cell="gru", hidden_size=4, bidirectional=True, pool="max").eval()
    x = torch.randn(2, 5, 3)
    padded = x.clone()
    padded[1, 2:] = 99.0
    both = net(NetInput(padded, lengths=torch.tensor([5, 2])))
    assert both.shape == (2, 8)
    assert torch.allclose(both[1], net(NetInput(x[1:, :2]))[0], atol=1e-6)
    assert torch.allclose(both[0], net(NetInput(x[:1]))[0], atol=1e-6)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("impl", ["fused", "scratch"])
def test_one_hot_tokens_folded_into_a_lookup_compute_the_same_net(cell, bidirectional, impl):
    """One-hot vectors through W_ih and the folded lookup: same outputs, same gradients."""
    torch.manual_seed(0)
    spec = TaskSpec("t", "classification", "real", 7, 1)
    kwargs = dict(cell=cell, hidden_size=4, num_layers=2, bidirectional=bidirectional, impl=impl)
    dense = Recurrent(spec, **kwargs)
    folded = copy.deepcopy(dense)
    embedding = folded.one_hot_input(7)
    ids = torch.tensor([[3, 1, 6, 0, 0], [2, 2, 5, 4, 1]])
    for lengths in (None, torch.tensor([3, 5])):
        ours = folded(embedding(ids), lengths=lengths)
        reference = dense(torch.nn.functional.one_hot(ids, 7).float(), lengths=lengths)
        assert torch.allclose(ours, reference, atol=1e-6)
        ours.square().sum().backward()
        reference.square().sum().backward()
    for i, suffix in enumerate(("", "_reverse")[: 1 + bidirectional]):
        grad = getattr(dense.rnn, f"weight_ih_l0{suffix}").grad
        rows = slice(i * grad.shape[0], (i + 1) * grad.shape[0])
        assert torch.allclose(embedding.weight.grad[:, rows], grad.T, atol=1e-6)
    assert not any(
        p.requires_grad for n, p in folded.named_parameters() if n.startswith("rnn.weight_ih_l0")
    )
