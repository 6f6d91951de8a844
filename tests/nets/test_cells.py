import math

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlab.cli.train import train
from seqlab.errors import ConfigError
from seqlab.nets import cells
from seqlab.nets.base import NetInput
from seqlab.nets.cells import ScratchStack
from seqlab.nets.charlm import CharLM
from seqlab.nets.recurrent import Recurrent, recurrent_stack
from seqlab.spec import TaskSpec
from tests.helpers import TINY_RUN, compose_train

LENGTHS = torch.tensor([7, 3, 5, 1])


def twins(cell: str, layers: int, bidirectional: bool) -> tuple[torch.nn.Module, ScratchStack]:
    """A fused stack and a scratch stack holding its weights, in float64."""
    fused = recurrent_stack(cell, 3, 5, layers, 0.0, bidirectional).double()
    scratch = recurrent_stack(cell, 3, 5, layers, 0.0, bidirectional, impl="scratch").double()
    scratch.load_state_dict(fused.state_dict())
    return fused, scratch


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def run(stack, x, state, lengths=None):
    """Outputs on the true steps, final state, and the gradients of a loss that reads both with
    respect to the input, the initial state and every weight."""
    x = x.clone().requires_grad_()
    state = tuple(s.clone().requires_grad_() for s in state)
    start = state if len(state) == 2 else state[0]
    if lengths is None:
        outputs, final = stack(x, start)
    elif isinstance(stack, ScratchStack):
        outputs, final = stack(x, start, lengths=lengths)
    else:  # PyTorch's own answer for padded batches
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        outputs, final = stack(packed, start)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=x.size(1))
    if lengths is not None:
        outputs = outputs * (torch.arange(x.size(1)) < lengths[:, None])[..., None]
    final = as_tuple(final)
    torch.manual_seed(1)  # the same random read-out for both stacks (whatever their strides)
    loss = sum((t * torch.randn(t.shape, dtype=t.dtype)).sum() for t in (outputs, *final))
    loss.backward()
    grads = [x.grad, *(s.grad for s in state), *(p.grad for p in stack.parameters())]
    return outputs.detach(), [f.detach() for f in final], grads


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("padded", [False, True], ids=["full", "padded"])
def test_scratch_cells_with_fused_weights_give_the_same_outputs_state_and_gradients(
    cell, layers, bidirectional, padded
):
    torch.manual_seed(0)
    fused, scratch = twins(cell, layers, bidirectional)
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    shape = (layers * (1 + bidirectional), 4, 5)
    state = tuple(torch.randn(shape, dtype=torch.float64) for _ in range(1 + (cell == "lstm")))
    lengths = LENGTHS if padded else None
    (out, final, grads), (ours, our_final, our_grads) = (
        run(stack, x, state, lengths) for stack in (fused, scratch)
    )
    for a, b in zip([out, *final, *grads], [ours, *our_final, *our_grads], strict=True):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_scratch_stacks_start_from_the_fused_initial_weights(cell):
    torch.manual_seed(3)
    fused = recurrent_stack(cell, 3, 5, 2, bidirectional=True)
    torch.manual_seed(3)
    scratch = recurrent_stack(cell, 3, 5, 2, bidirectional=True, impl="scratch")
    assert list(scratch.state_dict()) == list(fused.state_dict())
    for name, weight in fused.state_dict().items():
        assert torch.equal(scratch.state_dict()[name], weight), name


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("pool", ["last", "max"])
def test_recurrent_nets_read_padded_batches_alike_on_both_paths(cell, pool):
    spec = TaskSpec("t", "classification", "real", 3, 2)
    options = dict(cell=cell, hidden_size=5, num_layers=2, bidirectional=True, pool=pool)
    fused = Recurrent(spec, **options).double()
    scratch = Recurrent(spec, **options, impl="scratch").double()
    scratch.load_state_dict(fused.state_dict())
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    torch.testing.assert_close(
        scratch(x, lengths=LENGTHS), fused(x, lengths=LENGTHS), rtol=1e-10, atol=1e-12
    )
    torch.testing.assert_close(scratch(x), fused(x), rtol=1e-10, atol=1e-12)


def test_peephole_lstm_with_closed_peepholes_is_the_lstm():
    torch.manual_seed(0)
    lstm = recurrent_stack("lstm", 3, 5, impl="scratch")
    peephole = recurrent_stack("peephole_lstm", 3, 5, impl="scratch")
    assert peephole.peephole_l0.shape == (3, 5)
    peephole.load_state_dict(lstm.state_dict(), strict=False)
    x = torch.randn(2, 6, 3)
    with torch.no_grad():
        peephole.peephole_l0.zero_()
        torch.testing.assert_close(peephole(x)[0], lstm(x)[0])
        peephole.peephole_l0.fill_(0.5)  # the gates now read the cell state
        assert not torch.allclose(peephole(x)[0], lstm(x)[0])


def test_scratch_charlm_carries_its_state_across_pieces():
    spec = TaskSpec("verne", "language_model", "tokens", input_size=11, output_size=11)
    net = CharLM(spec, cell="peephole_lstm", embedding_dim=4, hidden_size=6, impl="scratch")
    net.eval()
    tokens = torch.randint(0, 11, (2, 9))
    whole, _ = net(NetInput(tokens))
    first, state = net(NetInput(tokens[:, :4]))
    second, _ = net(NetInput(tokens[:, 4:], state=state))
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole)


def test_weight_drop_reaches_the_scratch_cells_in_training_only():
    spec = TaskSpec("t", "classification", "real", 3, 2)
    net = Recurrent(spec, cell="gru", hidden_size=5, weight_drop=0.5, impl="scratch")
    x = torch.randn(2, 6, 3)
    assert not torch.equal(net(NetInput(x)), net(NetInput(x)))
    net.eval()
    assert torch.equal(net(NetInput(x)), net(NetInput(x)))


@pytest.mark.parametrize(
    "options, match",
    [
        (dict(cell="peephole_lstm"), "cell=peephole_lstm exists only with model.impl=scratch"),
        (dict(cell="lstm", impl="cudnn"), "model.impl='cudnn' is not an implementation; .*scratch"),
    ],
)
def test_cells_and_implementations_the_fused_path_lacks_are_config_errors(options, match):
    with pytest.raises(ConfigError, match=match):
        Recurrent.check_options(**options)
    with pytest.raises(ConfigError, match=match):
        Recurrent(TaskSpec("t", "classification", "real", 3, 2), **options)


RUNS = {  # model → the data fixture and overrides of a tiny run
    "rnn": ("jena_hourly_dir", ["model=rnn"]),
    "lstm": ("jena_hourly_dir", ["model=lstm", "model.cell=peephole_lstm"]),
    "gru_stacked": ("jena_hourly_dir", ["model=gru_stacked"]),
    "bilstm": ("imdb_dir", ["data=imdb", "model=bilstm", "data.pad_to=null"]),
    "conv_gru": ("jena_hourly_dir", ["model=conv_gru"]),
    "seq2seq": ("jena_hourly_dir", ["model=seq2seq", "data.horizon=6"]),
    "encdec": ("jena_hourly_dir", ["model=encdec", "data.horizon=6"]),
    "charlm": (
        "verne_dir",
        ["data=verne", "model=charlm", "model.hidden_size=8", "model.embedding_dim=4"],
    ),
    "dilated_lstm": (
        "chorales_dir",
        ["data=chorales", "model=dilated_lstm", "model.filters=[4,4]", "model.hidden_size=8"],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("model", RUNS)
def test_every_recurrent_model_trains_on_the_scratch_cells(model, request, tmp_path, monkeypatch):
    fixture, overrides = RUNS[model]
    data_dir = request.getfixturevalue(fixture)
    steps = []
    unroll = cells.unroll
    monkeypatch.setattr(cells, "unroll", lambda *a, **k: steps.append(1) or unroll(*a, **k))
    overrides = [*TINY_RUN, "trainer.max_epochs=1", "data.batch_size=4", *overrides]
    if fixture != "jena_hourly_dir":  # the Jena window options of TINY_RUN
        overrides = [o for o in overrides if not o.startswith(("data.delay", "data.sequence"))]
    cfg = compose_train(
        [*overrides, "model.impl=scratch", f"paths.data_dir={data_dir}"], tmp_path / "run"
    )
    metrics = train(cfg)
    assert steps  # the scratch cells ran
    assert all(math.isfinite(v) for v in metrics.test.values())
