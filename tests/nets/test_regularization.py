import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.nets.base import NetInput
from seqlab.nets.charlm import CharLM
from seqlab.nets.regularization import SequenceDropout
from seqlab.spec import TaskSpec


def test_sequence_dropout_keeps_one_mask_along_each_sequence():
    torch.manual_seed(0)
    drop = SequenceDropout(0.5)
    out = drop(torch.ones(8, 30, 16))
    dropped = out == 0
    assert dropped.any() and not dropped.all()
    assert torch.equal(dropped, dropped[:, :1].expand_as(dropped))  # the same at every step
    assert set(out.unique().tolist()) == {0.0, 2.0}  # the kept units scaled by 1 / (1 - p)
    assert not torch.equal(out, drop(torch.ones(8, 30, 16)))  # a fresh mask every call
    drop.eval()
    x = torch.randn(2, 5, 3)
    assert torch.equal(drop(x), x)
    with pytest.raises(ConfigError, match=r"model.dropout=1.0 must lie in \[0, 1\)"):
        SequenceDropout(1.0)


def test_charlm_variational_dropout_masks_whole_sequences():
    spec = TaskSpec("verne", "language_model", "tokens", input_size=11, output_size=11)
    net = CharLM(spec, embedding_dim=4, hidden_size=6, dropout=0.5, variational=True).train()
    features, _ = net(NetInput(torch.randint(0, 11, (4, 12))))
    dropped = features == 0
    assert dropped.any() and torch.equal(dropped, dropped[:, :1].expand_as(dropped))
    per_step, _ = CharLM(spec, embedding_dim=4, hidden_size=6, dropout=0.5).train()(
        NetInput(torch.randint(0, 11, (4, 12)))
    )
    dropped = per_step == 0
    assert not torch.equal(dropped, dropped[:, :1].expand_as(dropped))  # the default: per step
