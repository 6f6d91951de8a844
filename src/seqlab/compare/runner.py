"""Building the leaderboard: every entry trained with its seeds (or its finished runs read back),
several at a time, longest first; then the pages written (`seqlab.compare.board`).

Entries whose ``leaderboard.long`` says why they need more than the CPU budget are listed, not
run, unless asked; an entry's ``leaderboard.prepare`` command (pretrained word vectors) runs
before it. Every entry runs with several seeds unless its single run took longer than
``SINGLE_SEED_AFTER`` on the last board; each command carries the thread count it ran with.
Each run is its printed command in a new process, forked from one that imported the training code
once (`trained`), so the board does not pay ~3 s of imports 120 times.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import runpy
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from seqlab.compare.board import COLUMNS, OLD_COMMANDS, publish_board, publish_csv, render
from seqlab.compare.entries import RUNS, command, entries, references, sheet
from seqlab.errors import ConfigError
from seqlab.run.compose import ROOT
from seqlab.run.record import RunRecord

# (entry, its leaderboard block, seed, run folder)
Job = tuple[str, dict[str, Any], int, Path]
# what train.py imports (torch, Lightning, Hydra with them), imported once by the process the runs
# are forked from
PRELOAD = ["seqlab.cli.train", "seqlab.cli.common"]
# an entry whose single run took longer than this on the last board runs with one seed only:
# 400 s keeps a from-scratch board under 3 h on 2 cores (600 s did not; README, Results)
SINGLE_SEED_AFTER = 400.0


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
    does not cost the long ones' hours; an entry the last board lacks gets every seed. An entry
    that states its ``seeds`` gets that many, whatever it took (a row a claim rests on keeps its
    spread; a row that costs a section's budget keeps one).
    """
    jobs: list[Job] = []
    long: dict[str, dict[str, str]] = {}
    for name, board in found:
        if board.get("long") and not run_long:
            long.setdefault(board["data"], {})[name] = board["long"]
            continue
        slow = (last_fit or {}).get(name, 0.0) >= single_seed_after
        for seed in range(42, 42 + board.get("seeds", 1 if slow else seeds)):
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
    last board lacks go first, as their length is unknown, and so do entries with a ``prepare``
    command, whose time the board does not record."""
    known = last_fit_times(board_csv)

    def length(i: int) -> float:
        name, board = jobs[i][0], jobs[i][1]
        return float("inf") if board.get("prepare") else known.get(name, float("inf"))

    return sorted(range(len(jobs)), key=lambda i: -length(i))


def prepare_ran(prepare: str, log: Path, env: dict[str, str]) -> bool:
    """Run an entry's ``leaderboard.prepare`` command (its output appended to ``log``);
    whether it succeeded."""
    step = prepare.split()
    if step[:1] == ["python"]:
        step[0] = sys.executable  # the same interpreter as the training runs
    with log.open("a") as out:
        code = subprocess.run(
            step, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    return code.returncode == 0


def trained(overrides: list[str], log: Path, env: dict[str, str]) -> bool:
    """``python train.py OVERRIDES`` (output appended to ``log``, ``env`` set) in a process forked
    from one that has imported the training code already; whether it succeeded.

    The run is the one the command would make (a new process, its own seed and threads, the same
    digits), less the ~3.3 s of imports every command spends: over the board's 120 runs, ~9 min
    of one core (README, Results). The forking process (multiprocessing's forkserver) starts
    once, with ``PRELOAD`` imported and nothing computed.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    child = context.Process(target=train_here, args=(overrides, log, env))
    child.start()
    child.join()
    return child.exitcode == 0


def train_here(overrides: list[str], log: Path, env: dict[str, str]) -> None:
    """``python train.py OVERRIDES`` in this process, its output to ``log``: the body of
    `trained`'s forked process."""
    os.environ.update(env)
    os.chdir(ROOT)
    sys.stdout.flush()
    sys.stderr.flush()
    with log.open("a") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    sys.argv = [str(ROOT / "train.py"), *overrides]
    try:
        runpy.run_path(str(ROOT / "train.py"), run_name="__main__")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        atexit._run_exitfuncs()  # a forked process ends with os._exit, which skips them


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
        overrides = [
            f"experiment={name}",
            f"threads={threads}",
            f"seed={seed}",
            f"hydra.run.dir={run_dir}",
            "overwrite=true",  # the entry's own folder: a failed or earlier run is replaced
            "callbacks.progress=null",
        ]
        # the preparing command's threads; the training run's are its threads= option
        env = {"WANDB_MODE": "disabled", "OMP_NUM_THREADS": str(threads)}
        (run_dir / "metrics.json").unlink(missing_ok=True)
        run_dir.mkdir(parents=True, exist_ok=True)
        print(f"[leaderboard] {line}", flush=True)
        started = time.perf_counter()
        log = run_dir / "train.log"
        log.write_text("")
        done = prepare_ran(prepare, log, env) if prepare else True
        done = done and trained(overrides, log, env)
        took = time.perf_counter() - started
        if not done:
            print(f"[leaderboard] FAILED {line} (see {log})", flush=True)
            return None, line
        print(f"[leaderboard] done {line} in {took / 60:.1f} min", flush=True)
    record = RunRecord.read(run_dir)
    ran_with = record.threads or threads  # runs made before threads= omit it
    return record, command(name, [seed], ran_with, prepare)


def machine(record: RunRecord) -> str:
    """The CPU a run trained on and the kernels torch chose for it: ``Intel Xeon (AVX512)``."""
    return f"{record.cpu} ({record.cpu_capability})" if record.cpu_capability else str(record.cpu)


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
                "precision": record.precision,
                "cpu": record.cpu,
                "seed": record.seed,
                "threads": record.threads,
                "data_file": data_file(record),
                "command": command,
            }
        )
    return out


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
    data_sets = {board["data"] for _, board in everything}
    own_build = {data for data in data_sets if sheet(data).get("own_build")}  # read once
    found = [
        (name, board)
        for name, board in everything
        if (board["data"] == only if only else names or board["data"] not in own_build)
        and (not names or name in names)
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
    # keep the rows of entries not run this time: other data sets' and entries' (a full build
    # leaves out the data sets built on their own, such as Weather), and long ones'
    not_run = {name for per_data in long.values() for name in per_data}
    not_run |= {name for name, _ in everything} - {name for name, _ in found}
    if not_run and board_csv.exists():
        old = pd.read_csv(board_csv)
        ran = {name for name, _ in found} - not_run
        kept = old[~old["entry"].isin(ran) if only or names else old["entry"].isin(not_run)]
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
            note = note.replace("every listed entry", f"{len({j[0] for j in planned})} entries", 1)
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
    if machines := sorted({machine(record) for record, _ in results if record and record.cpu}):
        note += f" Trained on: {'; '.join(machines)}."
    publish_board(frame, everything, out, note, missing, long)
    print(f"[leaderboard] {len(frame)} rows → LEADERBOARD.md, leaderboard.csv ({minutes:.1f} min)")
    return missing
