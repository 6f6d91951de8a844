"""Rebuild LEADERBOARD.md and leaderboard.csv by running every conf/experiment/ entry.

    python scripts/leaderboard.py [--only jena] [--seeds 3] [--jobs 2] [--reuse | --collect]

Each entry is trained from scratch (``--reuse`` keeps runs that already finished; ``--collect``
trains nothing and lists entries without a finished run as not measured), its ``metrics.json``
read back, and both files written atomically. Nothing in them is typed by hand:
the reference numbers come from each experiment's ``leaderboard.reference`` block.

``--jobs N`` trains N entries at once, each with ``cpus / N`` threads: on a small CPU several
single-threaded runs get more done than one run with every thread. Each run's output goes to
``train.log`` in its folder. Entries whose ``leaderboard.long`` says why they need more than the
CPU budget are listed, not run, unless ``--long`` is given.
"""

from __future__ import annotations

import argparse
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
from omegaconf import OmegaConf

from seqlab.outputs import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "conf" / "experiment"
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


def entries(only: str | None) -> list[tuple[str, dict[str, Any]]]:
    """(name, leaderboard block) of every experiment, optionally of one data set."""
    found = []
    for path in sorted(EXPERIMENTS.glob("*.yaml")):
        board = OmegaConf.to_container(OmegaConf.load(path)).get("leaderboard", {}) or {}
        data = board.get("data", path.stem.split("_")[0])
        if only is None or data == only:
            found.append((path.stem, {"data": data, **board}))
    return found


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
    reference = board.get("reference", {}) or {}
    out = []
    for split in ("val", "test"):
        for metric, value in metrics.get(split, {}).items():
            if metric == "loss":
                continue
            out.append(
                {
                    "data": board["data"],
                    "entry": name,
                    "model": metrics.get("model"),
                    "split": split,
                    "metric": metric,
                    "value": value,
                    "reference": reference.get(f"{split}/{metric}"),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="one data set (jena, chicago, imdb, verne, chorales)")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, help="entries trained at once")
    parser.add_argument("--long", action="store_true", help="also run the long entries")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--reuse", action="store_true", help="keep runs that already finished")
    mode.add_argument(
        "--collect", action="store_true", help="train nothing; tabulate finished runs"
    )
    parser.add_argument("--out", type=Path, default=ROOT)
    args = parser.parse_args()
    mode = "collect" if args.collect else "reuse" if args.reuse else "fresh"
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    jobs, long = [], {}
    for name, board in entries(args.only):
        if board.get("long") and not args.long:
            long.setdefault(board["data"], {})[name] = board["long"]
            continue
        for seed in range(42, 42 + args.seeds):
            jobs.append((name, board, seed, ROOT / "logs" / "leaderboard" / name / f"seed{seed}"))
    started = time.perf_counter()
    reused = [j[0] for j in jobs if mode != "fresh" and (j[3] / "metrics.json").exists()]
    order = longest_first(jobs, args.out / "leaderboard.csv")

    def run_job(i: int) -> tuple[dict[str, Any] | None, str]:
        name, board, seed, run_dir = jobs[i]
        return run(name, seed, run_dir, mode, threads, board.get("prepare"))

    with ThreadPoolExecutor(args.jobs) as pool:
        finished = dict(zip(order, pool.map(run_job, order), strict=True))
    results = [finished[i] for i in range(len(jobs))]
    minutes = (time.perf_counter() - started) / 60
    table: list[dict] = []
    missing: dict[str, list[str]] = {}
    for (name, board, _, _), (metrics, command) in zip(jobs, results, strict=True):
        if metrics is None:
            missing.setdefault(board["data"], []).append(name)
        else:
            table += rows(name, board, metrics, command)
    frame = pd.DataFrame(table, columns=COLUMNS)
    if args.only and (args.out / "leaderboard.csv").exists():  # keep the other data sets' rows
        old = pd.read_csv(args.out / "leaderboard.csv")
        frame = pd.concat([old[old["data"] != args.only], frame], ignore_index=True)
    write_text_atomic(args.out / "leaderboard.csv", frame.to_csv(index=False))
    per_run = frame.drop_duplicates(["entry", "seed"])["fit_s"].sum() / 60
    if mode == "fresh":
        note = (
            f"This build trained every listed entry from scratch in {minutes:.0f} min of wall "
            f"time, {args.jobs} at a time with {threads} thread(s) each "
            f"(`scripts/leaderboard.py --jobs {args.jobs}`)."
        )
    else:
        trained = sorted(
            {j[0] for j in jobs} - set(reused) - {n for v in missing.values() for n in v}
        )
        note = f"This build tabulated {len(reused)} finished runs (`--reuse`/`--collect`)"
        if trained:
            note += f" and trained {', '.join(trained)} in {minutes:.0f} min of wall time"
        note += "; each run's timings were measured when it ran, possibly beside other jobs."
    note += (
        f" The runs' fit times (training with validation, from each metrics.json) add up to "
        f"{per_run:.0f} min."
    )
    write_text_atomic(args.out / "LEADERBOARD.md", markdown(frame, note, missing, long))
    print(f"[leaderboard] {len(frame)} rows → LEADERBOARD.md, leaderboard.csv ({minutes:.1f} min)")
    if missing and mode != "collect":
        sys.exit(f"[leaderboard] failed: {sorted(n for names in missing.values() for n in names)}")


if __name__ == "__main__":
    main()
