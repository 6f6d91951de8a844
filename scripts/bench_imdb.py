"""IMDB speed benchmark: vectorisation (cold and cached) and BiLSTM epochs, bucketed vs not.

    python scripts/bench_imdb.py [--batches N] [--skip-cold]

Prints one JSON object (`seqlab.bench.imdb.measure`); `scripts/bench.py` (``make bench``)
measures and tabulates the same.
"""

from __future__ import annotations

import argparse
import json

from seqlab.bench.imdb import measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=None, help="train batches per epoch")
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold vectorisation")
    args = parser.parse_args()
    print(json.dumps(measure(args.batches, cold=not args.skip_cold), indent=2))


if __name__ == "__main__":
    main()
