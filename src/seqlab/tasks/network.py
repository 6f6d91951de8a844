"""The model × data seam: build input adapter → architecture → head from a task spec."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import torch
from torch import nn

from seqlab.errors import ConfigError
from seqlab.nets.base import SequenceNet
from seqlab.spec import TaskSpec

NetFactory = Callable[..., SequenceNet]


def net_class(factory: NetFactory) -> type[SequenceNet]:
    """The architecture class behind a Hydra ``_partial_`` factory (or the class itself)."""
    return factory.func if isinstance(factory, partial) else factory  # type: ignore[return-value]


def net_options(factory: NetFactory) -> dict[str, Any]:
    """The options (``model.*`` keys) a Hydra ``_partial_`` factory will build the net with."""
    return dict(factory.keywords) if isinstance(factory, partial) else {}


def check_net_options(factory: NetFactory) -> None:
    """The architecture's own check of the options its config sets, before any data are read."""
    net_class(factory).check_options(**net_options(factory))


def check_compatible(factory: NetFactory, spec: TaskSpec, offered: TaskSpec | None = None) -> None:
    """Fail at once, naming the pair, when an architecture (with its options) cannot serve a
    data set. ``offered``: what the data set itself yields, when ``spec`` is what an input
    adapter (an embedding) makes of it."""
    cls = net_class(factory)
    reason = cls.incompatibility(spec, **net_options(factory))
    if reason is not None:
        raise ConfigError(
            f"model {cls.__name__} cannot serve data={spec.data_name}: {reason}. "
            f"The data set offers a {(offered or spec).describe()}; "
            "`python train.py --help` lists the models."
        )


def build_adapter(spec: TaskSpec, embedding_dim: int | None) -> tuple[nn.Module, TaskSpec]:
    """What turns the data's inputs into real-valued steps, and the spec the net then sees.

    Token ids get a trainable embedding (index 0 is padding) unless the architecture reads
    tokens itself; real-valued inputs pass through unchanged.
    """
    if spec.input_kind != "tokens" or embedding_dim is None:
        return nn.Identity(), spec
    embedding = nn.Embedding(spec.input_size, embedding_dim, padding_idx=0)
    # Keras' uniform(-0.05, 0.05), not PyTorch's N(0, 1): unit-scale word vectors saturate the
    # recurrent gates at first, and the reference's BiLSTM then learns several epochs slower
    nn.init.uniform_(embedding.weight, -0.05, 0.05)
    with torch.no_grad():
        embedding.weight[0].zero_()
    return embedding, replace(spec, input_kind="real", input_size=embedding_dim)


def build_network(
    factory: NetFactory, spec: TaskSpec, embedding_dim: int | None = None
) -> tuple[nn.Module, SequenceNet, nn.Module]:
    """Input adapter, architecture, and the linear head mapping its features to the outputs.

    Architectures that accept token ids (``"tokens" in input_kinds``) get them as they are;
    the others get an embedding in front when the data set yields tokens. One that reads both
    gets the task's embedding where the task offers one (``embedding_dim``: classification, so
    pretrained word vectors apply) and the ids where it does not (language models).
    """
    cls = net_class(factory)
    reads_tokens = "tokens" in cls.input_kinds and (
        "real" not in cls.input_kinds or embedding_dim is None
    )
    adapter, net_spec = build_adapter(spec, None if reads_tokens else embedding_dim)
    check_compatible(factory, net_spec, offered=spec)
    net = factory(spec=net_spec)
    head = nn.Identity() if net.predicts_targets else nn.Linear(net.output_size, spec.output_size)
    return adapter, net, head
