"""The model × data seam: build architecture → head from a data set's task spec."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import nn

from seqlab.data.spec import TaskSpec
from seqlab.errors import SeqlabError
from seqlab.nets.base import SequenceNet

NetFactory = Callable[..., SequenceNet]


def net_class(factory: NetFactory) -> type[SequenceNet]:
    """The architecture class behind a Hydra ``_partial_`` factory (or the class itself)."""
    return factory.func if isinstance(factory, partial) else factory  # type: ignore[return-value]


def check_compatible(factory: NetFactory, spec: TaskSpec) -> None:
    """Fail at once, naming the pair, when an architecture cannot serve a data set."""
    cls = net_class(factory)
    reason = cls.incompatibility(spec)
    if reason is not None:
        raise SeqlabError(
            f"model {cls.__name__} cannot serve data={spec.data_name}: {reason}. "
            f"The data set offers a {spec.describe()}; choose a model that accepts it "
            f"(see `python train.py --help` for the model options)."
        )


def build_network(factory: NetFactory, spec: TaskSpec) -> tuple[SequenceNet, nn.Module]:
    """Architecture and the linear head that maps its features to ``spec.output_size`` values."""
    check_compatible(factory, spec)
    net = factory(spec=spec)
    head = nn.Identity() if net.predicts_targets else nn.Linear(net.output_size, spec.output_size)
    return net, head
