from dataclasses import replace
from functools import partial

import pytest
import torch
from torch import nn

from seqlab.errors import SeqlabError
from seqlab.nets.baselines import Naive
from seqlab.nets.recurrent import Recurrent
from seqlab.tasks.network import build_network
from tests.nets.test_shapes import jena_spec

TEXT = replace(
    jena_spec(),
    data_name="imdb",
    kind="classification",
    input_kind="tokens",
    input_size=100,
    sequence_length=None,
    target_index=(),
    target_mean=(),
    target_std=(),
)


def test_an_architecture_that_cannot_serve_the_data_names_both():
    with pytest.raises(SeqlabError) as error:
        build_network(partial(Naive, lag=1), TEXT)
    message = str(error.value)
    assert "model Naive cannot serve data=imdb" in message
    assert "forecasting" in message and "classification" in message


def test_token_inputs_without_an_embedding_are_refused():
    with pytest.raises(SeqlabError, match="reads real inputs, not tokens"):
        build_network(partial(Recurrent, cell="gru"), TEXT)


def test_token_inputs_get_an_embedding_in_front():
    adapter, net, head = build_network(partial(Recurrent, cell="gru", hidden_size=8), TEXT, 16)
    assert isinstance(adapter, nn.Embedding) and adapter.padding_idx == 0
    ids = torch.randint(1, 100, (3, 7))
    assert head(net(adapter(ids))).shape == (3, 1)
