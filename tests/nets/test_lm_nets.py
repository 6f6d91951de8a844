from functools import partial

import pytest
import torch

from seqlab.errors import ConfigError, SeqlabError
from seqlab.nets.base import NetInput
from seqlab.nets.charlm import CharLM
from seqlab.nets.dilated import DilatedConvLSTM
from seqlab.nets.recurrent import Recurrent
from seqlab.spec import TaskSpec
from seqlab.tasks.network import build_network

SPEC = TaskSpec("verne", "language_model", "tokens", input_size=11, output_size=11)


@pytest.mark.parametrize(
    "net",
    [
        CharLM(SPEC, cell="gru", embedding_dim=4, hidden_size=6, num_layers=2),
        DilatedConvLSTM(SPEC, embedding_dim=3, filters=(4, 5, 6), hidden_size=7),
    ],
    ids=["charlm", "dilated"],
)
def test_pieces_with_carried_state_equal_the_whole_sequence(net):
    net.eval()
    tokens = torch.randint(0, 11, (2, 13))
    whole, _ = net(NetInput(tokens))
    first, state = net(NetInput(tokens[:, :5]))
    second, state = net(NetInput(tokens[:, 5:12], state=state))
    last, _ = net(NetInput(tokens[:, 12:], state=state))  # one token at a time, as in generation
    assert whole.shape == (2, 13, net.output_size)
    assert torch.allclose(torch.cat([first, second, last], dim=1), whole, atol=1e-5)


def test_dilated_stack_is_causal():
    net = DilatedConvLSTM(SPEC, embedding_dim=3, filters=(4, 5), hidden_size=6).eval()
    tokens = torch.randint(0, 11, (1, 10))
    changed = tokens.clone()
    changed[0, 7] = (changed[0, 7] + 1) % 11
    a, _ = net(NetInput(tokens))
    b, _ = net(NetInput(changed))
    assert torch.allclose(a[:, :7], b[:, :7]) and not torch.allclose(a[:, 7:], b[:, 7:])


def test_a_cell_the_language_model_does_not_offer_is_a_config_error():
    with pytest.raises(ConfigError, match="model.cell='rnn' is not a cell this model offers"):
        CharLM(SPEC, cell="rnn")


def test_mismatched_pairs_fail_naming_both_sides():
    jena = TaskSpec("jena", "forecasting", "real", input_size=6, output_size=1)
    with pytest.raises(SeqlabError, match="CharLM cannot serve data=jena"):
        build_network(partial(CharLM), jena)
    with pytest.raises(SeqlabError, match="Recurrent cannot serve data=verne"):
        build_network(partial(Recurrent), SPEC, embedding_dim=8)


def test_charlm_weight_drop_masks_recurrent_weights_in_training_only():
    net = CharLM(SPEC, embedding_dim=4, hidden_size=6, weight_drop=0.5)
    plain = CharLM(SPEC, embedding_dim=4, hidden_size=6)
    assert list(net.state_dict()) == list(plain.state_dict())  # same checkpoints
    tokens = torch.randint(0, 11, (2, 9))
    net.train()
    first, state = net(NetInput(tokens))
    assert not torch.equal(first, net(NetInput(tokens))[0])  # a fresh mask every pass
    net(NetInput(tokens, state=state))[0].sum().backward()  # carried state, as in TBPTT
    assert net.rnn.weight_hh_l0.grad.abs().sum() > 0
    plain.load_state_dict(net.state_dict())
    net.eval(), plain.eval()
    assert torch.equal(net(NetInput(tokens))[0], plain(NetInput(tokens))[0])
    with pytest.raises(ConfigError, match=r"model.weight_drop=1.5 must lie in \[0, 1\)"):
        CharLM(SPEC, weight_drop=1.5)
