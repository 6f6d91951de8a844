import numpy as np
import pytest
import torch

from seqlab.data.chorales import (
    ChoralesDataModule,
    Transposed,
    read_chorale,
    to_chords,
    to_tokens,
)
from seqlab.errors import DataError
from tests.helpers import mirror_dir


def test_windows_follow_the_reference_recipe(chorales_dir, tmp_path):
    dm = ChoralesDataModule(chorales_dir, tmp_path / "cache", window_chords=32, window_shift=16)
    dm.prepare_data()
    dm.setup()
    assert dm.provenance["chorales"] == {"train": 3, "val": 2, "test": 2}
    # (chords - 33) // 16 + 1 windows per chorale long enough: train 80 -> 3, 49 -> 2, 20 -> 0
    assert dm.provenance["windows"] == {"train": 5, "val": 3, "test": 3}
    assert dm.spec.input_size == 47 and dm.spec.sequence_length == 131
    x, y = dm.datasets["train"].__getitems__([0, 1])
    assert torch.equal(x[:, 1:], y[:, :-1])
    first = dm.chorales["train"][0]
    assert torch.equal(x[0], to_tokens(first[:33])[:-1])
    assert torch.equal(x[1], to_tokens(first[16:49])[:-1])
    assert int(x.max()) < 47


def test_train_shift_adds_training_windows_and_keeps_the_evaluation_windows(chorales_dir, tmp_path):
    dm = ChoralesDataModule(chorales_dir, tmp_path / "cache", window_shift=16, train_shift=8)
    dm.prepare_data()
    dm.setup()
    # train 80 chords -> (80 - 33) // 8 + 1 = 6 windows, 49 -> 3, 20 -> 0; val / test as before
    assert dm.provenance["windows"] == {"train": 9, "val": 3, "test": 3}
    x, _ = dm.datasets["train"].__getitems__([1])
    assert torch.equal(x[0], to_tokens(dm.chorales["train"][0][8:41])[:-1])


def test_transpose_moves_each_training_window_within_the_keys_and_keeps_rests(
    chorales_dir, tmp_path
):
    dm = ChoralesDataModule(chorales_dir, tmp_path / "cache", transpose=5)
    dm.prepare_data()
    dm.setup()
    plain = dm.datasets["train"].windows
    torch.manual_seed(0)
    seen = set()
    for _ in range(40):
        x, y = dm.datasets["train"].__getitems__([0, 1])
        px, _ = plain.__getitems__([0, 1])
        assert torch.equal(x == 0, px == 0) and torch.equal(x[:, 1:], y[:, :-1])  # rests stay
        for row in range(2):
            shift = set((x - px)[row][px[row] > 0].tolist())
            assert len(shift) == 1  # the whole window in one other key
            seen |= shift
        assert int(x.min()) >= 0 and int(x.max()) < 47
    assert len(seen) > 3 and max(map(abs, seen)) <= 5
    assert not isinstance(dm.datasets["val"], Transposed)  # evaluation on the chorales as written


def test_tokens_round_trip_with_rests():
    chords = np.array([[0, 36, 81, 60], [62, 0, 0, 50]])
    tokens = to_tokens(chords)
    assert tokens.tolist() == [0, 1, 46, 25, 27, 0, 0, 15]
    assert np.array_equal(to_chords(tokens), chords)


def test_note_out_of_range_is_a_data_error(tmp_path):
    path = tmp_path / "chorale_000.csv"
    path.write_text("note0,note1,note2,note3\n60,55,99,40\n")
    with pytest.raises(DataError, match="99"):
        read_chorale(path)


def test_prompt_is_the_start_of_a_test_chorale(chorales_dir, tmp_path):
    dm = ChoralesDataModule(chorales_dir, tmp_path / "cache", prompt_chords=8)
    dm.setup()
    assert torch.equal(dm.prompt_tokens("1"), to_tokens(dm.chorales["test"][1][:8]))
    with pytest.raises(DataError, match="test chorale"):
        dm.prompt_tokens("9")


def test_a_window_longer_than_every_chorale_of_a_split_is_one_data_error(chorales_dir, tmp_path):
    dm = ChoralesDataModule(chorales_dir, tmp_path / "cache", window_chords=70)
    with pytest.raises(DataError, match="no val chorale has the 71 chords .* data.window_chords"):
        dm.setup()


@pytest.mark.integration
def test_mirror_archive_splits(tmp_path):
    dm = ChoralesDataModule(mirror_dir(), tmp_path / "cache", download=False)
    dm.prepare_data()
    dm.setup()
    assert dm.provenance["chorales"] == {"train": 229, "val": 76, "test": 77}
    assert all(len(d) > 1000 for d in dm.datasets.values())
