"""What every architecture declares (nets/base.py): capabilities the tasks read, never sniff."""

import importlib
import inspect
import pkgutil
from dataclasses import replace

import pytest

import seqlab.nets
from seqlab.errors import ConfigError
from seqlab.nets.base import NetInput, SequenceNet, per_step_incompatibility
from seqlab.nets.conv import WaveNet
from seqlab.nets.seq2seq import Seq2Seq
from tests.nets.test_shapes import jena_spec


def all_nets() -> list[type[SequenceNet]]:
    for module in pkgutil.iter_modules(seqlab.nets.__path__):
        importlib.import_module(f"seqlab.nets.{module.name}")
    found, todo = [], [SequenceNet]
    while todo:
        for subclass in todo.pop().__subclasses__():
            found.append(subclass)
            todo.append(subclass)
    return found


@pytest.mark.parametrize("net", all_nets(), ids=lambda net: net.__name__)
def test_every_net_takes_one_net_input_whatever_the_task(net):
    """One call for every task: ``net(NetInput(...))``; a net reads the fields it uses."""
    parameters = list(inspect.signature(net.forward).parameters.values())[1:]
    assert [p.annotation for p in parameters] in (["NetInput"], [NetInput]), parameters


def test_per_step_is_checked_for_the_class_attribute_and_for_the_option():
    continuing = jena_spec()  # lead 1, the target among the inputs
    later = replace(continuing, lead=24)
    assert per_step_incompatibility(continuing) is None
    assert "continue its input series" in per_step_incompatibility(later)
    assert Seq2Seq.incompatibility(continuing) is None
    assert Seq2Seq.incompatibility(later).startswith("it needs targets")
    assert WaveNet.incompatibility(later) is None  # per_step is off by default
    assert WaveNet.incompatibility(later, per_step=True).startswith("with model.per_step=true")


def test_wavenet_built_by_hand_refuses_per_step_on_data_that_cannot_score_it():
    with pytest.raises(ConfigError, match="model.per_step=true: it needs targets"):
        WaveNet(replace(jena_spec(), lead=24), per_step=True)
