"""The leaderboard's pages: leaderboard.csv in long form, LEADERBOARD.md (one table per data set,
mean ± std over seeds, cited references as footnotes) and its figures."""

from __future__ import annotations

import re
import shutil
import statistics
from pathlib import Path
from typing import Any

import pandas as pd

from seqlab.compare.entries import RUNS, command, sheet, with_references
from seqlab.compare.figure import plot_board, summary
from seqlab.errors import ConfigError
from seqlab.files import atomic_path, write_text_atomic

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
    "precision",
    "cpu",
    "seed",
    "threads",
    "data_file",
    "command",
]
# the boards before commands carried their thread count all trained with one thread per run
OLD_COMMANDS = (
    "A command without threads= ran with one thread (OMP_NUM_THREADS=1, two runs at a time on "
    "2 cores): prefix it with OMP_NUM_THREADS=1 to reproduce its digits."
)


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


def natural(name: str) -> list[Any]:
    """Sort key reading the numbers in a name as numbers: ``weather_dlinear_96`` before
    ``weather_dlinear_192``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def device_cell(row: pd.Series) -> str:
    """The device, and the precision where it is not fp32: ``cpu (2 cores), bf16-mixed``."""
    precision = row.get("precision")
    fp32 = pd.isna(precision) or str(precision) in ("32-true", "32")
    return str(row["device"]) + ("" if fp32 else f", {precision}")


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
    """The sentence under a data set's heading, from its sheet: one sentence, or one per data
    file form (Jena's canonical file or hourly extract), picked by the files its rows ran on."""
    said = sheet(data).get("intro")
    if isinstance(said, dict):
        files = " ".join(part.get("data_file", pd.Series(dtype=object)).dropna().astype(str))
        said = next((text for form, text in said.items() if form in files), None) or next(
            iter(said.values()), None
        )
    return [str(said), ""] if said else []


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
        "every row's command reproduces it: every digit on the kind of CPU it was trained on",
        "with the same thread count (printed), elsewhere a result inside the entry's spread",
        "(`scripts/leaderboard.py --check ENTRY` says which). Values are mean ± std over",
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
        grouped = dict(tuple(part.groupby("entry", sort=False)))
        for entry in sorted(grouped, key=natural):
            runs = grouped[entry]
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
                device_cell(first),
                f"`{row_command(runs)}`",
            ]
            table.append("| " + " | ".join(cells) + " |")
        lines += [f"## {data}", "", *intro(data, part), *table, ""]
        if footnotes.sources:
            lines += [*footnotes.lines(), ""]
        for caption, path in (figures or {}).get(data, []):
            lines += [f"![{caption}]({path})", ""]
        lines += [*unmeasured(data, missing, long, set(grouped)), ""]
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
        splits = sheet(str(data)).get("figure_splits") or ["test"]
        units = part.loc[part["metric"] == metric, "unit"].dropna()
        unit = str(units.iloc[0]) if metric.startswith("mae") and len(units) else ""
        groups = sheet(str(data)).get("figure_panels")
        plot_board(part, str(data), metric, splits, unit, folder / f"{data}.png", groups)
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
    data: str,
    missing: dict[str, list[str]] | None,
    long: dict[str, dict[str, str]] | None,
    shown: set[str] | None = None,
) -> list[str]:
    """Lines naming a data set's entries not run in this build: not run (or failed), or too long
    (``shown``: the entries whose rows, from an earlier build, are in the table)."""
    lines = []
    if (missing or {}).get(data):
        lines.append(
            "Not measured in this build: "
            + ", ".join(f"`python train.py experiment={name}`" for name in missing[data])
        )
    for name, why in (long or {}).get(data, {}).items():
        kept = " Its row above is kept from an earlier build." if name in (shown or ()) else ""
        lines.append(
            f"Longer than the CPU budget, not run by `make leaderboard` (`--long` runs it): "
            f"`python train.py experiment={name}` ({why}).{kept}"
        )
    spaced = []
    for line in lines:
        spaced += [line, ""]
    return spaced[:-1]
