import pytest
import torch

from seqlab.data.jena import JenaDataModule, load_jena
from seqlab.errors import DataError
from seqlab.nets.baselines import Naive
from tests.helpers import HOURLY_COLUMNS, JENA_COLUMNS, mirror_dir


def naive_mae(dm, split):
    """MAE of 'the temperature will be what it is now', in °C, over a whole split."""
    spec = dm.spec
    dataset = dm.datasets[split]
    x, y = dataset.__getitems__(list(range(len(dataset))))
    pred = Naive(spec)(x)
    return float(((pred - y).abs() * spec.target_std[0]).mean())


def test_canonical_10_minute_file_is_sampled_hourly(jena_canonical_dir):
    dm = JenaDataModule(jena_canonical_dir, sequence_length=24, delay=6)
    dm.prepare_data()
    dm.setup()
    path = dm.path
    assert path.name == "jena_climate_2009_2016.csv.zip"
    raw = load_jena(path, every=1)
    assert raw.times.is_unique and (raw.values[:, raw.columns.index("wv (m/s)")] >= 0).all()
    hourly = load_jena(path, every=6)
    assert (hourly.values == raw.values[::6]).all()
    assert dm.provenance["rows"] == len(hourly.times) == 1200
    assert dm.provenance["features"] == JENA_COLUMNS
    assert dm.spec.input_size == 14 and dm.spec.unit == "°C"
    # the series is hourly: consecutive rows are 60 minutes apart
    assert (hourly.times[1:] - hourly.times[:-1]).unique().tolist() == [pd_hour()]
    # standardised with training statistics only
    train_rows = torch.from_numpy(hourly.values[:600])
    series = dm.datasets["train"].series
    assert torch.allclose(series[:600].mean(0), torch.zeros(14), atol=1e-4)
    assert torch.allclose(
        series[0] * train_rows.std(0, unbiased=False) + train_rows.mean(0), train_rows[0], atol=1e-3
    )


def pd_hour():
    import pandas as pd

    return pd.Timedelta(hours=1)


def test_canonical_file_is_preferred_to_the_extract(jena_canonical_dir, jena_hourly_dir):
    dm = JenaDataModule(jena_canonical_dir)
    dm.prepare_data()
    assert dm.path.suffix == ".zip"


def test_hourly_extract_has_six_features(jena_hourly_dir):
    dm = JenaDataModule(jena_hourly_dir, sequence_length=24, delay=6)
    dm.setup()
    six = ("p (mbar)", "T (degC)", "Tdew (degC)", "rh (%)", "VPmax (mbar)", "wv (m/s)")
    assert dm.spec.feature_names == tuple(HOURLY_COLUMNS) == six
    assert dm.spec.input_size == 6 and dm.spec.target_index == (1,)
    assert dm.provenance["form"] == "hourly extract"
    assert set(dm.provenance["windows"]) == {"train", "val", "test"}


def test_chosen_features_are_the_inputs_and_locate_the_target(jena_hourly_dir):
    dm = JenaDataModule(
        jena_hourly_dir, sequence_length=24, delay=6, features=["T (degC)", "p (mbar)"]
    )
    dm.setup()
    assert dm.spec.feature_names == ("T (degC)", "p (mbar)")
    assert dm.spec.input_size == 2 and dm.spec.target_index == (0,)


def test_unknown_feature_names_the_columns(jena_hourly_dir):
    dm = JenaDataModule(jena_hourly_dir, features=["Tpot (K)"])
    with pytest.raises(DataError, match=r"Tpot \(K\).*not found"):
        dm.setup()


def test_missing_data_offline_says_where_to_get_it(tmp_path):
    dm = JenaDataModule(tmp_path / "empty", download=False)
    with pytest.raises(DataError) as error:
        dm.prepare_data()
    message = str(error.value)
    assert "jena_climate_2009_2016.csv.zip" in message
    assert "https://s3.amazonaws.com/keras-datasets/jena_climate_2009_2016.csv.zip" in message
    assert "SEQLAB_DATA_DIR" in message


class Recorder:
    """A tensor that records every index it is read with."""

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor
        self.indices: list[torch.Tensor] = []

    def __getitem__(self, index: torch.Tensor) -> torch.Tensor:
        self.indices.append(index)
        return self.tensor[index]


def test_batches_are_one_gather(jena_hourly_dir):
    """A batch is read out of the one series with a single index of (batch, steps) rows: no
    window is copied sample by sample, and each row is the series from its start on."""
    dm = JenaDataModule(jena_hourly_dir, sequence_length=24, delay=6, batch_size=16)
    dm.setup()
    dataset = dm.datasets["train"]
    series, targets = dataset.series, dataset.targets
    dataset.series, dataset.targets = Recorder(series), Recorder(targets)
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (16, 24, 6) and y.shape == (16, 1) and x.dtype == torch.float32
    [rows] = dataset.series.indices  # one gather for the inputs of the whole batch
    [target_rows] = dataset.targets.indices  # and one for their targets
    assert rows.shape == (16, 24) and target_rows.shape == (16, 1)
    starts = rows[:, 0]
    assert set(starts.tolist()) <= set(dataset.starts.tolist())
    for i, start in enumerate(starts.tolist()):
        assert torch.equal(x[i], series[start : start + 24])
        assert y[i, 0] == targets[start + 23 + 6]  # 6 hours after the window's last step


@pytest.mark.integration
def test_naive_forecaster_reproduces_the_reference_on_the_mirror():
    dm = JenaDataModule(mirror_dir(), download=False)
    dm.prepare_data()
    dm.setup()
    assert dm.provenance["rows"] == 70038
    assert round(naive_mae(dm, "val"), 2) == 2.44
    assert round(naive_mae(dm, "test"), 2) == 2.62


def test_windows_are_dated_and_the_calendar_is_not_a_measured_series(jena_hourly_dir):
    dm = JenaDataModule(jena_hourly_dir, sequence_length=24, delay=6, calendar=True)
    dm.setup()
    assert dm.spec.input_size == 10 and dm.spec.series_index == tuple(range(6))
    times = load_jena(dm.path, every=1).times
    test = dm.datasets["test"]
    # a sample's date is its target's: 6 hours after the last of its 24 input hours
    first = int(test.starts[0]) + 24 - 1 + 6
    assert dm.target_times("test")[0] == times[first]
    assert dm.plot_stretch(dm.target_times("test")) == slice(0, 24 * 14)
