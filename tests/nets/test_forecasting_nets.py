import functools
from dataclasses import replace

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.nets.base import NetInput
from seqlab.nets.baselines import Naive
from seqlab.nets.conv import ConvGRU, WaveNet
from seqlab.nets.encdec import EncoderDecoder
from seqlab.nets.recurrent import Recurrent
from seqlab.nets.seq2seq import Seq2Seq
from seqlab.spec import TaskSpec
from seqlab.tasks.network import check_compatible


def spec(horizon=1, lead=1, covariates=0, features=3, targets=(1,)):
    return TaskSpec(
        "toy",
        "forecasting",
        "real",
        features,
        horizon * len(targets),
        sequence_length=20,
        horizon=horizon,
        lead=lead,
        covariates=covariates,
        target_index=targets,
    )


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_weight_drop_masks_recurrent_weights_in_training_only(cell):
    net = Recurrent(spec(), cell=cell, hidden_size=8, num_layers=2, weight_drop=0.5)
    plain = Recurrent(spec(), cell=cell, hidden_size=8, num_layers=2)
    assert list(net.state_dict()) == list(plain.state_dict())  # same names, same checkpoints
    x = torch.randn(4, 20, 3)
    net.train()
    assert not torch.equal(net(NetInput(x)), net(NetInput(x)))  # a fresh mask every forward pass
    net(NetInput(x)).sum().backward()
    assert net.rnn.weight_hh_l0.grad.abs().sum() > 0  # gradients reach the raw weights
    net.eval()
    plain.load_state_dict(net.state_dict())
    plain.eval()
    assert torch.equal(net(NetInput(x)), plain(NetInput(x)))  # evaluation uses the full weights


def test_seasonal_naive_copies_the_same_weekday():
    x = torch.arange(20.0).view(1, 20, 1).repeat(1, 1, 3)  # value = time step
    assert Naive(spec(horizon=14), lag=7)(x)[0].tolist() == [13, 14, 15, 16, 17, 18, 19] * 2
    assert Naive(spec(horizon=3), lag=1)(x)[0].tolist() == [19, 19, 19]
    assert Naive(spec(lead=24), lag=1)(x)[0].tolist() == [19]


def test_seq2seq_forecasts_at_every_step():
    net = Seq2Seq(spec(horizon=14), cell="gru", hidden_size=8)
    assert net.per_step and net(NetInput(torch.randn(2, 20, 3))).shape == (2, 20, 8)
    with pytest.raises(ConfigError, match="continue its input series"):
        check_compatible(Seq2Seq, spec(lead=24))
    with pytest.raises(ConfigError, match="model.bidirectional=true: .* reads forwards"):
        Seq2Seq(spec(), bidirectional=True)


def test_conv_gru_halves_the_sequence_and_wavenet_is_causal():
    assert ConvGRU(spec(), hidden_size=8)(torch.randn(2, 20, 3)).shape == (2, 8)
    net = WaveNet(spec(horizon=14), filters=4, per_step=True)
    x = torch.randn(1, 20, 3)
    later = x.clone()
    later[:, 10:] += 1.0
    out, out_later = net(NetInput(x)), net(NetInput(later))
    assert out.shape == (1, 20, 4)
    assert torch.equal(out[:, :10], out_later[:, :10])  # no step sees ahead
    assert WaveNet(spec(), filters=4)(x).shape == (1, 4)


@pytest.mark.parametrize("net", [Recurrent, ConvGRU, EncoderDecoder])
def test_weight_drop_outside_its_range_is_a_config_error(net):
    with pytest.raises(ConfigError, match=r"model.weight_drop=1.5 must lie in \[0, 1\)"):
        net(spec(), weight_drop=1.5)
    with pytest.raises(ConfigError, match="model.cell='tcn' is not a recurrent cell"):
        EncoderDecoder(spec(), cell="tcn")


def test_encoder_decoder_teacher_forcing_and_own_forecasts():
    torch.manual_seed(0)
    net = EncoderDecoder(spec(horizon=5, covariates=2), hidden_size=8, teacher_forcing=1.0)
    x, future, truth = torch.randn(3, 20, 3), torch.randn(3, 5, 2), torch.randn(3, 5)
    own = net(NetInput(x, future=future))
    assert own.shape == (3, 5)
    forced = net(NetInput(x, future=future, teacher=truth))
    assert not torch.allclose(own[:, 1:], forced[:, 1:])  # steps 2+ read the truth
    assert torch.allclose(own[:, 0], forced[:, 0])  # step 1 reads the last observation
    # the known future covariates steer the forecast
    assert not torch.allclose(own, net(NetInput(x, future=torch.zeros_like(future))))
    assert net.teacher_ratio(0) == 1.0 and net.teacher_ratio(10) < 0.6


def test_segments_read_the_window_as_few_recurrent_steps():
    net = Recurrent(spec(), cell="gru", hidden_size=8, segment=6)
    steps = net.read_segments(torch.randn(2, 20, 3))
    assert steps.shape == (2, 4, 8)  # 20 steps padded in front to 24: four segments of six
    x = torch.randn(2, 20, 3)
    padded = torch.cat([x[:, :1].expand(-1, 4, -1), x], dim=1)
    assert torch.equal(net.read_segments(x), net.segments(padded.reshape(2, 4, 18)))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("impl", ["fused", "scratch"])
def test_segment_decoder_forecasts_each_output_segment_from_the_final_state(cell, impl):
    torch.manual_seed(0)
    net = Recurrent(
        spec(horizon=10, targets=(0, 2)),
        cell=cell,
        hidden_size=8,
        num_layers=2,
        segment=4,
        decoder="segments",
        impl=impl,
    ).eval()
    assert net.predicts_targets and net.output_size == 20 and net.positions.shape == (3, 8)
    x = torch.randn(5, 20, 3)
    y = net(NetInput(x))
    assert y.shape == (5, 20)
    # segment j of sample i: one recurrent step from i's final state, input position j
    _, state = net.rnn(net.read_segments(x[1:2]))
    out, _ = net.rnn(net.positions[2:3, None], state)
    third = net.segment_values(out[:, 0]).view(4, 2)[:2]  # steps 8 and 9 of the horizon
    assert torch.allclose(y[1].view(10, 2)[8:], third, atol=1e-6)


@pytest.mark.parametrize(
    "options, words",
    [
        ({"decoder": "attention"}, "model.decoder='attention' is not a decoder"),
        ({"decoder": "segments", "bidirectional": True}, "model.bidirectional=false"),
        ({"decoder": "segments", "pool": "max"}, "model.pool=last"),
    ],
)
def test_segment_decoder_options_are_checked(options, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        Recurrent(spec(horizon=4), cell="gru", **options)


def test_segment_decoder_serves_forecasting_only():
    text = TaskSpec("toy", "classification", "real", 3, 1, sequence_length=20)
    factory = functools.partial(Recurrent, cell="gru", decoder="segments")
    with pytest.raises(ConfigError, match="model.decoder=head"):
        check_compatible(factory, text)


def test_channel_embedding_tells_the_decoder_which_series_it_continues():
    torch.manual_seed(0)
    one = TaskSpec(
        "toy", "forecasting", "real", 1, 8, sequence_length=20, horizon=8, target_index=(0,)
    )
    net = Recurrent(
        replace(one, channels=3),
        cell="gru",
        hidden_size=8,
        segment=4,
        decoder="segments",
        channel_embedding=True,
    ).eval()
    assert net.positions.shape == (2, 4) and net.channel_vectors.weight.shape == (3, 4)
    x = torch.randn(1, 20, 1).repeat(3, 1, 1)  # one window, read as each of three series
    y = net(NetInput(x, channel=torch.arange(3)))
    assert not torch.allclose(y[0], y[1]) and not torch.allclose(y[1], y[2])
    with pytest.raises(ValueError, match="channel"):
        net(NetInput(x))
    factory = functools.partial(
        Recurrent, cell="gru", segment=4, decoder="segments", channel_embedding=True
    )
    with pytest.raises(ConfigError, match="task.channels=independent"):
        check_compatible(factory, one)
    with pytest.raises(ConfigError, match="model.decoder=segments"):
        Recurrent(one, cell="gru", channel_embedding=True)
