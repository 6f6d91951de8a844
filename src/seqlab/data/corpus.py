"""Any text as a language-modelling corpus: a file, or a folder of files, by characters or words.

`CorpusDataModule` is the Verne recipe for a user's own text (``data=corpus data.path=...``):
contiguous train / validation / test ranges, training as parallel streams (truncated BPTT) or
shuffled windows, every held-out token scored once, the vocabulary from the training range only.
`seqlab.data.verne` is this module reading one book's body.
"""

from __future__ import annotations

import re
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
from seqlab.data.text import decoded
from seqlab.errors import DataError
from seqlab.spec import TaskSpec

UNKNOWN = "\ufffd"  # id 0: any token the training part never shows
FILE_END = "\x1c"  # closes each file of a folder: where one text ends and the next begins
LEVELS = ("char", "word")
WORD = re.compile(r"\w+|[^\w\s]|\n")  # words, punctuation marks and line ends, as tokens


def fold(text: str) -> str:
    """Accents and typographic variants reduced to their plain form (é → e), where one exists."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def read_text(path: Path, encoding: str) -> str:
    """A text file decoded (CRLF undone); undecodable bytes are one error naming the line."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror or error}") from error
    return decoded(raw, path, encoding).replace("\r\n", "\n")


class CorpusDataModule(TokenDataModule):
    """Contiguous train / validation / test ranges of a text (90 / 5 / 5 % by default).

    ``path``: a text file, or a folder whose files (``*.txt`` first, else every file; sorted)
    are one corpus, each followed by an end-of-file token. ``level``: ``char`` (as Verne) or
    ``word`` (words, punctuation and line ends). Training reads the range as ``batch_size``
    parallel streams (``train_order="streams"``, for truncated BPTT) or as independent windows
    every ``train_stride`` tokens, shuffled (``"shuffle"``). Validation and test read
    ``eval_streams`` streams, so every held-out token is scored once. Id 0 stands for a token
    the training range never shows, so held-out text with one is scored (and penalised)
    honestly instead of failing. Bits per token are measured on held-out text.
    """

    never_generate = (0,)  # the unknown-token id
    data_name = "corpus"
    default_prompt = "The"
    longer = ", or give a longer text"  # the other way on when a split is too short

    def __init__(
        self,
        data_dir: str | Path,
        path: str | None = None,
        encoding: str = "utf-8-sig",
        level: str = "char",
        sequence_length: int = 100,
        batch_size: int = 64,
        train_order: str = "streams",
        train_stride: int | None = None,
        eval_streams: int = 32,
        val_fraction: float = 0.05,
        test_fraction: float = 0.05,
        prompt: str | None = None,
        sample_length: int = 600,
        download: bool = True,
    ) -> None:
        super().__init__(data_dir)
        check_order(train_order)
        if level not in LEVELS:
            raise DataError(f"data.level={level!r}: choose one of {', '.join(LEVELS)}")
        self.save_hyperparameters(logger=False)
        self.token_name = "chars" if level == "char" else "words"
        self.vocab: list[str] = []
        self.index: dict[str, int] = {}
        self.sample_length = sample_length

    def locate(self) -> Path:
        if not self.hparams.path:
            raise DataError(
                "data=corpus needs the text: data.path=<file.txt or folder of text files>"
            )
        path = Path(str(self.hparams.path)).expanduser()
        if not path.exists():
            raise DataError(f"data.path={path} does not exist; give a text file or a folder")
        return path

    def text(self, path: Path) -> str:
        """The corpus's text: the file, or the folder's files each closed by `FILE_END`."""
        if path.is_file():
            return read_text(path, self.hparams.encoding)
        files = sorted(p for p in path.rglob("*.txt") if p.is_file()) or sorted(
            p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
        )
        if not files:
            raise DataError(f"data.path={path} is a folder without files")
        return "".join(read_text(f, self.hparams.encoding) + FILE_END for f in files)

    def split(self, text: str) -> list[str]:
        """Text → tokens: its characters, or its words, punctuation marks and line ends."""
        return list(text) if self.hparams.level == "char" else WORD.findall(text)

    def build(self, path: Path) -> None:
        body = self.split(self.text(path))
        if not body:
            raise DataError(f"{path} holds no text")
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
                raise DataError(
                    f"data={self.data_name}, {split} split: {error} ({len(body):,} "
                    f"{self.token_name} in all); lower data.{fix}{self.longer}"
                ) from error
        unknown = {split: int((series[b:e] == 0).sum()) for split, (b, e) in bounds.items()}
        self.spec = TaskSpec(
            data_name=self.data_name,
            kind="language_model",
            input_kind="tokens",
            input_size=len(self.vocab),
            output_size=len(self.vocab),
            sequence_length=length,
            unit=f"bits/{self.token_name[:-1]}",
        )
        self.provenance = {
            "file": str(path),
            f"body_{self.token_name}": len(body),
            "split_chars" if self.hparams.level == "char" else "split_words": {
                split: e - b for split, (b, e) in bounds.items()
            },
            "vocabulary": len(self.vocab),
            f"unknown_{self.token_name}": unknown,
            "windows": {split: len(ds) for split, ds in self.datasets.items()},
        }

    def prompt_tokens(self, prompt: str | None) -> torch.Tensor:
        """Encode a prompt; tokens outside the vocabulary are folded (é → e) or left out."""
        text = (self.hparams.prompt or self.default_prompt) if prompt is None else str(prompt)
        tokens: list[str] = []
        dropped: set[str] = set()
        for token in self.split(text):
            if token in self.index:
                kept = [token]
            elif self.hparams.level == "char":
                kept = [f for f in fold(token) if f in self.index]
            else:
                kept = [fold(token)] if fold(token) in self.index else []
            tokens += kept
            if not kept:
                dropped.add(token)
        if dropped:
            warnings.warn(
                f"prompt {self.token_name} not in the vocabulary were left out: {sorted(dropped)}",
                stacklevel=2,
            )
        return torch.tensor([self.index.get(t, 0) for t in (tokens or ["\n"])], dtype=torch.long)

    def decode(self, tokens: torch.Tensor) -> str:
        words = [self.vocab[int(i)] for i in tokens]
        text = "".join(words) if self.hparams.level == "char" else " ".join(words)
        text = text.replace(" \n ", "\n") if self.hparams.level == "word" else text
        return text.replace(FILE_END, "\n\n")

    def write_sample(self, tokens: torch.Tensor, prompt_length: int, path: Path) -> list[Path]:
        out = path.with_suffix(".txt")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self.decode(tokens) + "\n", encoding="utf-8")
        return [out]
