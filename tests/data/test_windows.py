import pytest
import torch

from seqlab.data.windows import WindowDataset, window_starts


def keras_windows(data, targets, length, delay, begin, end):
    """Keras' timeseries_dataset_from_array(data[:-delay], targets[delay:], ...), spelled out."""
    inputs, outputs = data[:-delay], targets[delay:]
    end = min(end, len(inputs))
    return [(inputs[s : s + length], outputs[s]) for s in range(begin, end - length + 1)]


@pytest.mark.parametrize(("begin", "end"), [(0, 60), (60, 90), (90, 200)])
def test_windows_match_the_reference_semantics(begin, end):
    series = torch.randn(120, 3)
    length, delay = 10, 14  # target 5 steps after the last input step
    starts = window_starts(begin, end, length, delay, len(series))
    dataset = WindowDataset(series, series[:, 1], starts, length, torch.tensor([delay]))
    expected = keras_windows(series, series[:, 1], length, delay, begin, end)
    assert len(dataset) == len(expected)
    x, y = dataset.__getitems__(list(range(len(dataset))))
    for i, (window, target) in enumerate(expected):
        assert torch.equal(x[i], window)
        assert y[i, 0] == target


def test_dataset_holds_one_series_not_windows():
    series = torch.randn(1000, 4)
    starts = window_starts(0, 1000, 100, 120, len(series))
    dataset = WindowDataset(series, series[:, 0], starts, 100, torch.tensor([120]))
    assert dataset.series.data_ptr() == series.data_ptr()
    assert len(dataset) == 1000 - 120 - 99
    x, y = dataset[5]
    assert x.shape == (100, 4) and y.shape == (1,)


def test_several_target_offsets_give_a_multistep_target():
    series = torch.arange(50.0)[:, None]
    starts = window_starts(0, 50, 5, 7, 50)
    dataset = WindowDataset(series, series[:, 0], starts, 5, torch.tensor([5, 6, 7]))
    _, y = dataset.__getitems__([0, 2])
    assert y.tolist() == [[5.0, 6.0, 7.0], [7.0, 8.0, 9.0]]


def test_split_too_short_for_a_window_says_so():
    with pytest.raises(ValueError, match="no complete window"):
        window_starts(0, 10, 20, 24, 100)


def test_windows_cut_inside_the_split_match_the_chicago_reference():
    """timeseries_dataset_from_array(split, targets=split[length:], sequence_length=length)."""
    series = torch.arange(100.0)[:, None]
    begin, end, length = 30, 70, 8
    starts = window_starts(begin, end, length, length, len(series), targets_in_split=True)
    dataset = WindowDataset(series, series[:, 0], starts, length, torch.tensor([length]))
    split = series[begin:end, 0]
    expected = [(split[s : s + length], split[s + length]) for s in range(len(split) - length)]
    x, y = dataset.__getitems__(list(range(len(dataset))))
    assert len(dataset) == len(expected) == 40 - 8
    for i, (window, target) in enumerate(expected):
        assert torch.equal(x[i, :, 0], window) and y[i, 0] == target
    assert y.max() == end - 1  # no target leaves the split


def test_covariates_of_the_target_steps_ride_along():
    series = torch.arange(30.0)[:, None]
    known = torch.arange(30.0)[:, None] * 10
    starts = window_starts(0, 30, 4, 6, 30, targets_in_split=True)
    dataset = WindowDataset(series, series[:, 0], starts, 4, torch.tensor([4, 5, 6]), known)
    x, y, future = dataset.__getitems__([0, 3])
    assert y.tolist() == [[4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]
    assert future.shape == (2, 3, 1) and future[1, :, 0].tolist() == [70.0, 80.0, 90.0]
    assert [part.shape for part in dataset[1]] == [(4, 1), (3,), (3, 1)]
