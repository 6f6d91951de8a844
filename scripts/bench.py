"""Performance benchmarks: ``make bench`` → benchmarks/results.json, README.md and scaling.png.

    python scripts/bench.py [--batches 40] [--quick] [--imdb-full-epochs] [--only families ...]

Everything is measured in this one process, on this machine, on the real data (`seqlab.bench`):

- for each task family's main model (the run configuration of a leaderboard entry): training
  throughput through seqlab's Trainer (CSV logging on) and through a plain PyTorch loop over the
  same net, loader and optimiser (the Lightning overhead), inference throughput, time per epoch,
  and the DataModule's own throughput against the training step rate;
- the Jena DataModule's memory: what it keeps and its peak while being set up and read, against
  the float32 series;
- throughput against batch size and sequence length (Jena LSTM), as a plot;
- IMDB vectorisation (cold and cached) and bucketed against unsorted epochs;
- the Jena LSTM on PyTorch's fused kernel against the scratch cells (``model.impl=scratch``);
- on a GPU when there is one: the families again on it, in float32 and bf16 autocast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seqlab.bench.suite import SECTIONS, measure, write
from seqlab.run.compose import ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="training batches per arm")
    parser.add_argument("--quick", action="store_true", help="few batches, no IMDB epochs")
    parser.add_argument(
        "--imdb-full-epochs", action="store_true", help="whole IMDB epochs, with accuracy"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        help="measure these sections again and keep the others from the last results.json",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    args = parser.parse_args()
    sections = set(args.only or SECTIONS) - ({"imdb"} if args.quick else set())
    previous = json.loads((args.out / "results.json").read_text()) if args.only else None
    results = measure(sections, 5 if args.quick else args.batches, args.imdb_full_epochs, previous)
    write(results, args.out)
    print(f"[bench] wrote {args.out / 'README.md'}, results.json, scaling.png")


if __name__ == "__main__":
    main()
