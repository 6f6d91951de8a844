"""Texts with one label each, vectorised as IMDB's are: word sequences or bags of n-grams.

`LabelledTexts` is what IMDB and a user's own labelled texts share: the vocabulary fitted on
the training texts only and kept in every checkpoint (`state_dict`), the output modes (padded
id sequences, length-bucketed for training; multi-hot, count or TF-IDF bags), new texts encoded
for predict.py, and the spec (one logit for two classes, one per class beyond). Each data set
says how it reads its texts (`_indexed`). `TextCsvDataModule` (``data=text_csv``) reads a CSV or
JSON-lines file with a text and a label column; `TextFolderDataModule` (``data=text_folder``) a
folder with one sub-folder of text files per class, the layout of ``aclImdb/train``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from seqlab.data.base import DataModule
from seqlab.data.text import (
    Bags,
    BucketBatchSampler,
    OutputMode,
    Sequences,
    Vectorizer,
    corpus_word_ids,
    decoded,
)
from seqlab.errors import DataError, SeqlabError
from seqlab.files import write_torch_atomic
from seqlab.spec import TaskSpec

MODES = ("int", "multi_hot", "count", "tf_idf")


def load_cache(path: Path | None) -> dict[str, Any] | None:
    """A cache file's payload; None when there is none. A file that cannot be read (truncated
    by a full disk or a kill, garbage) is named in a warning, removed, and rebuilt by the caller."""
    if path is None or not path.is_file():
        return None
    try:
        payload = torch.load(path, weights_only=True)
        if not isinstance(payload, dict):
            raise TypeError(f"it holds a {type(payload).__name__}, not a dict")
        return payload
    except Exception as error:  # noqa: BLE001 (whatever unpickling garbage raises)
        discard_cache(path, error)
        return None


def discard_cache(path: Path, error: BaseException) -> None:
    first = re.split(r"(?<=\.)\s|\n", str(error).strip(), maxsplit=1)[0]
    reason = first[:160]  # its first sentence
    warnings.warn(
        f"the cache file {path} is corrupt ({type(error).__name__}: {reason}); "
        "removing it and rebuilding it from the data",
        stacklevel=3,
    )
    path.unlink(missing_ok=True)


class LabelledTexts(DataModule):
    """Base of the labelled-text data sets (see the module's docstring)."""

    data_name = "texts"
    class_names: tuple[str, ...] = ()
    counted = "texts"  # what provenance calls them (IMDB: reviews)

    def __init__(
        self,
        data_dir: str | Path,
        cache_dir: str | Path | None = None,
        output_mode: OutputMode = "int",
        ngrams: int = 1,
        max_tokens: int = 20_000,
        max_length: int | None = 600,
        pad_to: int | None = None,
        val_fraction: float = 0.2,
        split_seed: int = 1337,
        batch_size: int = 32,
        bucket: bool = True,
        num_workers: int = 0,
        download: bool = True,
    ) -> None:
        super().__init__(data_dir, cache_dir)
        self.save_hyperparameters(logger=False)
        if output_mode not in MODES:
            raise SeqlabError(f"data.output_mode must be one of {MODES}, got {output_mode!r}")
        if output_mode == "int" and ngrams != 1:
            raise SeqlabError(
                "data.output_mode=int gives word sequences and needs data.ngrams=1; "
                "bigrams go with multi_hot, count or tf_idf"
            )
        self.vectorizer: Vectorizer | None = None

    def _indexed(self, path: Path) -> dict[str, tuple[np.ndarray, np.ndarray, torch.Tensor]]:
        """Vocabulary indices, text numbers and labels per split, fitting the vocabulary."""
        raise NotImplementedError

    def build(self, path: Path) -> None:
        for split, (index, texts, labels) in self._indexed(path).items():
            self.datasets[split] = self._dataset(index, texts, labels)
        self.spec = self.publish_spec()
        self.provenance = {
            "file": str(path),
            self.counted: {split: len(ds) for split, ds in self.datasets.items()},
            "classes": list(self.class_names),
            "vocabulary": self.vectorizer.size,
            "output_mode": self.hparams.output_mode,
            "ngrams": self.hparams.ngrams,
        }

    @property
    def _needs_idf(self) -> bool:
        return self.hparams.output_mode == "tf_idf"

    def publish_spec(self) -> TaskSpec:
        """The task spec of the fitted vocabulary (after `setup` or `load_state_dict`): one
        logit for two classes, one per class for more."""
        if self.vectorizer is None:
            raise SeqlabError(f"the {self.data_name} vocabulary is not fitted: call setup() first")
        bag = self.hparams.output_mode != "int"
        classes = len(self.class_names)
        return TaskSpec(
            data_name=self.data_name,
            kind="classification",
            input_kind="bag" if bag else "tokens",
            input_size=self.vectorizer.size,
            output_size=1 if classes == 2 else classes,
            sequence_length=None if bag else self.hparams.pad_to,
            target_names=tuple(self.class_names),
            feature_names=() if bag else tuple(self.vectorizer.vocabulary),
        )

    def _dataset(self, index: np.ndarray, texts: np.ndarray, labels: torch.Tensor) -> Any:
        """The split's dataset in the configured output mode."""
        count = len(labels)
        if self.hparams.output_mode == "int":
            return Sequences(
                index, texts, count, labels, self.hparams.max_length, self.hparams.pad_to
            )
        vectorizer = self.vectorizer
        return Bags(
            index, texts, count, labels, vectorizer.size, self.hparams.output_mode, vectorizer.idf
        )

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, ...]:
        """New texts as one batch of model inputs (no labels), with the fitted vocabulary."""
        index, numbers = self.vectorizer.index(*self.vectorizer.word_ids(texts))
        dataset = self._dataset(index, numbers, torch.zeros(len(texts), dtype=torch.int64))
        return dataset.__getitems__(list(range(len(texts))))[:-1]

    def state_dict(self) -> dict[str, Any]:
        if not self.vectorizer:
            return {}
        return {"vectorizer": self.vectorizer.state_dict(), "classes": list(self.class_names)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if "vectorizer" in state_dict and self.vectorizer is None:
            self.vectorizer = Vectorizer.from_state_dict(state_dict["vectorizer"])
        if state_dict.get("classes"):
            self.class_names = tuple(state_dict["classes"])

    def batching(self, split: str) -> dict[str, Any]:
        """Training batches of similar lengths (`BucketBatchSampler`) when texts are not padded
        to one length: little padding, still shuffled."""
        dataset = self.datasets[split]
        if isinstance(dataset, Sequences) and self.hparams.bucket and not self.hparams.pad_to:
            shuffle, seed = split == "train", self.hparams.split_seed
            sampler = BucketBatchSampler(dataset.lengths, self.hparams.batch_size, shuffle, seed)
            return {"batch_sampler": sampler}
        return super().batching(split)


def stratified(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows kept and rows held out (``fraction`` of each class, seeded), each in file order."""
    generator = np.random.default_rng(seed)
    held = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        held.append(generator.permutation(rows)[: int(round(fraction * len(rows)))])
    out = np.sort(np.concatenate(held)) if held else np.zeros(0, dtype=np.int64)
    return np.setdiff1d(np.arange(len(labels)), out), out


class UserTexts(LabelledTexts):
    """A user's labelled texts: a training source, an optional test source (else a stratified
    ``test_fraction`` of the training one), a stratified ``val_fraction`` of what trains.

    Empty texts are dropped with a warning (an error when none is left); a single class, or a
    test class that training never saw, is an error. Classes are named by their labels, sorted.
    """

    data_name = "texts"

    def __init__(
        self,
        data_dir: str | Path,
        path: str | None = None,
        test_path: str | None = None,
        test_fraction: float = 0.2,
        encoding: str = "utf-8-sig",
        **options: Any,
    ) -> None:
        super().__init__(data_dir, **options)
        self.class_names = ()

    def read(self, path: Path) -> tuple[list[str], list[str]]:
        """The texts and their labels (as text) of one source."""
        raise NotImplementedError

    def locate(self) -> Path:
        if not self.hparams.path:
            raise DataError(f"data={self.data_name} needs data.path=<{self.source}>")
        path = Path(str(self.hparams.path)).expanduser()
        if not path.exists():
            raise DataError(f"data.path={path} does not exist; give the {self.source}")
        return path

    def _read(self, path: Path) -> tuple[list[str], np.ndarray]:
        texts, labels = self.read(path)
        empty = [i for i, text in enumerate(texts) if not str(text).strip()]
        if len(empty) == len(texts):
            raise DataError(f"{path} holds no text: every one of its {len(texts):,} is empty")
        if empty:
            warnings.warn(
                f"{path}: {len(empty):,} empty text(s) left out (the first: item {empty[0] + 1})",
                stacklevel=2,
            )
            keep = sorted(set(range(len(texts))) - set(empty))
            texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
        return [str(t) for t in texts], np.asarray([str(label) for label in labels])

    def identity(self, path: Path) -> list[Any]:
        """What the cached tokens depend on: the sources' sizes and times, and the options that
        choose and split the texts."""
        sources = [path] + ([Path(str(self.hparams.test_path))] if self.hparams.test_path else [])
        stats = []
        for source in sources:
            files = (
                [source]
                if source.is_file()
                else sorted(p for p in source.rglob("*") if p.is_file())
            )
            stats.append([(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files])
        keys = (
            "text",
            "label",
            "classes",
            "encoding",
            "test_fraction",
            "val_fraction",
            "split_seed",
        )
        return [stats, [str(self.hparams.get(key)) for key in keys]]

    def _tokenized(self, path: Path) -> dict[str, Any]:
        """The texts split and tokenised (`corpus_word_ids`) with their class numbers, cached
        under ``cache_dir`` by `identity`: a second run reads no file and tokenises nothing."""
        digest = hashlib.sha1(json.dumps(self.identity(path)).encode()).hexdigest()[:16]
        cached = self.cache_dir / "texts" / f"tokens-{digest}.pt" if self.cache_dir else None
        saved = load_cache(cached)
        if saved is not None:
            try:
                return {
                    "classes": saved["classes"].split("\n"),
                    "words": saved["words"].split("\n"),
                    "flat": saved["flat"].numpy(),
                    "offsets": saved["offsets"].numpy(),
                    "bounds": saved["bounds"].numpy(),
                    "labels": {k: v for k, v in saved["labels"].items()},
                }
            except (KeyError, AttributeError, TypeError) as error:
                discard_cache(cached, error)
        tokens = self._split_and_tokenize(path)
        if cached is not None:
            write_torch_atomic(
                cached,
                {
                    "classes": "\n".join(tokens["classes"]),
                    "words": "\n".join(tokens["words"]),
                    "flat": torch.from_numpy(tokens["flat"]),
                    "offsets": torch.from_numpy(tokens["offsets"]),
                    "bounds": torch.from_numpy(tokens["bounds"]),
                    "labels": tokens["labels"],
                },
            )
        return tokens

    def _split_and_tokenize(self, path: Path) -> dict[str, Any]:
        h = self.hparams
        texts, labels = self._read(path)
        if h.test_path:
            test_path = Path(str(h.test_path)).expanduser()
            if not test_path.exists():
                raise DataError(f"data.test_path={test_path} does not exist")
            test_texts, test_labels = self._read(test_path)
            rows = {"train": np.arange(len(texts))}
        else:
            rest, held = stratified(labels, h.test_fraction, h.split_seed)
            test_texts, test_labels = [texts[i] for i in held], labels[held]
            rows = {"train": rest}
        train, val = stratified(labels[rows["train"]], h.val_fraction, h.split_seed + 1)
        parts = {
            "train": ([texts[i] for i in rows["train"][train]], labels[rows["train"][train]]),
            "val": ([texts[i] for i in rows["train"][val]], labels[rows["train"][val]]),
            "test": (test_texts, test_labels),
        }
        classes = sorted(Counter(parts["train"][1].tolist()))
        if len(classes) < 2:
            raise DataError(
                f"{path}: one class only ({classes[0] if classes else 'none'}) in the training "
                "texts; a classifier needs two or more"
            )
        unseen = sorted(set(parts["test"][1].tolist()) - set(classes))
        if unseen:
            raise DataError(
                f"the test texts hold class(es) {unseen} that training never saw (it has "
                f"{classes}); give training texts of every class"
            )
        number = {name: i for i, name in enumerate(classes)}
        words, flat, offsets = corpus_word_ids([t for split in parts.values() for t in split[0]])
        return {
            "classes": classes,
            "words": words,
            "flat": flat,
            "offsets": offsets,
            "bounds": np.cumsum([0, *(len(split[0]) for split in parts.values())]),
            "labels": {
                split: torch.tensor([number[label] for label in part[1]], dtype=torch.int64)
                for split, part in parts.items()
            },
        }

    def _indexed(self, path: Path) -> dict[str, tuple[np.ndarray, np.ndarray, torch.Tensor]]:
        h = self.hparams
        tokens = self._tokenized(path)
        words, flat, offsets, bounds = (tokens[k] for k in ("words", "flat", "offsets", "bounds"))
        self.class_names = tuple(tokens["classes"])
        if self.vectorizer is None:
            self.vectorizer = Vectorizer.fit(
                words,
                flat[: offsets[bounds[1]]],
                offsets[: bounds[1] + 1],
                h.max_tokens,
                h.ngrams,
                idf=self._needs_idf,
            )
        remap = self.vectorizer.corpus_map(words)
        indexed = {}
        for split, begin, end in zip(
            ("train", "val", "test"), bounds[:-1], bounds[1:], strict=True
        ):
            edges = offsets[begin : end + 1]
            index, numbers = self.vectorizer.index(
                remap[flat[edges[0] : edges[-1]]], edges - edges[0]
            )
            indexed[split] = (index, numbers, tokens["labels"][split])
        return indexed


class TextCsvDataModule(UserTexts):
    """``data=text_csv``: a CSV (or JSON-lines) file with a ``text`` and a ``label`` column."""

    data_name = "text_csv"
    source = "CSV or JSON-lines file of texts and labels"

    def __init__(
        self, data_dir: str | Path, text: str = "text", label: str = "label", **options: Any
    ) -> None:
        super().__init__(data_dir, **options)

    def read(self, path: Path) -> tuple[list[str], list[str]]:
        if not path.is_file():
            raise DataError(
                f"{path} is a folder; data=text_csv reads a file (data=text_folder reads folders)"
            )
        text = decoded(path.read_bytes(), path, self.hparams.encoding)
        try:
            if path.suffix in (".jsonl", ".json", ".ndjson"):
                frame = pd.DataFrame(
                    [json.loads(line) for line in text.splitlines() if line.strip()]
                )
            else:
                frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except (ValueError, pd.errors.ParserError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "no columns"
            raise DataError(f"{path} cannot be read as a table: {first}") from error
        wanted = {"data.text": self.hparams.text, "data.label": self.hparams.label}
        for key, column in wanted.items():
            if column not in frame.columns:
                raise DataError(
                    f"{path}: no column {column!r} ({key}); it has {list(frame.columns)}"
                )
        frame = frame.fillna("")
        return frame[self.hparams.text].astype(str).tolist(), frame[self.hparams.label].astype(
            str
        ).tolist()


class TextFolderDataModule(UserTexts):
    """``data=text_folder``: one sub-folder of text files per class (``aclImdb/train`` layout);
    sub-folders with no files (``unsup`` holds unlabelled ones: name the classes) are skipped."""

    data_name = "text_folder"
    source = "folder with one sub-folder of text files per class"

    def __init__(
        self, data_dir: str | Path, classes: list[str] | None = None, **options: Any
    ) -> None:
        super().__init__(data_dir, **options)

    def read(self, path: Path) -> tuple[list[str], list[str]]:
        if not path.is_dir():
            raise DataError(f"{path} is a file; data=text_folder reads a folder of class folders")
        wanted = self.hparams.classes
        folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
        if wanted:
            missing = sorted(set(wanted) - {p.name for p in folders})
            if missing:
                raise DataError(
                    f"{path}: no sub-folder {missing} (data.classes); it has "
                    f"{[p.name for p in folders]}"
                )
            folders = [p for p in folders if p.name in wanted]
        texts, labels = [], []
        for folder in folders:
            for file in sorted(p for p in folder.iterdir() if p.is_file()):
                texts.append(decoded(file.read_bytes(), file, self.hparams.encoding))
                labels.append(folder.name)
        if not texts:
            raise DataError(f"{path} holds no sub-folder of text files (one per class)")
        return texts, labels
