"""The leaderboard's figures: entries summarised over seeds, best first, and drawn."""

import matplotlib.image
import pandas as pd
import pytest

from seqlab.compare.figure import panel_tables, plot_board, summary


def board_rows() -> pd.DataFrame:
    rows = []
    for entry, model, values, reference in [
        ("jena_naive", "naive", [2.62], 2.62),
        ("jena_gru", "gru", [2.40, 2.44, 2.42], 2.39),
        ("jena_lstm", "lstm", [2.50, 2.46, 2.48], None),
    ]:
        for seed, value in enumerate(values):
            for split in ("val", "test"):
                rows.append(
                    {
                        "data": "jena",
                        "entry": entry,
                        "model": model,
                        "split": split,
                        "metric": "mae",
                        "value": value,
                        "seed": seed,
                        "reference": reference,
                        "reference_source": "000 · a section" if reference else None,
                    }
                )
    return pd.DataFrame(rows)


def test_entries_are_summarised_over_their_seeds_best_first():
    table = summary(board_rows(), "test", "mae")
    assert table.index.tolist() == ["jena_gru", "jena_lstm", "jena_naive"]
    assert table.loc["jena_gru", "mean"] == pytest.approx(2.42)
    assert table.loc["jena_gru", "std"] == pytest.approx(0.02)
    assert table.loc["jena_naive", "std"] == 0 and table.loc["jena_naive", "seeds"] == 1
    assert table["baseline"].tolist() == [False, False, True]
    assert table.loc["jena_gru", "source"] == "000 · a section"


def test_accuracy_sorts_the_highest_first():
    rows = board_rows().assign(metric="acc")
    assert summary(rows, "test", "acc").index[0] == "jena_naive"


def test_validation_and_test_are_drawn_side_by_side(tmp_path):
    one = plot_board(board_rows(), "jena", "mae", ["test"], "°C", tmp_path / "one.png")
    two = plot_board(board_rows(), "jena", "mae", ["val", "test"], "°C", tmp_path / "two.png")
    narrow, wide = matplotlib.image.imread(one), matplotlib.image.imread(two)
    assert wide.shape[1] > 1.8 * narrow.shape[1] and wide[..., :3].std() > 0


def horizon_rows() -> pd.DataFrame:
    rows = board_rows()
    return pd.concat(
        [rows.assign(entry=rows["entry"] + f"_{h}", value=rows["value"] + h) for h in (96, 720)]
    )


def test_groups_put_each_horizon_in_its_own_panel(tmp_path):
    groups = {"horizon 96": "_96$", "horizon 720": "_720$"}
    titled = panel_tables(horizon_rows(), "mae", ["test"], groups)
    assert [title for title, _ in titled] == ["horizon 96: test", "horizon 720: test"]
    assert titled[1][1].index.tolist() == ["jena_gru_720", "jena_lstm_720", "jena_naive_720"]
    assert titled[0][1]["mean"].max() < 100  # no 720 row in the 96 panel
    path = plot_board(horizon_rows(), "weather", "mse", ["test"], "", tmp_path / "w.png", groups)
    assert matplotlib.image.imread(path)[..., :3].std() > 0
