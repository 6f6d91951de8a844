import pandas as pd
import pytest
import torch

from seqlab.data.chicago import ChicagoDataModule, load_ridership
from seqlab.errors import DataError
from seqlab.nets.baselines import Naive
from tests.helpers import mirror_dir


def module(data_dir, tmp_path, **options):
    dm = ChicagoDataModule(data_dir, tmp_path / "cache", **options)
    dm.prepare_data()
    dm.setup()
    return dm


def naive_mae(dm, split, lag):
    dataset = dm.datasets[split]
    x, y, _ = dataset.__getitems__(list(range(len(dataset))))
    pred = Naive(dm.spec, lag=lag)(x)
    return float(((pred - y).abs() * dm.spec.target_std[0]).mean())


def test_prepared_like_the_reference(chicago_dir, tmp_path):
    dm = module(chicago_dir, tmp_path)
    frame = load_ridership(dm.path)
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert list(frame.columns) == ["day_type", "bus", "rail"]
    assert dm.spec.unit == "riders" and dm.spec.input_size == 1
    # 56-day windows cut inside each split: the first validation target is the 57th day
    assert dm.provenance["target_days"]["val"] == ("2019-02-26", "2019-05-31")
    assert dm.provenance["windows"]["train"] == 1096 - 56
    assert dm.provenance["windows"]["val"] == 151 - 56
    x, y, future = dm.datasets["val"][0]
    first = frame.index.get_loc(pd.Timestamp("2019-01-01"))
    rail = torch.tensor(frame["rail"].to_numpy() * 1e-6, dtype=torch.float32)
    assert torch.allclose(x[:, 0], rail[first : first + 56])
    assert torch.isclose(y[0], rail[first + 56])
    assert future.shape == (1, 3) and future[0].sum() == 1  # the target day's type


def test_multivariate_has_bus_rail_and_next_day_type(chicago_dir, tmp_path):
    dm = module(chicago_dir, tmp_path, features="multivariate", target="both", horizon=14)
    names = dm.spec.feature_names
    assert names == ("bus", "rail", "next_day_type_A", "next_day_type_U", "next_day_type_W")
    assert dm.spec.target_index == (0, 1) and dm.spec.output_size == 28
    x, y, future = dm.datasets["train"][0]
    assert y.shape == (28,) and future.shape == (14, 3)
    # a row's next-day type is the type of the following row's own day
    frame = load_ridership(dm.path)
    start = frame.index.get_loc(pd.Timestamp("2016-01-01"))
    assert frame["day_type"].iloc[start + 1] == "AUW"[int(x[0, 2:].argmax())]
    assert dm.datasets["train"].covariates[start + 56 : start + 70].equal(future)


def test_calendar_adds_weekday_and_year_cycle(chicago_dir, tmp_path):
    dm = module(chicago_dir, tmp_path, features="multivariate", calendar=True)
    assert dm.spec.input_size == 5 + 7 + 2 and dm.spec.covariates == 3 + 7 + 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"target": "trams"}, "data.target='trams' is not a column"),
        ({"horizon": 200}, "val split has 151 days, too few"),
        ({"sequence_length": 400}, "too few for a 400-day window"),
        ({"features": "all"}, "univariate or multivariate"),
    ],
)
def test_bad_options_fail_at_setup(chicago_dir, tmp_path, options, message):
    with pytest.raises(DataError, match=message):
        module(chicago_dir, tmp_path, **options)


def test_seasonal_naive_on_the_mirror_matches_the_reference(tmp_path):
    dm = module(mirror_dir(), tmp_path)
    frame = load_ridership(dm.path)
    # the reference's figure: rail MAE of the lag-7 forecast over March-May 2019
    diff = frame["rail"].diff(7)["2019-03":"2019-05"].abs().mean()
    assert round(diff) == 42143
    # seqlab's: the same forecaster scored on the validation windows (Feb 26 - May 31)
    assert naive_mae(dm, "val", lag=7) == pytest.approx(41274.3, abs=1.0)
    assert dm.provenance["windows"] == {"train": 1040, "val": 95, "test": 858}
    # forecast.png: 26 weeks from the first Monday of 2020, through the collapse of March
    plotted = pd.DatetimeIndex(dm.target_times("test")[dm.plot_stretch(dm.target_times("test"))])
    assert (str(plotted[0].date()), str(plotted[-1].date())) == ("2020-01-06", "2020-07-05")


def test_windows_are_dated_by_their_target_day(chicago_dir, tmp_path):
    dm = module(chicago_dir, tmp_path, features="multivariate", calendar=True)
    assert dm.spec.series_index == (0, 1) and dm.spec.season == 7  # bus, rail; weekly
    days = pd.DatetimeIndex(dm.target_times("val"))
    assert (str(days[0].date()), str(days[-1].date())) == dm.provenance["target_days"]["val"]
    # forecast.png shows 2020 when the test span reaches it, else the span's last 26 weeks
    test = dm.target_times("test")  # the fixture's: 158 days, all in 2019
    assert test[dm.plot_stretch(test)].tolist() == test.tolist()
    longer = pd.date_range("2019-06-01", "2019-12-31").to_numpy()
    assert longer[dm.plot_stretch(longer)].tolist() == longer[-26 * 7 :].tolist()
    dated_2020 = pd.date_range("2019-12-01", "2020-12-31").to_numpy()
    assert pd.Timestamp(dated_2020[dm.plot_stretch(dated_2020)][0]) == pd.Timestamp("2020-01-06")
