import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest

from seqlab.cli.leaderboard import main
from seqlab.compare import board as pages
from seqlab.compare import entries, runner
from seqlab.errors import ConfigError
from seqlab.run.record import RunRecord
from tests.helpers import ROOT, mirror_dir

DECKS = Path(os.environ.get("SEQLAB_REFERENCES", ROOT.parent / "shared" / "references"))


@pytest.fixture(scope="module")
def every_entry() -> list:
    """Every conf/experiment entry, composed once for the tests that read them all."""
    return entries.entries(None)


LSTM16 = {
    "data": "jena",
    "reference": {
        "test/mae": {
            "value": 2.53,
            "source": "000 · LSTM performance: Simple LSTM Test MAE, line 546",
        }
    },
}


@pytest.fixture
def one_entry(monkeypatch):
    """The board knows one entry, jena_lstm16 (without composing every experiment)."""
    monkeypatch.setattr(runner, "entries", lambda only: [("jena_lstm16", LSTM16)])


@pytest.mark.slow  # composes every experiment
def test_every_experiment_is_an_entry_with_the_data_set_its_config_trains_on(every_entry):
    names = dict(every_entry)
    assert set(names) == {path.stem for path in entries.EXPERIMENTS.glob("*.yaml")}
    assert names["jena_naive"]["data"] == "jena"
    naive = names["jena_naive"]["reference"]
    assert {key: ref["value"] for key, ref in naive.items()} == {"val/mae": 2.44, "test/mae": 2.62}
    assert naive["test/mae"]["source"].startswith("000 · ")
    assert names["chicago_seq2seq"]["data"] == "chicago"  # data=chicago_multistep
    # an entry extending another (imdb_embedding_bilstm_masked) keeps its own references
    assert names["imdb_onehot_bilstm"]["reference"] == {
        "test/acc": {
            "value": 0.87,
            "source": "000 · IMDB test accuracy: Sequence one-hot encode, line 1025",
        }
    }
    # every entry's file name starts with its data set, which the board once guessed from
    assert all(board["data"] == name.split("_")[0] for name, board in names.items())


def test_long_entries_start_first_and_unknown_ones_before_them(tmp_path):
    board = tmp_path / "leaderboard.csv"
    pd.DataFrame({"entry": ["a", "a", "b", "c"], "fit_s": [10.0, 10.0, 500.0, 60.0]}).to_csv(
        board, index=False
    )
    jobs = [(name, {}, 42, None) for name in ["a", "b", "c", "new"]]
    assert runner.longest_first(jobs, board) == [3, 1, 2, 0]
    assert runner.longest_first(jobs, tmp_path / "none.csv") == [0, 1, 2, 3]
    jobs[2] = ("c", {"prepare": "python scripts/pretrain_embeddings.py"}, 42, None)
    assert runner.longest_first(jobs, board) == [2, 3, 1, 0]  # its preparing is not timed


def test_long_rows_and_tables_come_from_metrics():
    source = "000 · Naïve forecaster: common-sense baseline, line 119"
    board = {"data": "jena", "reference": {"test/mae": {"value": 2.62, "source": source}}}
    runs = []
    for seed, mae in [(42, 2.6), (43, 2.7)]:
        metrics = {
            "data": "jena",
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
        runs += runner.rows(
            "jena_naive", board, RunRecord.from_json(metrics), "python train.py experiment=x"
        )
    assert {r["metric"] for r in runs} == {"mae"} and len(runs) == 4
    test_rows = [r for r in runs if r["split"] == "test"]
    assert [r["reference"] for r in test_rows] == [2.62, 2.62]
    assert [r["reference_source"] for r in test_rows] == [source, source]
    frame = pd.DataFrame(runs, columns=pages.COLUMNS)
    table = pages.markdown(frame)
    assert "## jena" in table
    assert "| jena_naive | naive | " in table and "2.65 ± 0.071" in table


def test_a_board_built_from_finished_runs_says_so_and_lists_the_unmeasured():
    frame = pd.DataFrame(columns=pages.COLUMNS)
    table = pages.markdown(frame, "Built from finished runs.", {"verne": ["verne_reference"]})
    assert "Built from finished runs." in table
    assert "## verne" in table and "`python train.py experiment=verne_reference`" in table


def test_long_entries_are_listed_with_their_reason_not_run():
    found = [("imdb_huge", {"data": "imdb", "long": "needs a GPU week"}), ("x", {"data": "imdb"})]
    jobs, long = runner.plan(found, seeds=2, run_long=False)
    assert [(name, seed) for name, _, seed, _ in jobs] == [("x", 42), ("x", 43)]
    assert long == {"imdb": {"imdb_huge": "needs a GPU week"}}
    jobs, long = runner.plan(found, seeds=1, run_long=True)
    assert [name for name, *_ in jobs] == ["imdb_huge", "x"] and long == {}
    assert jobs[0][3] == pages.RUNS / "imdb_huge" / "seed42"
    frame = pd.DataFrame(columns=pages.COLUMNS)
    table = pages.markdown(frame, long={"imdb": {"imdb_onehot_bilstm": "too big"}})
    assert "Longer than the CPU budget" in table
    assert "`python train.py experiment=imdb_onehot_bilstm` (too big)" in table


@pytest.mark.slow  # composes every experiment
def test_every_deck_reference_is_on_the_line_its_source_cites(every_entry):
    """A reference whose source names a deck (``000 · … line 546``) holds the number printed on
    that line of the deck: 2.53, 37,866, 89.2%."""
    if not DECKS.is_dir():
        pytest.skip(f"the reference decks are not at {DECKS} (set SEQLAB_REFERENCES)")
    decks = {path.name[:3]: path.read_text().splitlines() for path in DECKS.glob("0*.txt")}
    checked = 0
    for name, board in every_entry:
        for key, ref in board["reference"].items():
            cited = re.fullmatch(r"(\d{3}) · .*, line (\d+)", ref["source"])
            if cited is None:
                assert ref["source"].startswith("not in the decks: "), (name, key, ref)
                continue
            line = decks[cited[1]][int(cited[2]) - 1]
            v = ref["value"]
            printed = {f"{v:g}", f"{v:.2f}", f"{v:,.0f}", f"{v * 100:g}%"}
            assert any(text in line for text in printed), (name, key, ref["source"], line)
            checked += 1
    assert checked >= 20


def test_a_reference_without_its_source_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    experiments = tmp_path / "experiment"
    experiments.mkdir()
    (experiments / "jena_x.yaml").write_text(
        "leaderboard:\n  data: jena\n  reference: {test/mae: 2.53}\n"
    )
    monkeypatch.setattr(entries, "EXPERIMENTS", experiments)
    with pytest.raises(SystemExit) as stopped:
        main(["--collect", "--out", str(tmp_path)])
    assert stopped.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert "jena_x.yaml" in err and "test/mae" in err and "source" in err
    assert not (tmp_path / "LEADERBOARD.md").exists()


def test_short_entries_get_every_seed_long_ones_one():
    found = [(name, {"data": "jena"}) for name in ["short", "long", "new"]]
    last = {"short": 30.0, "long": 900.0}
    jobs, _ = runner.plan(found, seeds=3, run_long=False, last_fit=last)
    assert [(name, seed) for name, _, seed, _ in jobs] == [
        ("short", 42),
        ("short", 43),
        ("short", 44),
        ("long", 42),
        ("new", 42),
        ("new", 43),
        ("new", 44),
    ]
    # an entry that states its seeds gets them, whatever its last run took
    found = [("claimed", {"data": "w", "seeds": 3}), ("costly", {"data": "w", "seeds": 1})]
    jobs, _ = runner.plan(found, seeds=3, run_long=False, last_fit={"claimed": 900.0})
    assert [(name, seed) for name, _, seed, _ in jobs] == [
        ("claimed", 42),
        ("claimed", 43),
        ("claimed", 44),
        ("costly", 42),
    ]


def test_a_command_carries_its_threads_and_its_seeds():
    assert entries.command("x", [42], 1) == "python train.py experiment=x threads=1 seed=42"
    prepared = entries.command("x", [42, 43, 44], 2, "python prep.py")
    assert prepared == (
        "OMP_NUM_THREADS=2 python prep.py && "
        "python train.py -m experiment=x threads=2 seed=42,43,44"
    )


def seed_rows(name: str, maes: list[float], board: dict) -> list[dict]:
    """leaderboard.csv's rows of one entry run with seeds 42, 43, … (test MAE ``maes``)."""
    out = []
    for seed, mae in enumerate(maes, 42):
        metrics = {
            "data": "jena",
            "model": "lstm",
            "seed": seed,
            "threads": 1,
            "val": {"mae": 2.4},
            "test": {"mae": mae},
            "params": 10,
            "epochs": 10,
            "fit_seconds": 20.0,
            "device": "cpu (2 cores)",
            "data_source": {
                "file": "/data/jena/jena_climate_2009_2016_hourly_6cols.csv",
                "form": "hourly extract",
                "features": ["p", "T", "Tdew", "rh", "VPmax", "wv"],
            },
        }
        line = entries.command(name, [seed], 1)
        out += runner.rows(name, board, RunRecord.from_json(metrics), line)
    return out


def test_seeds_are_kept_in_the_csv_and_shown_as_mean_and_spread_with_cited_references():
    source = "000 · LSTM performance: Simple LSTM Test MAE, line 546"
    board = {"data": "jena", "reference": {"test/mae": {"value": 2.53, "source": source}}}
    runs = seed_rows("jena_lstm16", [2.4, 2.5, 2.6], board)
    runs += seed_rows("jena_slow", [2.7], {"data": "jena"})
    frame = pd.DataFrame(runs, columns=pages.COLUMNS)
    assert len(frame[frame["entry"] == "jena_lstm16"]) == 6  # 3 seeds × (val, test)
    tested = frame[(frame["entry"] == "jena_lstm16") & (frame["split"] == "test")]
    assert list(tested["reference_source"]) == [source] * 3
    assert list(tested["command"])[1] == "python train.py experiment=jena_lstm16 threads=1 seed=43"
    table = pages.markdown(frame, notes={"jena_slow": "a remark"})
    row = next(line for line in table.splitlines() if line.startswith("| jena_lstm16 |"))
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    assert cells[4:7] == ["2.53 [1]", "2.5 ± 0.1", "3"]
    assert "data: jena_climate_2009_2016_hourly_6cols.csv: hourly extract, 6 features" in cells[7]
    assert cells[-1] == "`python train.py -m experiment=jena_lstm16 threads=1 seed=42,43,44`"
    assert f"[1] {source}" in table
    slow = next(line for line in table.splitlines() if line.startswith("| jena_slow |"))
    assert "| 1 (single-seed) |" in slow and "a remark" in slow
    assert entries.sheet("jena")["intro"]["hourly extract"] in table


def test_each_data_set_gets_a_figure_that_its_table_embeds(tmp_path, monkeypatch):
    runs = seed_rows("jena_lstm16", [2.4, 2.5, 2.6], {"data": "jena"})
    runs += seed_rows("jena_naive", [2.62], {"data": "jena"})
    runs += seed_rows("chicago_rnn", [30000.0], {"data": "chicago"})
    frame = pd.DataFrame(runs, columns=pages.COLUMNS)
    # the best learned entry's first seed left its curves; Chicago's run is not here
    monkeypatch.setattr(pages, "RUNS", tmp_path / "runs")
    (tmp_path / "runs" / "jena_lstm16" / "seed42").mkdir(parents=True)
    (tmp_path / "runs" / "jena_lstm16" / "seed42" / "curves.png").write_bytes(b"png")
    figures = pages.draw(frame, tmp_path / "out")
    assert figures == {
        "chicago": [("chicago: mae per entry", "leaderboard/chicago.png")],
        "jena": [
            ("jena: mae per entry", "leaderboard/jena.png"),
            ("jena_lstm16 (seed 42): learning curves", "leaderboard/jena-curves.png"),
        ],
    }
    board = tmp_path / "out" / "leaderboard"
    jena = matplotlib.image.imread(board / "jena.png")
    chicago = matplotlib.image.imread(board / "chicago.png")
    assert chicago.shape[1] > 1.8 * jena.shape[1]  # Chicago: validation and test side by side
    assert (board / "jena-curves.png").read_bytes() == b"png"
    table = pages.markdown(frame, figures=figures)
    assert "![jena: mae per entry](leaderboard/jena.png)" in table
    assert "![jena_lstm16 (seed 42): learning curves](leaderboard/jena-curves.png)" in table


def test_a_spread_is_printed_to_the_digits_of_its_mean():
    assert pages.fmt(pd.Series([19539.0, 18861.0, 18892.0])) == "19,097 ± 383"
    assert pages.fmt(pd.Series([2.4, 2.5, 2.6])) == "2.5 ± 0.1"
    assert pages.fmt(pd.Series([0.5, 0.5])) == "0.5"


def test_a_table_shows_the_metric_every_entry_reports():
    both = {"data": "chicago"}
    frame = pd.DataFrame(
        [
            {"entry": "one_day", "metric": "mae", "reference": None, **both},
            {"entry": "two_weeks", "metric": "mae", "reference": None, **both},
            {"entry": "two_weeks", "metric": "mae_t+1", "reference": 25519.0, **both},
        ]
    )
    assert pages.main_metric(frame) == "mae"
    assert pages.main_metric(frame[frame["entry"] == "two_weeks"]) == "mae_t+1"


def test_rows_kept_from_an_earlier_board_show_todays_references():
    old = pd.DataFrame(seed_rows("jena_lstm16", [2.5], {"data": "jena"}), columns=pages.COLUMNS)
    old["reference"] = 2.55  # the number an earlier board printed
    source = "000 · LSTM performance: Simple LSTM Test MAE, line 546"
    found = [("jena_lstm16", {"reference": {"test/mae": {"value": 2.53, "source": source}}})]
    new = entries.with_references(old, found)
    tested = new[new["split"] == "test"].iloc[0]
    assert (tested["reference"], tested["reference_source"]) == (2.53, source)
    assert new[new["split"] == "val"]["reference"].isna().all()


@pytest.mark.integration
@pytest.mark.slow
def test_an_entry_run_as_its_row_prints_it_gives_every_digit_of_the_row(tmp_path, monkeypatch):
    """The leaderboard's own run of a cheap entry, then its printed command run as printed (in
    a shell without OMP_NUM_THREADS, only told where to write): every printed digit agrees."""
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(mirror_dir()))
    board, printed = runner.run("chicago_linear", 42, tmp_path / "board", "fresh", threads=1)
    assert printed == "python train.py experiment=chicago_linear threads=1 seed=42"
    assert board.threads == 1 and board.epochs > 1
    python, script, *overrides = shlex.split(printed)
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    subprocess.run(
        [sys.executable, script, *overrides, f"hydra.run.dir={tmp_path / 'copy'}"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    copy = RunRecord.read(tmp_path / "copy")
    for split in ("val", "test"):
        digits = [{k: pages.number(v) for k, v in getattr(r, split).items()} for r in (board, copy)]
        assert digits[0] == digits[1]
    assert pages.number(board.val["mae"]) == "37,881"  # the published board's row


def test_render_retabulates_the_csv_with_todays_references_and_trains_nothing(tmp_path, one_entry):
    old = pd.DataFrame(seed_rows("jena_lstm16", [2.468], {"data": "jena"}))
    old = old.drop(columns=["reference_source", "threads", "unit"]).assign(reference=2.55)
    old.to_csv(tmp_path / "leaderboard.csv", index=False)
    assert runner.build(mode="render", out=tmp_path) == {}
    table = (tmp_path / "LEADERBOARD.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| jena_lstm16 |"))
    assert "| 2.53 [1] | 2.468 |" in row  # the deck's number, cited; the run's as measured
    assert "--render" in table and (tmp_path / "leaderboard" / "jena.png").is_file()
    assert not (tmp_path / "logs").exists()


def test_render_without_a_board_is_one_error(tmp_path, one_entry):
    with pytest.raises(ConfigError, match="--render re-tabulates an existing board"):
        runner.build(mode="render", out=tmp_path)


def test_a_check_says_per_row_same_digits_inside_the_spread_or_outside(
    tmp_path, monkeypatch, capsys
):
    """Issue 24, section 2: `--check ENTRY` reruns the printed rows and compares."""
    from seqlab.compare import check

    assert check.verdict(2.5, 2.5, [2.5, 2.6, 2.4]) == check.SAME
    assert check.verdict(2.55, 2.5, [2.5, 2.6, 2.4]) == check.INSIDE
    assert check.verdict(2.9, 2.5, [2.5, 2.6, 2.4]) == check.OUTSIDE
    assert check.verdict(2.51, 2.5, [2.5]) == check.OUTSIDE  # one seed: no spread to be inside
    rows = [
        {
            "entry": "jena_naive",
            "split": "test",
            "metric": "mae",
            "value": v,
            "seed": s,
            "threads": 1,
        }
        for s, v in ((42, 2.5), (43, 2.6), (44, 2.4))
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "leaderboard.csv", index=False)
    now = {42: 2.5, 43: 2.62, 44: 3.5}

    class Ran:
        def __init__(self, seed):
            self.seed = seed

        def metrics(self):
            return {"test/mae": now[self.seed]}

    monkeypatch.setattr(check, "run", lambda name, seed, *rest: (Ran(seed), f"seed={seed}"))
    table = check.check("jena_naive", tmp_path / "leaderboard.csv", tmp_path / "checks")
    assert table["verdict"].tolist() == [check.SAME, check.INSIDE, check.OUTSIDE]
    assert not check.report("jena_naive", table)
    assert "1 same digits, 1 inside the spread, 1 outside the spread" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="no row of chicago_naive"):
        check.check("chicago_naive", tmp_path / "leaderboard.csv")


def test_a_rows_device_names_its_precision_unless_fp32():
    row = pd.Series({"device": "cpu (2 cores)", "precision": "bf16-mixed"})
    assert pages.device_cell(row) == "cpu (2 cores), bf16-mixed"
    assert pages.device_cell(row.replace("bf16-mixed", "32-true")) == "cpu (2 cores)"
    assert (
        pages.device_cell(pd.Series({"device": "cpu (2 cores)", "precision": None}))
        == "cpu (2 cores)"
    )


def test_a_full_build_keeps_the_rows_of_long_entries_and_says_so(tmp_path, monkeypatch):
    """A long entry is not trained by the default build; its row from the previous board stays in
    the table, marked as kept, and the build's own entries are trained as usual."""
    slow = {**LSTM16, "long": "half an hour of one core"}
    monkeypatch.setattr(
        runner, "entries", lambda only: [("jena_lstm16", LSTM16), ("jena_slow", slow)]
    )
    old = seed_rows("jena_slow", [2.7], {"data": "jena"})
    old += seed_rows("jena_gone", [2.9], {"data": "jena"})  # an entry no longer in conf/
    pd.DataFrame(old, columns=pages.COLUMNS).to_csv(tmp_path / "leaderboard.csv", index=False)
    trained = []

    def fake_run(name, seed, run_dir, mode, threads, prepare=None):
        trained.append(name)
        rows = seed_rows(name, [2.5], {"data": "jena"})
        metrics = {"data": "jena", "model": "lstm", "seed": seed, "threads": threads}
        metrics |= {"val": {"mae": 2.4}, "test": {"mae": 2.5}, "params": 10, "epochs": 10}
        metrics |= {"fit_seconds": 20.0, "device": "cpu (2 cores)", "cpu": "Xeon"}
        metrics |= {"cpu_capability": "AVX512"}
        return RunRecord.from_json(metrics), rows[0]["command"]

    monkeypatch.setattr(runner, "run", fake_run)
    assert runner.build(seeds=1, out=tmp_path) == {}
    assert trained == ["jena_lstm16"]
    csv = pd.read_csv(tmp_path / "leaderboard.csv")
    assert set(csv["entry"]) == {"jena_lstm16", "jena_slow"}
    table = (tmp_path / "LEADERBOARD.md").read_text()
    assert "| jena_slow |" in table and "Its row above is kept from an earlier build." in table
    assert "trained 1 entries from scratch" in table and "rows of the 1 other entries" in table
    assert "Trained on: Xeon (AVX512)." in table


def test_a_full_build_leaves_out_a_data_set_built_on_its_own_and_keeps_its_rows(
    tmp_path, monkeypatch
):
    weather = {"data": "weather"}
    monkeypatch.setattr(
        runner, "entries", lambda only: [("jena_lstm16", LSTM16), ("weather_x", weather)]
    )
    monkeypatch.setattr(runner, "sheet", lambda data: {"own_build": data == "weather"})
    old = seed_rows("weather_x", [0.3], weather)
    pd.DataFrame(old, columns=pages.COLUMNS).to_csv(tmp_path / "leaderboard.csv", index=False)
    trained = []

    def fake_run(name, seed, run_dir, mode, threads, prepare=None):
        trained.append(name)
        metrics = {"data": "jena", "model": "lstm", "seed": seed, "threads": threads}
        metrics |= {"val": {"mae": 2.4}, "test": {"mae": 2.5}, "params": 10, "epochs": 10}
        return RunRecord.from_json(metrics), entries.command(name, [seed], threads)

    monkeypatch.setattr(runner, "run", fake_run)
    runner.build(seeds=1, out=tmp_path)
    assert trained == ["jena_lstm16"]
    assert set(pd.read_csv(tmp_path / "leaderboard.csv")["entry"]) == {"jena_lstm16", "weather_x"}
    runner.build(seeds=1, out=tmp_path, only="weather")
    assert trained == ["jena_lstm16", "weather_x"]


@pytest.mark.slow
def test_a_run_that_fails_is_reported_failed_with_its_error_in_its_log(tmp_path, capsys):
    """A training run refused by its own checks (forked, `runner.trained`) and a preparing command
    that fails: no result, FAILED on the board's log, the reason in the run's train.log."""
    record, line = runner.run("no_such_entry", 42, tmp_path / "a", "fresh", threads=1)
    assert record is None and line.endswith("experiment=no_such_entry threads=1 seed=42")
    assert "no_such_entry" in (tmp_path / "a" / "train.log").read_text()
    assert "FAILED" in capsys.readouterr().out
    assert runner.prepare_ran("false", tmp_path / "log", {}) is False
    record, _ = runner.run("chicago_linear", 42, tmp_path / "b", "fresh", 1, "false")
    assert record is None and not (tmp_path / "b" / "metrics.json").exists()
