"""Word2vec (skip-gram, negative sampling) on IMDB's unlabelled reviews, no internet needed.

    python scripts/pretrain_embeddings.py [--dim 256] [--epochs 1] [--out PATH] [data.key=value ...]

The vocabulary and files are those of ``data=imdb`` (``conf/data/imdb.yaml``, ``conf/paths``;
Hydra-style ``data.*`` overrides change them, e.g. ``data.max_tokens=30000``), so every vector
has a word the classifier knows (`seqlab.tasks.word2vec`). The output
``{"words", "vectors"}`` goes to ``<cache_dir>/imdb/word2vec-<dim>.pt`` and feeds
``task.pretrained_embeddings=PATH``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from seqlab.files import write_torch_atomic
from seqlab.run.compose import configured_datamodule
from seqlab.tasks.word2vec import skipgram

LOG_EVERY = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--negatives", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8192)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("overrides", nargs="*", help="data.* overrides of the data=imdb config")
    args = parser.parse_args()
    console = Console(soft_wrap=True)
    started = time.perf_counter()
    dm = configured_datamodule(["data=imdb", *args.overrides])
    console.print("reading and indexing the reviews (cached after the first time)", highlight=False)
    dm.prepare_data()
    dm.setup()
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("batches, loss {task.fields[loss]:.4f}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,  # a log file gets a line every LOG_EVERY batches
    )
    epochs: dict[int, int] = {}

    def progress(epoch: int, done: int, total: int, loss: float) -> None:
        if epoch not in epochs:
            epochs[epoch] = bars.add_task(
                f"epoch {epoch + 1}/{args.epochs}", total=total, loss=loss
            )
        bars.update(epochs[epoch], completed=done, loss=loss)
        if not console.is_terminal and (done % LOG_EVERY == 0 or done == total):
            seconds = time.perf_counter() - started
            console.print(
                f"epoch {epoch + 1}/{args.epochs}: batch {done:,}/{total:,}, loss {loss:.4f}, "
                f"{seconds:.0f} s",
                highlight=False,
            )

    with bars:
        vectors = skipgram(
            dm, args.dim, args.epochs, args.window, args.negatives, args.batch, progress
        )
    out = args.out or dm.cache_dir / "imdb" / f"word2vec-{args.dim}.pt"
    write_torch_atomic(out, {"words": dm.vectorizer.vocabulary, "vectors": vectors})
    console.print(f"wrote {out} ({time.perf_counter() - started:.0f} s)", highlight=False)


if __name__ == "__main__":
    main()
