"""The leaderboard: every ``conf/experiment/`` entry trained (or its finished run read back),
then LEADERBOARD.md and leaderboard.csv written from the runs' metrics.json.

Nothing in them is typed by hand: the reference numbers come from each experiment's own
``leaderboard.reference`` block, the data set from its composed configuration. Entries whose
``leaderboard.long`` says why they need more than the CPU budget are listed, not run, unless
asked; an entry's ``leaderboard.prepare`` command (pretrained word vectors) runs before it.
"""

from __future__ import annotations

import json
import os
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

from seqlab.cli.common import CONFIG_DIR, ROOT
from seqlab.outputs import flat_metrics, write_text_atomic

EXPERIMENTS = CONFIG_DIR / "experiment"
RUNS = ROOT / "logs" / "leaderboard"  # one folder per entry and seed
COLUMNS = [
    "data",
    "entry",
    "model",
    "split",
    "metric",
    "value",
    "reference",
    "params",
    "epochs",
    "train_s",
    "fit_s",
    "samples_per_s",
    "device",
    "seed",
    "command",
]
# (entry, its leaderboard block, seed, run folder)
Job = tuple[str, dict[str, Any], int, Path]


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
            if only is None or board["data"] == only:
                found.append((path.stem, board))
    GlobalHydra.instance().clear()
    return found


def plan(
    found: list[tuple[str, dict[str, Any]]], seeds: int, run_long: bool
) -> tuple[list[Job], dict[str, dict[str, str]]]:
    """The runs to make (each entry with seeds 42, 43, …) and, per data set, the long entries
    left out with their reason (all run when ``run_long``)."""
    jobs: list[Job] = []
    long: dict[str, dict[str, str]] = {}
    for name, board in found:
        if board.get("long") and not run_long:
            long.setdefault(board["data"], {})[name] = board["long"]
            continue
        for seed in range(42, 42 + seeds):
            jobs.append((name, board, seed, RUNS / name / f"seed{seed}"))
    return jobs, long


def longest_first(jobs: list[tuple], board_csv: Path) -> list[int]:
    """Order in which to start ``jobs``: longest fit time on the last board first, so that with
    several workers the long entries do not start last and run alone at the end. Entries the
    last board lacks go first, as their length is unknown."""
    known: dict[str, float] = {}
    if board_csv.exists():
        last = pd.read_csv(board_csv)
        if "fit_s" in last:
            known = last.groupby("entry")["fit_s"].max().dropna().to_dict()
    return sorted(range(len(jobs)), key=lambda i: -known.get(jobs[i][0], float("inf")))


def run(
    name: str, seed: int, run_dir: Path, mode: str, threads: int, prepare: str | None = None
) -> tuple[dict[str, Any] | None, str]:
    """Metrics of one entry and seed (None: not run or failed); ``mode`` is ``fresh``, ``reuse``
    or ``collect``. ``prepare`` (the entry's ``leaderboard.prepare``) is a command that makes
    what the run starts from, such as pretrained word vectors; it runs first."""
    command = f"python train.py experiment={name} seed={seed}"
    if prepare:
        command = f"{prepare} && {command}"
    done = (run_dir / "metrics.json").exists()
    if mode == "collect" and not done:
        return None, command
    if mode == "fresh" or not done:
        args = [
            sys.executable,
            "train.py",
            f"experiment={name}",
            f"seed={seed}",
            f"hydra.run.dir={run_dir}",
            "callbacks.rich_progress_bar=null",
        ]
        env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": str(threads)}
        (run_dir / "metrics.json").unlink(missing_ok=True)
        run_dir.mkdir(parents=True, exist_ok=True)
        print(f"[leaderboard] {command}", flush=True)
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
            print(f"[leaderboard] FAILED {command} (see {run_dir / 'train.log'})", flush=True)
            return None, command
        print(f"[leaderboard] done {command} in {took / 60:.1f} min", flush=True)
    return json.loads((run_dir / "metrics.json").read_text()), command


def rows(name: str, board: dict[str, Any], metrics: dict[str, Any], command: str) -> list[dict]:
    """leaderboard.csv's rows of one run: one per split and metric, with the entry's reference."""
    reference = board.get("reference", {}) or {}
    out = []
    for key, value in flat_metrics(metrics).items():
        split, _, metric = key.partition("/")
        out.append(
            {
                "data": board["data"],
                "entry": name,
                "model": metrics.get("model"),
                "split": split,
                "metric": metric,
                "value": value,
                "reference": reference.get(key),
                "params": metrics.get("params"),
                "epochs": metrics.get("epochs"),
                "train_s": metrics.get("train_seconds"),
                "fit_s": metrics.get("fit_seconds"),
                "samples_per_s": metrics.get("samples_per_s"),
                "device": metrics.get("device"),
                "seed": metrics.get("seed"),
                "command": command,
            }
        )
    return out


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
    spread = statistics.stdev(values)
    return (
        f"{number(statistics.mean(values))} ± {spread:,.0f}"
        if spread >= 1000
        else (f"{number(statistics.mean(values))} ± {spread:.2g}")
    )


def markdown(
    frame: pd.DataFrame,
    note: str = "",
    missing: dict[str, list[str]] | None = None,
    long: dict[str, dict[str, str]] | None = None,
) -> str:
    """One table per data set on its main metric; other metrics with a reference go in notes.

    leaderboard.csv keeps every metric (per-horizon, per-target) in long form.
    """
    lines = [
        "# Leaderboard",
        "",
        "Generated by `make leaderboard` (scripts/leaderboard.py) from each run's metrics.json;",
        "every row's command reproduces it. Values are mean ± std over seeds where several ran;",
        "`leaderboard.csv` holds every metric in long form.",
        *([note] if note else []),
        "",
    ]
    for data in sorted(set(frame["data"]) | set(missing or {}) | set(long or {})):
        part = frame[frame["data"] == data]
        if part.empty:
            lines += [f"## {data}", "", *unmeasured(data, missing, long), ""]
            continue
        referenced = part.loc[part["reference"].notna(), "metric"]
        metric = (referenced if len(referenced) else part["metric"]).value_counts().idxmax()
        head = [
            "entry",
            "model",
            f"ref val {metric}",
            f"val {metric}",
            f"ref test {metric}",
            f"test {metric}",
            "notes",
            "params",
            "epochs",
            "train s",
            "samples/s",
            "device",
            "command",
        ]
        lines += [f"## {data}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for entry, runs in part.groupby("entry", sort=False):
            cells = [entry, str(runs["model"].iloc[0])]
            for split in ("val", "test"):
                sel = runs[(runs["split"] == split) & (runs["metric"] == metric)]
                cells += [fmt(sel["reference"]), fmt(sel["value"])]
            extra = runs[(runs["metric"] != metric) & runs["reference"].notna()]
            notes = []
            for r in extra.drop_duplicates(["split", "metric"]).itertuples():
                same = extra[(extra["split"] == r.split) & (extra["metric"] == r.metric)]
                notes.append(
                    f"{r.split} {r.metric} {fmt(same['value'])} (ref {number(r.reference)})"
                )
            first = runs.iloc[0]
            cells += [
                "; ".join(notes),
                str(first["params"]),
                fmt(runs["epochs"]),
                fmt(runs["train_s"]),
                fmt(runs["samples_per_s"]),
                str(first["device"]),
                f"`{first['command']}`",
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", *unmeasured(data, missing, long), ""]
    return "\n".join(lines)


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
    seeds: int = 1,
    jobs: int = 1,
    run_long: bool = False,
    mode: str = "fresh",
    out: Path = ROOT,
) -> dict[str, list[str]]:
    """Run (``mode`` ``fresh``, ``reuse`` or ``collect``: see `run`) every entry, ``jobs`` at a
    time with ``cpus / jobs`` threads each, longest first, and write LEADERBOARD.md and
    leaderboard.csv to ``out``. Returns the entries without a result, per data set."""
    threads = max(1, (os.cpu_count() or 1) // jobs)
    planned, long = plan(entries(only), seeds, run_long)
    started = time.perf_counter()
    reused = [j[0] for j in planned if mode != "fresh" and (j[3] / "metrics.json").exists()]
    order = longest_first(planned, out / "leaderboard.csv")

    def run_job(i: int) -> tuple[dict[str, Any] | None, str]:
        name, board, seed, run_dir = planned[i]
        return run(name, seed, run_dir, mode, threads, board.get("prepare"))

    with ThreadPoolExecutor(jobs) as pool:
        finished = dict(zip(order, pool.map(run_job, order), strict=True))
    results = [finished[i] for i in range(len(planned))]
    minutes = (time.perf_counter() - started) / 60
    table: list[dict] = []
    missing: dict[str, list[str]] = {}
    for (name, board, _, _), (metrics, command) in zip(planned, results, strict=True):
        if metrics is None:
            missing.setdefault(board["data"], []).append(name)
        else:
            table += rows(name, board, metrics, command)
    frame = pd.DataFrame(table, columns=COLUMNS)
    if only and (out / "leaderboard.csv").exists():  # keep the other data sets' rows
        old = pd.read_csv(out / "leaderboard.csv")
        frame = pd.concat([old[old["data"] != only], frame], ignore_index=True)
    write_text_atomic(out / "leaderboard.csv", frame.to_csv(index=False))
    per_run = frame.drop_duplicates(["entry", "seed"])["fit_s"].sum() / 60
    if mode == "fresh":
        note = (
            f"This build trained every listed entry from scratch in {minutes:.0f} min of wall "
            f"time, {jobs} at a time with {threads} thread(s) each "
            f"(`scripts/leaderboard.py --jobs {jobs}`)."
        )
    else:
        trained = sorted(
            {j[0] for j in planned} - set(reused) - {n for v in missing.values() for n in v}
        )
        note = f"This build tabulated {len(reused)} finished runs (`--reuse`/`--collect`)"
        if trained:
            note += f" and trained {', '.join(trained)} in {minutes:.0f} min of wall time"
        note += "; each run's timings were measured when it ran, possibly beside other jobs."
    note += (
        f" The runs' fit times (training with validation, from each metrics.json) add up to "
        f"{per_run:.0f} min."
    )
    write_text_atomic(out / "LEADERBOARD.md", markdown(frame, note, missing, long))
    print(f"[leaderboard] {len(frame)} rows → LEADERBOARD.md, leaderboard.csv ({minutes:.1f} min)")
    return missing
