"""Jules Verne, *The Mysterious Island*: a character-level language-modelling corpus."""

from __future__ import annotations

import unicodedata
import warnings
from pathlib import Path

import torch

from seqlab.data.streams import (
    TokenDataModule,
    check_order,
    next_token_windows,
    range_starts,
    stream_windows,
)
from seqlab.errors import DataError
from seqlab.spec import TaskSpec

START_MARKER = "*** START OF"
END_MARKERS = ("End of the Project Gutenberg", "*** END OF")
CREDIT = "Produced by"
UNKNOWN = "\ufffd"  # id 0: any character the training part never shows


def book_body(raw: bytes, path: Path) -> str:
    """The book's own text: BOM and CRLF undone, Gutenberg header, credits and licence cut.

    The body starts after the ``*** START OF`` line (and the transcribers' "Produced by"
    paragraph that follows it) and ends before "End of the Project Gutenberg…" / ``*** END OF``.
    """
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text ({e}); expected Gutenberg's 1268-0.txt") from e
    start = text.find(START_MARKER)
    ends = [i for i in (text.find(m, max(start, 0)) for m in END_MARKERS) if i >= 0]
    if start < 0 or not ends:
        raise DataError(
            f"{path}: no Project Gutenberg '{START_MARKER} …' / '*** END OF …' markers; "
            "expected the Gutenberg edition 1268-0.txt. Delete it and re-run to download it."
        )
    body = text[text.index("\n", start) + 1 : min(ends)].strip()
    if body.startswith(CREDIT):
        body = body.split("\n\n", 1)[-1].strip()
    return body


def fold(text: str) -> str:
    """Accents and typographic variants reduced to their plain form (é → e), where one exists."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


class VerneDataModule(TokenDataModule):
    """Contiguous train / validation / test ranges of the book body (90 / 5 / 5 % by default).

    Training reads the range as ``batch_size`` parallel streams (``train_order="streams"``, for
    truncated BPTT) or as independent windows every ``train_stride`` characters, shuffled
    (``"shuffle"``, the reference recipe). Validation and test always read ``eval_streams``
    streams, so every held-out character is scored once, whatever the window length. The
    character vocabulary comes from the training range only; id 0 stands for a character
    the training range never shows, so a held-out text with such a character is scored (and
    penalised) honestly instead of failing. Bits per character are measured on held-out text.
    """

    token_name = "chars"
    never_generate = (0,)  # the unknown-character id

    def __init__(
        self,
        data_dir: str | Path,
        sequence_length: int = 100,
        batch_size: int = 64,
        train_order: str = "streams",
        train_stride: int | None = None,
        eval_streams: int = 32,
        val_fraction: float = 0.05,
        test_fraction: float = 0.05,
        prompt: str = "The island",
        sample_length: int = 600,
        download: bool = True,
    ) -> None:
        super().__init__(data_dir)
        check_order(train_order)
        self.save_hyperparameters(logger=False)
        self.vocab: list[str] = []
        self.index: dict[str, int] = {}
        self.sample_length = sample_length

    def locate(self) -> Path:
        return self.fetch("verne")

    def build(self, path: Path) -> None:
        body = book_body(path.read_bytes(), path)
        n_val = int(self.hparams.val_fraction * len(body))
        n_test = int(self.hparams.test_fraction * len(body))
        n_train = len(body) - n_val - n_test
        self.vocab = [UNKNOWN, *sorted(set(body[:n_train]) - {UNKNOWN})]
        self.index = {c: i for i, c in enumerate(self.vocab)}
        series = torch.tensor([self.index.get(c, 0) for c in body], dtype=torch.long)
        length = self.hparams.sequence_length
        bounds = {
            "train": (0, n_train),
            "val": (n_train, n_train + n_val),
            "test": (n_train + n_val, len(body)),
        }
        for split, (begin, end) in bounds.items():
            shuffled = split == "train" and self.hparams.train_order == "shuffle"
            streams = "batch_size" if split == "train" else "eval_streams"
            try:
                if shuffled:
                    starts = range_starts(begin, end, length, self.hparams.train_stride or length)
                    self.datasets[split] = next_token_windows(series, starts, length)
                else:
                    count = self.hparams[streams]
                    self.datasets[split] = stream_windows(series[begin:end], count, length)
            except ValueError as error:
                fix = "sequence_length" if shuffled else streams
                raise DataError(f"data=verne, {split} split: {error}; lower data.{fix}") from error
        unknown = {split: int((series[b:e] == 0).sum()) for split, (b, e) in bounds.items()}
        self.spec = TaskSpec(
            data_name="verne",
            kind="language_model",
            input_kind="tokens",
            input_size=len(self.vocab),
            output_size=len(self.vocab),
            sequence_length=length,
            unit="bits/char",
        )
        self.provenance = {
            "file": str(path),
            "body_chars": len(body),
            "split_chars": {split: e - b for split, (b, e) in bounds.items()},
            "vocabulary": len(self.vocab),
            "unknown_chars": unknown,
            "windows": {split: len(ds) for split, ds in self.datasets.items()},
        }

    def prompt_tokens(self, prompt: str | None) -> torch.Tensor:
        """Encode a prompt; characters outside the vocabulary are folded (é → e) or left out."""
        text = self.hparams.prompt if prompt is None else str(prompt)
        chars: list[str] = []
        dropped: set[str] = set()
        for c in text:
            kept = [c] if c in self.index else [f for f in fold(c) if f in self.index]
            chars += kept
            if not kept:
                dropped.add(c)
        if dropped:
            warnings.warn(
                f"prompt characters not in the vocabulary were left out: {sorted(dropped)}",
                stacklevel=2,
            )
        return torch.tensor([self.index[c] for c in (chars or ["\n"])], dtype=torch.long)

    def decode(self, tokens: torch.Tensor) -> str:
        return "".join(self.vocab[int(i)] for i in tokens)

    def write_sample(self, tokens: torch.Tensor, prompt_length: int, path: Path) -> list[Path]:
        out = path.with_suffix(".txt")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self.decode(tokens) + "\n", encoding="utf-8")
        return [out]
