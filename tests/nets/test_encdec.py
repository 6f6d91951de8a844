"""model=encdec with attention over the encoder's outputs (model.attention)."""

import pytest
import torch

from seqlab.cli.train import train
from seqlab.errors import ConfigError
from seqlab.nets.base import NetInput
from seqlab.nets.encdec import EncoderDecoder
from tests.helpers import compose_train
from tests.nets.test_forecasting_nets import spec
from tests.tasks.test_forecasting import CHICAGO_RUN


@pytest.mark.parametrize("attention", ["additive", "dot"])
def test_attention_weights_cover_the_window_and_sum_to_one(attention):
    torch.manual_seed(0)
    net = EncoderDecoder(spec(horizon=5, covariates=2), hidden_size=8, attention=attention)
    x, future = torch.randn(3, 20, 3), torch.randn(3, 5, 2)
    assert net(NetInput(x, future=future)).shape == (3, 5)
    weights = net.attention_map()
    assert weights.shape == (3, 5, 20) and bool((weights >= 0).all())
    assert torch.allclose(weights.sum(dim=-1), torch.ones(3, 5))
    early = x.clone()
    early[:, 0] += 3.0  # the first step reaches the forecast through attention, not only the state
    assert not torch.allclose(net(NetInput(early, future=future)), net(NetInput(x, future=future)))


def test_without_attention_the_net_is_the_one_it_was():
    torch.manual_seed(0)
    plain = EncoderDecoder(spec(horizon=3), hidden_size=8)
    torch.manual_seed(0)
    none = EncoderDecoder(spec(horizon=3), hidden_size=8, attention="none")
    assert plain.state_dict().keys() == none.state_dict().keys()
    pairs = zip(plain.parameters(), none.parameters(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    none(torch.randn(2, 20, 3))
    assert none.attention_map() is None


def test_an_unknown_attention_names_the_key_and_the_choices():
    with pytest.raises(ConfigError, match="model.attention='luong'.*none, additive, dot"):
        EncoderDecoder(spec(), attention="luong")


def test_chicago_encdec_with_attention_draws_its_weights(chicago_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(chicago_dir))
    overrides = [
        *CHICAGO_RUN,
        "data=chicago_multistep",
        "model=encdec",
        "model.attention=dot",
        f"paths.cache_dir={tmp_path / 'cache'}",
    ]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    assert "mae_t+14" in metrics.test
    assert (tmp_path / "run" / "attention.png").stat().st_size > 1000
    assert (tmp_path / "run" / "horizons.png").is_file()
