import pandas as pd
import pytest

from seqlab import leaderboard
from tests.helpers import mirror_dir


def test_every_experiment_is_an_entry_with_the_data_set_its_config_trains_on():
    names = dict(leaderboard.entries(None))
    assert set(names) == {path.stem for path in leaderboard.EXPERIMENTS.glob("*.yaml")}
    assert names["jena_naive"]["data"] == "jena"
    assert names["jena_naive"]["reference"] == {"val/mae": 2.44, "test/mae": 2.62}
    assert names["chicago_seq2seq"]["data"] == "chicago"  # data=chicago_multistep
    # an entry extending another (imdb_embedding_bilstm_masked) keeps its own references
    assert names["imdb_onehot_bilstm"] == {"data": "imdb", "reference": {"test/acc": 0.87}}
    # every entry's file name starts with its data set, which the board once guessed from
    assert all(board["data"] == name.split("_")[0] for name, board in names.items())
    assert all(board["data"] == "jena" for _, board in leaderboard.entries("jena"))


def test_long_entries_start_first_and_unknown_ones_before_them(tmp_path):
    board = tmp_path / "leaderboard.csv"
    pd.DataFrame({"entry": ["a", "a", "b", "c"], "fit_s": [10.0, 10.0, 500.0, 60.0]}).to_csv(
        board, index=False
    )
    jobs = [(name, {}, 42, None) for name in ["a", "b", "c", "new"]]
    assert leaderboard.longest_first(jobs, board) == [3, 1, 2, 0]
    assert leaderboard.longest_first(jobs, tmp_path / "none.csv") == [0, 1, 2, 3]


def test_long_rows_and_tables_come_from_metrics():
    board = {"data": "jena", "reference": {"test/mae": 2.62}}
    runs = []
    for seed, mae in [(42, 2.6), (43, 2.7)]:
        metrics = {
            "model": "naive",
            "seed": seed,
            "val": {"mae": 2.4, "loss": 0.1},
            "test": {"mae": mae},
            "params": 0,
            "epochs": 0,
            "train_seconds": None,
            "samples_per_s": None,
            "device": "cpu (2 cores)",
        }
        runs += leaderboard.rows("jena_naive", board, metrics, "python train.py experiment=x")
    assert {r["metric"] for r in runs} == {"mae"} and len(runs) == 4
    test_rows = [r for r in runs if r["split"] == "test"]
    assert [r["reference"] for r in test_rows] == [2.62, 2.62]
    frame = pd.DataFrame(runs, columns=leaderboard.COLUMNS)
    table = leaderboard.markdown(frame)
    assert "## jena" in table
    assert "| jena_naive | naive | " in table and "2.65 ± 0.071" in table


def test_a_board_built_from_finished_runs_says_so_and_lists_the_unmeasured():
    frame = pd.DataFrame(columns=leaderboard.COLUMNS)
    table = leaderboard.markdown(frame, "Built from finished runs.", {"verne": ["verne_reference"]})
    assert "Built from finished runs." in table
    assert "## verne" in table and "`python train.py experiment=verne_reference`" in table


def test_long_entries_are_listed_with_their_reason_not_run():
    found = [("imdb_huge", {"data": "imdb", "long": "needs a GPU week"}), ("x", {"data": "imdb"})]
    jobs, long = leaderboard.plan(found, seeds=2, run_long=False)
    assert [(name, seed) for name, _, seed, _ in jobs] == [("x", 42), ("x", 43)]
    assert long == {"imdb": {"imdb_huge": "needs a GPU week"}}
    jobs, long = leaderboard.plan(found, seeds=1, run_long=True)
    assert [name for name, *_ in jobs] == ["imdb_huge", "x"] and long == {}
    assert jobs[0][3] == leaderboard.RUNS / "imdb_huge" / "seed42"
    frame = pd.DataFrame(columns=leaderboard.COLUMNS)
    table = leaderboard.markdown(frame, long={"imdb": {"imdb_onehot_bilstm": "too big"}})
    assert "Longer than the CPU budget" in table
    assert "`python train.py experiment=imdb_onehot_bilstm` (too big)" in table


@pytest.mark.integration
@pytest.mark.slow
def test_an_entry_run_again_gives_the_same_printed_metrics(tmp_path, monkeypatch):
    """The leaderboard's own path, twice, on the real data: every printed digit agrees."""
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(mirror_dir()))
    runs = [
        leaderboard.run("chicago_linear", 42, tmp_path / f"run{i}", "fresh", threads=1)[0]
        for i in range(2)
    ]
    assert runs[0]["epochs"] > 1
    for split in ("val", "test"):
        printed = [{k: leaderboard.number(v) for k, v in r[split].items()} for r in runs]
        assert printed[0] == printed[1]
    assert leaderboard.number(runs[0]["val"]["mae"]) == "37,881"  # the board's row
