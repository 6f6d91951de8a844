"""Rebuild LEADERBOARD.md and leaderboard.csv by running every conf/experiment/ entry.

    python scripts/leaderboard.py [--only jena] [--entry jena_dense ...] [--seeds 3] [--jobs 2]
                                  [--reuse | --collect | --render] [--out DIR]
    python scripts/leaderboard.py --check jena_dense     # rerun its rows as printed, compare

Each entry is trained from scratch (``--reuse`` keeps runs that already finished; ``--collect``
trains nothing and lists entries without a finished run as not measured; ``--render`` only
writes LEADERBOARD.md and its figures again from leaderboard.csv), its ``metrics.json``
read back, and both files written atomically (`seqlab.compare.runner`). ``--only`` and
``--entry`` run part of the board and keep the other entries' rows of the csv in ``--out``.

Every entry runs with ``--seeds`` seeds (42, 43, …; the table shows mean ± std) unless its run on
the last board took ``--single-seed-after`` seconds or more: that one runs once, marked
single-seed. ``--jobs N`` trains N entries at once, each with ``cpus / N`` threads (``threads=``
in the command each row prints): on a small CPU several single-threaded runs get more done than
one run with every thread. Each run's output goes to ``train.log`` in its folder. Entries whose
``leaderboard.long`` says why they need more than the CPU budget are listed, not run, unless
``--long`` is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqlab.compare.check import check, report
from seqlab.compare.runner import SINGLE_SEED_AFTER, build
from seqlab.errors import SeqlabError, print_error
from seqlab.run.compose import ROOT


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="one data set (jena, chicago, imdb, verne, chorales)")
    parser.add_argument(
        "--entry", action="append", help="one entry (conf/experiment/<entry>.yaml); repeatable"
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds of each short entry")
    parser.add_argument(
        "--single-seed-after",
        type=float,
        default=SINGLE_SEED_AFTER,
        help="seconds: an entry whose last run took this long runs with one seed",
    )
    parser.add_argument("--jobs", type=int, default=1, help="entries trained at once")
    parser.add_argument("--long", action="store_true", help="also run the long entries")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--reuse", action="store_true", help="keep runs that already finished")
    mode.add_argument(
        "--collect", action="store_true", help="train nothing; tabulate finished runs"
    )
    mode.add_argument(
        "--check",
        metavar="ENTRY",
        help="rerun ENTRY's rows as printed; say per row: same digits, inside the spread, or not",
    )
    mode.add_argument(
        "--render",
        action="store_true",
        help="train nothing; LEADERBOARD.md again from leaderboard.csv with today's references",
    )
    parser.add_argument("--out", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    if args.check:
        try:
            agrees = report(args.check, check(args.check, args.out / "leaderboard.csv"))
        except SeqlabError as error:
            print_error(error)
            sys.exit(1)
        sys.exit(0 if agrees else 1)
    mode = (
        "render"
        if args.render
        else "collect"
        if args.collect
        else "reuse"
        if args.reuse
        else "fresh"
    )
    try:
        missing = build(
            args.only,
            args.seeds,
            args.jobs,
            args.long,
            mode,
            args.out,
            args.entry,
            args.single_seed_after,
        )
    except SeqlabError as error:  # a reference without its source, an unknown entry
        print_error(error)
        sys.exit(1)
    if missing and mode != "collect":
        sys.exit(f"[leaderboard] failed: {sorted(n for names in missing.values() for n in names)}")
