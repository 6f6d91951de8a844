"""What a net needs of a data set's windows, declared and checked at set-up (issue 15, item 7)."""

from dataclasses import replace
from functools import partial

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.nets.base import NetInput
from seqlab.nets.conv import Conv1DStack, ConvGRU, WaveNet, stack_length
from seqlab.nets.dense import Dense, Linear
from seqlab.nets.text import BagOfWords
from seqlab.tasks.network import build_network, check_compatible
from tests.nets.test_shapes import jena_spec
from tests.tasks.test_network import TEXT

CHICAGO = replace(jena_spec(features=1), data_name="chicago", sequence_length=56, target_index=(0,))


@pytest.mark.parametrize(
    ("kernels", "pool"), [((24, 12, 6), 2), ((12, 6, 3), 2), ((5,), 3), ((3, 3), 1), ((4, 2), 3)]
)
def test_stack_length_is_the_fewest_steps_the_stack_reads(kernels, pool):
    needed = stack_length(kernels, pool)
    net = Conv1DStack(
        jena_spec(2), filters=(3,) * len(kernels), kernel_sizes=kernels, pool_size=pool
    )
    assert net.layers(torch.randn(1, 2, needed)).shape[2] >= 1
    with pytest.raises(RuntimeError):
        net.layers(torch.randn(1, 2, needed - 1))
    assert stack_length((24, 12, 6), 2) == 69


def test_conv1d_refuses_windows_shorter_than_its_kernels_naming_both_fixes():
    with pytest.raises(ConfigError) as error:
        build_network(partial(Conv1DStack, kernel_sizes=[24, 12, 6], pool_size=2), CHICAGO)
    message = str(error.value)
    assert "model Conv1DStack cannot serve data=chicago" in message
    assert "read at least 69 steps" in message and "windows have 56" in message
    assert "data.sequence_length=69" in message and "model.kernel_sizes=[12,6,3]" in message
    assert "\n" not in message
    # both fixes build and run
    _, net, _ = build_network(partial(Conv1DStack, kernel_sizes=[12, 6, 3]), CHICAGO)
    assert net(NetInput(torch.randn(2, 56, 1))).shape == (2, 8)
    _, net, _ = build_network(Conv1DStack, replace(CHICAGO, sequence_length=69))
    assert net(NetInput(torch.randn(2, 69, 1))).shape == (2, 8)


def test_conv_nets_pad_texts_shorter_than_their_kernels():
    adapter, net, head = build_network(Conv1DStack, TEXT, embedding_dim=4)
    assert net.min_length == 69
    ids = torch.randint(1, 100, (3, 7))  # a batch of 7-word reviews
    assert head(net(NetInput(adapter(ids)))).shape == (3, 1)
    padded = torch.nn.functional.pad(ids, (0, 62))  # the padding id's embedding is zero
    assert torch.allclose(net(NetInput(adapter(ids))), net(NetInput(adapter(padded))))
    _, gru, _ = build_network(ConvGRU, TEXT, embedding_dim=4)
    assert gru(NetInput(adapter(ids[:, :2]))).shape == (3, gru.output_size)


@pytest.mark.parametrize("net", [Dense, Linear])
def test_flattening_nets_refuse_texts_of_any_length_naming_the_ways_on(net):
    with pytest.raises(ConfigError) as error:
        build_network(net, TEXT, embedding_dim=4)
    message = str(error.value)
    assert (
        f"model {net.__name__} cannot serve data=imdb: it flattens a fixed-length window" in message
    )
    assert "data.pad_to=600" in message and "model=text_cnn" in message
    assert "tokens inputs (100 vocabulary)" in message  # what the data set offers, not embedded
    adapter, built, head = build_network(net, replace(TEXT, sequence_length=20), embedding_dim=4)
    assert head(built(adapter(torch.randint(0, 100, (3, 20))))).shape == (3, 1)


def test_bag_of_words_on_word_sequences_names_the_output_mode():
    with pytest.raises(ConfigError, match=r"set data\.output_mode=multi_hot \(or count, tf_idf\)"):
        check_compatible(BagOfWords, TEXT)
    with pytest.raises(ConfigError, match="it serves classification tasks, not forecasting"):
        check_compatible(BagOfWords, CHICAGO)


def test_wavenet_per_step_is_checked_with_its_option():
    check_compatible(partial(WaveNet, per_step=False), jena_spec())
    jena = replace(jena_spec(), lead=24)
    with pytest.raises(ConfigError, match="with model.per_step=true it needs targets"):
        check_compatible(partial(WaveNet, per_step=True), jena)
    with pytest.raises(ConfigError, match="model.per_step=true it forecasts at every time step"):
        check_compatible(partial(WaveNet, per_step=True), replace(TEXT, input_kind="real"))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"filters": (8, 8)}, r"model.filters=\[8, 8\] and model.kernel_sizes=\[24, 12, 6\]"),
        ({"kernel_sizes": (24, 0, 6)}, r"model.kernel_sizes=\[24, 0, 6\]: every entry"),
        ({"pool_size": 0}, "model.pool_size=0 must be 1 or more"),
    ],
)
def test_bad_conv1d_options_are_config_errors(options, match):
    with pytest.raises(ConfigError, match=match):
        Conv1DStack(jena_spec(), **options)
