"""``scripts/leaderboard.py --check ENTRY``: rerun an entry's board rows as each prints its command,
and say row by row whether the new numbers agree to the digit, inside the entry's spread, or not.

Digits are exact only on the same kind of CPU with the same thread count (kernels round
differently across instruction sets); elsewhere a reproduction is one inside the spread of the
entry's seeds. The reruns write to ``logs/leaderboard-check/<entry>/seed<n>/``, never to the
board's own run folders.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pandas as pd

from seqlab.compare.entries import entries
from seqlab.compare.runner import run
from seqlab.errors import ConfigError
from seqlab.run.compose import ROOT

CHECKS = ROOT / "logs" / "leaderboard-check"
SAME, INSIDE, OUTSIDE = "same digits", "inside the spread", "outside the spread"


def verdict(new: float, printed: float, seeds: list[float]) -> str:
    """``same digits`` (equal as stored), ``inside the spread`` (within two standard deviations
    of the entry's seeds from the printed row), else ``outside the spread``."""
    if new == printed:
        return SAME
    spread = statistics.stdev(seeds) if len(seeds) > 1 else 0.0
    return INSIDE if abs(new - printed) <= 2 * spread else OUTSIDE


def check(name: str, board_csv: Path, out: Path = CHECKS) -> pd.DataFrame:
    """Rerun every seed of entry ``name`` that ``board_csv`` holds; one row per split and metric
    and seed: the printed value, the new one and the verdict."""
    boards = dict(entries(None))
    if name not in boards:
        raise ConfigError(f"no leaderboard entry {name!r}: entries are conf/experiment/*.yaml")
    frame = pd.read_csv(board_csv)
    mine = frame[frame["entry"] == name]
    if mine.empty:
        raise ConfigError(f"{board_csv} holds no row of {name}: run it first (--entry {name})")
    results = []
    for seed, printed in mine.groupby("seed"):
        threads = (
            int(printed["threads"].dropna().iloc[0]) if printed["threads"].notna().any() else 1
        )
        record, line = run(
            name,
            int(seed),
            out / name / f"seed{int(seed)}",
            "fresh",
            threads,
            boards[name].get("prepare"),
        )
        new = record.metrics() if record is not None else {}
        for row in printed.itertuples():
            key = f"{row.split}/{row.metric}"
            seeds = mine[(mine["split"] == row.split) & (mine["metric"] == row.metric)]["value"]
            value = new.get(key)
            results.append(
                {
                    "seed": int(seed),
                    "metric": key,
                    "printed": row.value,
                    "now": value,
                    "verdict": "failed"
                    if value is None
                    else verdict(value, row.value, list(seeds)),
                    "command": line,
                }
            )
    return pd.DataFrame(results)


def report(name: str, table: pd.DataFrame) -> bool:
    """Print the comparison; True when every row agrees to the digit or inside the spread."""
    print(f"[check] {name}: the rows of leaderboard.csv rerun as printed")
    print(table.drop(columns="command").to_string(index=False))
    counts = table["verdict"].value_counts()
    print("[check] " + ", ".join(f"{n} {v}" for v, n in counts.items()))
    return set(counts.index) <= {SAME, INSIDE}
