"""The leaderboard: every ``conf/experiment/`` entry trained (or its finished run read back),
then LEADERBOARD.md and leaderboard.csv written from the runs' metrics.json.

Nothing in them is typed by hand: the reference numbers, each with its source, come from each
experiment's own ``leaderboard.reference`` block (``{test/mae: {value: 2.53, source: "…"}}``), a
row's remarks from its ``leaderboard.notes``, the data set from its composed configuration.
Entries whose ``leaderboard.long`` says why they need more than the CPU budget are listed, not
run, unless asked; an entry's ``leaderboard.prepare`` command (pretrained word vectors) runs
before it. Every entry runs with several seeds unless its single run took longer than
``SINGLE_SEED_AFTER`` on the last board; each command carries the thread count it ran with.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from seqlab.compare.figure import plot_board, summary
from seqlab.errors import ConfigError
from seqlab.files import atomic_path, write_text_atomic
from seqlab.run.compose import CONFIG_DIR, ROOT
from seqlab.run.record import RunRecord

EXPERIMENTS = CONFIG_DIR / "experiment"
RUNS = ROOT / "logs" / "leaderboard"  # one folder per entry and seed
COLUMNS = [
    "data",
    "entry",
    "model",
    "split",
    "metric",
    "value",
    "unit",
    "reference",
    "reference_source",
    "params",
    "epochs",
    "train_s",
    "fit_s",
    "samples_per_s",
    "device",
    "seed",
    "threads",
    "data_file",
    "command",
]
# (entry, its leaderboard block, seed, run folder)
Job = tuple[str, dict[str, Any], int, Path]
# an entry whose single run took longer than this on the last board runs with one seed only:
# 400 s keeps a from-scratch board under 3 h on 2 cores (600 s did not; README, Results)
SINGLE_SEED_AFTER = 400.0
# one sentence under a data set's heading: what its rows can be compared with
INTRO = {
    "chicago": (
        "Validation is January–May 2019, the period of the references' numbers (003 and Géron's "
        "chapter 15); test is June 2019–November 2021, which holds the 2020 collapse of "
        "ridership, far outside the training years: a model fed absolute levels errs by "
        "100–250 k riders a day there, while the naive forecasters follow the level of their "
        "window. Compare rows and references on the validation column. Trained rows ran "
        "recipe/chicago (Adam, at most 100 epochs, early stopping after 20), not the "
        "references' SGD with momentum for up to 500 epochs (patience 50), which the CPU "
        "budget does not allow."
    ),
    "imdb": "Test accuracy on the 25,000 test reviews (balanced: the majority class scores 50 %).",
}
# the boards before commands carried their thread count all trained with one thread per run
OLD_COMMANDS = (
    "A command without threads= ran with one thread (OMP_NUM_THREADS=1, two runs at a time on "
    "2 cores): prefix it with OMP_NUM_THREADS=1 to reproduce its digits."
)
# the splits a data set's figure shows side by side (Chicago's test span is read next to its
# validation); the others show test
FIGURE_SPLITS = {"chicago": ["val", "test"]}
JENA_EXTRACT = (
    "The reference numbers are on the full 10-minute, 14-feature file; rows on the mirror's "
    "hourly 6-feature extract have a harder task (1/6 of the windows, 6 of the 14 features), and "
    "the naive forecaster, which needs only the temperature, matches its reference to the digit."
)
JENA_CANONICAL = (
    "Rows ran on the canonical 10-minute, 14-feature file (hourly steps), the references' file."
)


def entries(only: str | None) -> list[tuple[str, dict[str, Any]]]:
    """(name, leaderboard block with its ``data`` set) of every experiment, or of one data set.

    The block is the experiment file's own (an entry that extends another does not inherit its
    references); the data set is the one the composed experiment trains on: the module of its
    DataModule (``seqlab.data.chicago``), so that ``data=chicago_multistep`` counts as chicago.
    """
    found = []
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        for path in sorted(EXPERIMENTS.glob("*.yaml")):
            board = OmegaConf.to_container(OmegaConf.load(path)).get("leaderboard", {}) or {}
            if "data" not in board:
                cfg = compose("train", overrides=[f"experiment={path.stem}"])
                board["data"] = str(cfg.data._target_).rsplit(".", 2)[-2]
            board["reference"] = references(path.stem, board.get("reference"))
            if only is None or board["data"] == only:
                found.append((path.stem, board))
    GlobalHydra.instance().clear()
    return found


def references(name: str, block: Any) -> dict[str, dict[str, Any]]:
    """An entry's ``leaderboard.reference`` as ``{"test/mae": {"value": 2.53, "source": …}}``.

    A number without its source (the deck file and section, or the book or notebook it is
    from) is refused: a reader must be able to look every reference up.
    """
    found = {}
    for key, ref in (block or {}).items():
        value = ref.get("value") if isinstance(ref, dict) else None
        source = str(ref.get("source") or "").strip() if isinstance(ref, dict) else ""
        split = str(key).partition("/")[0]
        if split not in ("val", "test") or not isinstance(value, int | float) or not source:
            raise ConfigError(
                f"conf/experiment/{name}.yaml: leaderboard.reference.{key} needs a split, a value "
                f'and its source, e.g. test/mae: {{value: 2.53, source: "000 · Simple LSTM"}}'
            )
        found[str(key)] = {"value": float(value), "source": source}
    return found


def plan(
    found: list[tuple[str, dict[str, Any]]],
    seeds: int,
    run_long: bool,
    last_fit: dict[str, float] | None = None,
    single_seed_after: float = SINGLE_SEED_AFTER,
) -> tuple[list[Job], dict[str, dict[str, str]]]:
    """The runs to make (each entry with seeds 42, 43, …) and, per data set, the long entries
    left out with their reason (all run when ``run_long``).

    An entry whose run took ``single_seed_after`` seconds or more on the last board
    (``last_fit``, from `last_fit_times`) gets one seed, so that the spread of the short entries
    does not cost the long ones' hours; an entry the last board lacks gets every seed.
    """
    jobs: list[Job] = []
    long: dict[str, dict[str, str]] = {}
    for name, board in found:
        if board.get("long") and not run_long:
            long.setdefault(board["data"], {})[name] = board["long"]
            continue
        slow = (last_fit or {}).get(name, 0.0) >= single_seed_after
        for seed in range(42, 42 + (1 if slow else seeds)):
            jobs.append((name, board, seed, RUNS / name / f"seed{seed}"))
    return jobs, long


def last_fit_times(board_csv: Path) -> dict[str, float]:
    """Each entry's longest fit time (seconds) on the board in ``board_csv``, if there is one."""
    if not board_csv.exists():
        return {}
    last = pd.read_csv(board_csv)
    if "fit_s" not in last:
        return {}
    return last.groupby("entry")["fit_s"].max().dropna().to_dict()


def longest_first(jobs: list[tuple], board_csv: Path) -> list[int]:
    """Order in which to start ``jobs``: longest fit time on the last board first, so that with
    several workers the long entries do not start last and run alone at the end. Entries the
    last board lacks go first, as their length is unknown."""
    known = last_fit_times(board_csv)
    return sorted(range(len(jobs)), key=lambda i: -known.get(jobs[i][0], float("inf")))


def command(name: str, seeds: list[int], threads: int, prepare: str | None = None) -> str:
    """The command that reproduces a row: the entry at the thread count it ran with, for one seed,
    or several as one Hydra multirun. The thread count is in it because it moves the digits; a
    ``prepare`` command (word vectors) gets it through OMP_NUM_THREADS, as the board ran it."""
    if len(seeds) == 1:
        line = f"python train.py experiment={name} threads={threads} seed={seeds[0]}"
    else:
        listed = ",".join(str(seed) for seed in seeds)
        line = f"python train.py -m experiment={name} threads={threads} seed={listed}"
    return f"OMP_NUM_THREADS={threads} {prepare} && {line}" if prepare else line


def run(
    name: str, seed: int, run_dir: Path, mode: str, threads: int, prepare: str | None = None
) -> tuple[dict[str, Any] | None, str]:
    """Metrics of one entry and seed (None: not run or failed) and the command that reproduces
    them; ``mode`` is ``fresh``, ``reuse`` or ``collect``. ``prepare`` (the entry's
    ``leaderboard.prepare``) is a command that makes what the run starts from, such as
    pretrained word vectors; it runs first. The run is the printed command, plus where it writes
    (replacing what that folder held) and no progress bar; a finished run read back keeps the
    thread count it recorded."""
    done = (run_dir / "metrics.json").exists()
    if mode == "collect" and not done:
        return None, command(name, [seed], threads, prepare)
    if mode == "fresh" or not done:
        line = command(name, [seed], threads, prepare)
        args = [
            sys.executable,
            "train.py",
            f"experiment={name}",
            f"threads={threads}",
            f"seed={seed}",
            f"hydra.run.dir={run_dir}",
            "overwrite=true",  # the entry's own folder: a failed or earlier run is replaced
            "callbacks.rich_progress_bar=null",
        ]
        # the preparing command's threads; the training run's are its threads= option
        env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": str(threads)}
        (run_dir / "metrics.json").unlink(missing_ok=True)
        run_dir.mkdir(parents=True, exist_ok=True)
        print(f"[leaderboard] {line}", flush=True)
        started = time.perf_counter()
        with (run_dir / "train.log").open("w") as log:
            first = prepare.split() if prepare else []
            if first[:1] == ["python"]:
                first[0] = sys.executable  # the same interpreter as the training runs
            for step in [first, args] if first else [args]:
                code = subprocess.run(step, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                if code.returncode:
                    break
        took = time.perf_counter() - started
        if code.returncode:
            print(f"[leaderboard] FAILED {line} (see {run_dir / 'train.log'})", flush=True)
            return None, line
        print(f"[leaderboard] done {line} in {took / 60:.1f} min", flush=True)
    record = RunRecord.read(run_dir)
    ran_with = record.threads or threads  # runs made before threads= omit it
    return record, command(name, [seed], ran_with, prepare)


def data_file(record: RunRecord) -> str | None:
    """Which file and features a run read, where its data set has several forms (Jena: the
    canonical file or the mirror's hourly extract), from its metrics.json."""
    source = record.data_source or {}
    if "form" not in source:
        return None
    features = source.get("features") or []
    return f"{Path(str(source.get('file', ''))).name}: {source['form']}, {len(features)} features"


def rows(name: str, board: dict[str, Any], record: RunRecord, command: str) -> list[dict]:
    """leaderboard.csv's rows of one run: one per split and metric, with the entry's reference
    and its source."""
    reference = references(name, board.get("reference"))
    out = []
    for key, value in record.metrics().items():
        split, _, metric = key.partition("/")
        ref = reference.get(key, {})
        out.append(
            {
                "data": board["data"],
                "entry": name,
                "model": record.model,
                "split": split,
                "metric": metric,
                "value": value,
                "unit": record.unit,
                "reference": ref.get("value"),
                "reference_source": ref.get("source"),
                **record.costs(),
                "device": record.device,
                "seed": record.seed,
                "threads": record.threads,
                "data_file": data_file(record),
                "command": command,
            }
        )
    return out


def with_references(frame: pd.DataFrame, found: list[tuple[str, dict[str, Any]]]) -> pd.DataFrame:
    """``frame`` with every row's reference and source taken from today's experiment files, so
    that rows kept from an earlier board (``--only``) never show a corrected number's old value."""
    frame = frame.copy()
    for column in ("reference", "reference_source"):
        if column not in frame:
            frame[column] = None
    frame["reference_source"] = frame["reference_source"].astype(object)
    for name, board in found:
        mine = frame["entry"] == name
        frame.loc[mine, ["reference", "reference_source"]] = [None, None]
        for key, ref in references(name, board.get("reference")).items():
            split, _, metric = key.partition("/")
            at = mine & (frame["split"] == split) & (frame["metric"] == metric)
            frame.loc[at, "reference"] = ref["value"]
            frame.loc[at, "reference_source"] = ref["source"]
    return frame


def number(value: float) -> str:
    """Riders as 18,674; °C, accuracy and bits as 4 significant digits."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def fmt(values: pd.Series) -> str:
    """A cell: one value as `number` prints it, or mean ± std over seeds."""
    values = values.dropna()
    if values.empty:
        return ""
    if values.nunique() == 1:
        return number(values.iloc[0])
    mean, spread = statistics.mean(values), statistics.stdev(values)
    # the spread to the mean's last digit when the mean is counted in whole units (riders)
    return (
        f"{number(mean)} ± {spread:,.0f}" if abs(mean) >= 1000 else f"{number(mean)} ± {spread:.2g}"
    )


def row_command(runs: pd.DataFrame) -> str:
    """The command of a row of several seeds: theirs as one multirun (each csv row keeps its
    own single-seed command)."""
    first = runs.iloc[0]
    seeds = sorted({int(seed) for seed in runs["seed"].dropna()})
    if len(seeds) < 2:
        return str(first["command"])
    prepare, _, line = str(first["command"]).rpartition(" && ")
    threads = line.split(" threads=")[1].split()[0] if " threads=" in line else None
    if threads is None:  # a board made before commands carried their threads
        return str(first["command"])
    prepare = prepare.removeprefix(f"OMP_NUM_THREADS={threads} ")
    return command(str(first["entry"]), seeds, int(threads), prepare or None)


class Footnotes:
    """A table's reference sources, numbered in order of first use: ``2.53 [1]``."""

    def __init__(self) -> None:
        self.sources: list[str] = []

    def mark(self, source: Any) -> str:
        if not isinstance(source, str) or not source:
            return ""
        if source not in self.sources:
            self.sources.append(source)
        return f" [{self.sources.index(source) + 1}]"

    def lines(self) -> list[str]:
        return [f"[{i}] {source}  " for i, source in enumerate(self.sources, 1)]


def intro(data: str, part: pd.DataFrame) -> list[str]:
    """The sentence under a data set's heading (Jena's says which file its rows ran on)."""
    if data == "jena":
        files = set(part.get("data_file", pd.Series(dtype=object)).dropna())
        extract = [f for f in files if "canonical" not in f]
        return [JENA_EXTRACT if extract or not files else JENA_CANONICAL, ""]
    return [INTRO[data], ""] if data in INTRO else []


def main_metric(part: pd.DataFrame) -> str:
    """A table's column: the metric most entries report (Chicago's ``mae``, not the multi-step
    entries' ``mae_t+1``), among those the one with most references, then the first reported."""
    entries = part.groupby("metric", sort=False)["entry"].nunique()
    common = entries[entries == entries.max()].index
    referenced = part[part["metric"].isin(common)].groupby("metric", sort=False)["reference"]
    counts = referenced.count().reindex(common)
    return str(counts.idxmax())


def markdown(
    frame: pd.DataFrame,
    note: str = "",
    missing: dict[str, list[str]] | None = None,
    long: dict[str, dict[str, str]] | None = None,
    notes: dict[str, str] | None = None,
    figures: dict[str, list[tuple[str, str]]] | None = None,
) -> str:
    """One table per data set on its main metric, mean ± std over the seeds that ran; other
    metrics with a reference, the entry's ``leaderboard.notes`` (``notes``), the data file
    where a data set has several, and single-seed rows are said in the notes column. Reference
    sources are numbered footnotes under each table; a data set's figures (``figures``: caption
    and path relative to LEADERBOARD.md) follow them.

    leaderboard.csv keeps every metric (per-horizon, per-target) and every seed in long form.
    """
    lines = [
        "# Leaderboard",
        "",
        "Generated by `make leaderboard` (scripts/leaderboard.py) from each run's metrics.json;",
        "every row's command reproduces it, thread count included. Values are mean ± std over",
        "the seeds that ran (the seeds column); a difference smaller than the spread is no win.",
        "Reference numbers cite their source in the footnotes under each table;",
        "`leaderboard.csv` holds every metric and every seed in long form.",
        *([note] if note else []),
        "",
    ]
    frame = frame.copy()
    for column in ("reference_source", "data_file"):
        if column not in frame:
            frame[column] = None
    for data in sorted(set(frame["data"]) | set(missing or {}) | set(long or {})):
        part = frame[frame["data"] == data]
        if part.empty:
            lines += [f"## {data}", "", *unmeasured(data, missing, long), ""]
            continue
        metric = main_metric(part)
        head = [
            "entry",
            "model",
            f"ref val {metric}",
            f"val {metric}",
            f"ref test {metric}",
            f"test {metric}",
            "seeds",
            "notes",
            "params",
            "epochs",
            "train s",
            "samples/s",
            "device",
            "command",
        ]
        footnotes = Footnotes()
        table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for entry, runs in part.groupby("entry", sort=False):
            cells = [entry, str(runs["model"].iloc[0])]
            for split in ("val", "test"):
                sel = runs[(runs["split"] == split) & (runs["metric"] == metric)]
                ref = sel.dropna(subset=["reference"])
                cells += [
                    fmt(ref["reference"])
                    + (footnotes.mark(ref["reference_source"].iloc[0]) if len(ref) else ""),
                    fmt(sel["value"]),
                ]
            count = runs["seed"].nunique()
            cells.append(f"{count}" if count > 1 else "1 (single-seed)")
            extra = runs[(runs["metric"] != metric) & runs["reference"].notna()]
            remarks = []
            for r in extra.drop_duplicates(["split", "metric"]).itertuples():
                same = extra[(extra["split"] == r.split) & (extra["metric"] == r.metric)]
                remarks.append(
                    f"{r.split} {r.metric} {fmt(same['value'])} "
                    f"(ref {number(r.reference)}{footnotes.mark(r.reference_source)})"
                )
            files = sorted(set(runs["data_file"].dropna()))
            remarks += [f"data: {f}" for f in files]
            if (notes or {}).get(entry):
                remarks.append(str(notes[entry]))
            first = runs.iloc[0]
            cells += [
                "; ".join(remarks),
                str(first["params"]),
                fmt(runs["epochs"]),
                fmt(runs["train_s"]),
                fmt(runs["samples_per_s"]),
                str(first["device"]),
                f"`{row_command(runs)}`",
            ]
            table.append("| " + " | ".join(cells) + " |")
        lines += [f"## {data}", "", *intro(data, part), *table, ""]
        if footnotes.sources:
            lines += [*footnotes.lines(), ""]
        for caption, path in (figures or {}).get(data, []):
            lines += [f"![{caption}]({path})", ""]
        lines += [*unmeasured(data, missing, long), ""]
    return "\n".join(lines)


def render(board_csv: Path, everything: list[tuple[str, dict[str, Any]]], out: Path) -> dict:
    """LEADERBOARD.md and its figures again from leaderboard.csv, training nothing: the runs'
    numbers as they were measured, today's references, sources and notes."""
    if not board_csv.is_file():
        raise ConfigError(f"{board_csv} not found: --render re-tabulates an existing board")
    frame = publish_csv(pd.read_csv(board_csv), everything, board_csv)
    note = (
        "This file was re-tabulated from leaderboard.csv (`scripts/leaderboard.py --render`): "
        "every number is the one its run measured when the board was last trained; references, "
        "their sources and the notes are today's. " + OLD_COMMANDS
    )
    publish_board(frame, everything, out, note)
    return {}


def publish_csv(
    frame: pd.DataFrame, everything: list[tuple[str, dict[str, Any]]], board_csv: Path
) -> pd.DataFrame:
    """leaderboard.csv with today's references and sources (columns an older board lacks
    added empty); returns what it wrote."""
    for column in COLUMNS:
        if column not in frame:
            frame[column] = None
    frame = with_references(frame, everything)[COLUMNS]
    write_text_atomic(board_csv, frame.to_csv(index=False))
    return frame


def publish_board(
    frame: pd.DataFrame,
    everything: list[tuple[str, dict[str, Any]]],
    out: Path,
    note: str,
    missing: dict[str, list[str]] | None = None,
    long: dict[str, dict[str, str]] | None = None,
) -> None:
    """LEADERBOARD.md and its figures in ``out``, with each entry's ``leaderboard.notes``."""
    remarks = {name: board["notes"] for name, board in everything if board.get("notes")}
    figures = draw(frame, out)
    write_text_atomic(
        out / "LEADERBOARD.md", markdown(frame, note, missing, long, remarks, figures)
    )


def draw(frame: pd.DataFrame, out: Path) -> dict[str, list[tuple[str, str]]]:
    """``leaderboard/<data>.png`` for each data set (`seqlab.compare.figure`) and, where its run
    folder is here, the learning curves of its best entry (first seed) as
    ``leaderboard/<data>-curves.png``; returns each data set's (caption, path relative to
    ``out``, where LEADERBOARD.md is)."""
    folder = out / "leaderboard"
    folder.mkdir(parents=True, exist_ok=True)
    figures = {}
    for data, part in frame.groupby("data"):
        metric = main_metric(part)
        splits = FIGURE_SPLITS.get(str(data), ["test"])
        units = part.loc[part["metric"] == metric, "unit"].dropna()
        unit = str(units.iloc[0]) if metric.startswith("mae") and len(units) else ""
        plot_board(part, str(data), metric, splits, unit, folder / f"{data}.png")
        figures[str(data)] = [(f"{data}: {metric} per entry", f"leaderboard/{data}.png")]
        ranked = summary(part, splits[0], metric)
        learned = ranked[~ranked["baseline"]]
        if len(learned):
            best = str(learned.index[0])
            seed = int(part.loc[part["entry"] == best, "seed"].min())
            curves = RUNS / best / f"seed{seed}" / "curves.png"
            if curves.is_file():
                with atomic_path(folder / f"{data}-curves.png") as tmp:
                    shutil.copyfile(curves, tmp)
                caption = f"{best} (seed {seed}): learning curves"
                figures[str(data)].append((caption, f"leaderboard/{data}-curves.png"))
    return figures


def unmeasured(
    data: str, missing: dict[str, list[str]] | None, long: dict[str, dict[str, str]] | None
) -> list[str]:
    """Lines naming a data set's entries without a result: not run (or failed), or too long."""
    lines = []
    if (missing or {}).get(data):
        lines.append(
            "Not measured in this build: "
            + ", ".join(f"`python train.py experiment={name}`" for name in missing[data])
        )
    for name, why in (long or {}).get(data, {}).items():
        lines.append(
            f"Longer than the CPU budget, not run by `make leaderboard`: "
            f"`python train.py experiment={name}` ({why})"
        )
    spaced = []
    for line in lines:
        spaced += [line, ""]
    return spaced[:-1]


def build(
    only: str | None = None,
    seeds: int = 3,
    jobs: int = 1,
    run_long: bool = False,
    mode: str = "fresh",
    out: Path = ROOT,
    names: list[str] | None = None,
    single_seed_after: float = SINGLE_SEED_AFTER,
) -> dict[str, list[str]]:
    """Run (``mode`` ``fresh``, ``reuse`` or ``collect``: see `run`) every entry (of data set
    ``only``, or the ``names`` given), ``jobs`` at a time with ``cpus / jobs`` threads each,
    longest first, ``seeds`` seeds each unless its last run took ``single_seed_after`` seconds or
    more, and write LEADERBOARD.md and leaderboard.csv to ``out`` (rows of entries not run this
    time are kept from the csv there). Returns the entries without a result, per data set."""
    threads = max(1, (os.cpu_count() or 1) // jobs)
    everything = entries(None)
    found = [
        (name, board)
        for name, board in everything
        if (only is None or board["data"] == only) and (not names or name in names)
    ]
    if names and (unknown := sorted(set(names) - {name for name, _ in found})):
        raise ConfigError(
            f"no leaderboard entry {unknown} (of data set {only})"
            if only
            else f"no leaderboard entry {unknown}: entries are conf/experiment/*.yaml"
        )
    board_csv = out / "leaderboard.csv"
    if mode == "render":
        return render(board_csv, everything, out)
    planned, long = plan(found, seeds, run_long, last_fit_times(board_csv), single_seed_after)
    started = time.perf_counter()
    reused = [j[0] for j in planned if mode != "fresh" and (j[3] / "metrics.json").exists()]
    order = longest_first(planned, board_csv)

    def run_job(i: int) -> tuple[dict[str, Any] | None, str]:
        name, board, seed, run_dir = planned[i]
        return run(name, seed, run_dir, mode, threads, board.get("prepare"))

    with ThreadPoolExecutor(jobs) as pool:
        finished = dict(zip(order, pool.map(run_job, order), strict=True))
    results = [finished[i] for i in range(len(planned))]
    minutes = (time.perf_counter() - started) / 60
    table: list[dict] = []
    missing: dict[str, list[str]] = {}
    for (name, board, _, _), (record, line) in zip(planned, results, strict=True):
        if record is None:
            missing.setdefault(board["data"], [])
            if name not in missing[board["data"]]:
                missing[board["data"]].append(name)
        else:
            table += rows(name, board, record, line)
    frame = pd.DataFrame(table, columns=COLUMNS)
    kept = pd.DataFrame(columns=COLUMNS)
    if (only or names) and board_csv.exists():  # keep the rows of entries not run this time
        old = pd.read_csv(board_csv)
        kept = old[~old["entry"].isin([name for name, _ in found])]
        frame = pd.concat([kept, frame], ignore_index=True)
    frame = publish_csv(frame, everything, board_csv)
    per_run = frame.drop_duplicates(["entry", "seed"])["fit_s"].sum() / 60
    if mode == "fresh":
        note = (
            f"This build trained every listed entry from scratch in {minutes:.0f} min of wall "
            f"time, {jobs} at a time with {threads} thread(s) each "
            f"(`scripts/leaderboard.py --jobs {jobs} --seeds {seeds}`)."
        )
        if len(kept):
            note = note.replace("every listed entry", f"{len(found)} entries", 1)
    else:
        trained = sorted(
            {j[0] for j in planned} - set(reused) - {n for v in missing.values() for n in v}
        )
        note = f"This build tabulated {len(reused)} finished runs (`--reuse`/`--collect`)"
        if trained:
            note += f" and trained {', '.join(trained)} in {minutes:.0f} min of wall time"
        note += "; each run's timings were measured when it ran, possibly beside other jobs."
    if len(kept):
        note += f" The rows of the {kept['entry'].nunique()} other entries are kept from the "
        note += "previous leaderboard.csv, as their runs measured them."
        if not kept["command"].astype(str).str.contains(" threads=").all():
            note += f" {OLD_COMMANDS}"
    note += (
        f" The runs' fit times (training with validation, from each metrics.json) add up to "
        f"{per_run:.0f} min."
    )
    publish_board(frame, everything, out, note, missing, long)
    print(f"[leaderboard] {len(frame)} rows → LEADERBOARD.md, leaderboard.csv ({minutes:.1f} min)")
    return missing
