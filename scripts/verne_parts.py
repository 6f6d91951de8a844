"""Write a real three-class text set: each paragraph of Verne's *The Mysterious Island* (at
least 20 words) with the part of the book it comes from, as a CSV for ``data=text_csv``.

    python scripts/verne_parts.py [--out verne_parts.csv]
    python train.py data=text_csv data.path=verne_parts.csv data.label=part model=bow \
        data.output_mode=tf_idf data.ngrams=2

The parts follow the story (the balloon's fall, the castaways' settling, the secret of the
island), so the classifier learns which names, places and events belong to which part; the
majority class (the longest part) is the floor to clear.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import pandas as pd

from seqlab.data.sources import SOURCES, fetch
from seqlab.data.verne import book_body, paragraphs_by_part
from seqlab.errors import SeqlabError, print_error
from seqlab.files import write_text_atomic
from seqlab.run.compose import configured_paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("verne_parts.csv"))
    args = parser.parse_args()
    book = fetch(SOURCES["verne"], Path(configured_paths()["data_dir"]), download=True)
    rows = paragraphs_by_part(book_body(book.read_bytes(), book))
    frame = pd.DataFrame(rows, columns=["text", "part"])
    write_text_atomic(args.out, frame.to_csv(index=False))
    counts = Counter(frame["part"])
    floor = max(counts.values()) / len(frame)
    print(
        f"{args.out}: {len(frame):,} paragraphs, {dict(sorted(counts.items()))}; "
        f"majority class {floor:.1%}"
    )


if __name__ == "__main__":
    try:
        main()
    except SeqlabError as error:  # the book missing: one line naming it and the way on
        print_error(error)
        raise SystemExit(1) from None
