"""Rebuild LEADERBOARD.md and leaderboard.csv by running every conf/experiment/ entry.

    python scripts/leaderboard.py [--only jena] [--seeds 3] [--jobs 2] [--reuse | --collect]

Each entry is trained from scratch (``--reuse`` keeps runs that already finished; ``--collect``
trains nothing and lists entries without a finished run as not measured), its ``metrics.json``
read back, and both files written atomically (`seqlab.leaderboard`).

``--jobs N`` trains N entries at once, each with ``cpus / N`` threads: on a small CPU several
single-threaded runs get more done than one run with every thread. Each run's output goes to
``train.log`` in its folder. Entries whose ``leaderboard.long`` says why they need more than the
CPU budget are listed, not run, unless ``--long`` is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqlab.cli.common import ROOT
from seqlab.leaderboard import build


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
    missing = build(args.only, args.seeds, args.jobs, args.long, mode, args.out)
    if missing and mode != "collect":
        sys.exit(f"[leaderboard] failed: {sorted(n for names in missing.values() for n in names)}")


if __name__ == "__main__":
    main()
