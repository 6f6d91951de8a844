"""Bach chorales (JSB, 4 voices): predict the next note of the chords unrolled into arpeggios."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from seqlab.data.streams import TokenDataModule, next_token_windows, range_starts
from seqlab.data.windows import BatchedDataset, WindowDataset
from seqlab.errors import DataError
from seqlab.media.music import plot_piano_roll, write_midi, write_wav
from seqlab.spec import TaskSpec

ROOT = "jsb_chorales"
SPLITS = {"train": "train", "val": "valid", "test": "test"}  # ours → the archive's folders
VOICES = 4
LOWEST, HIGHEST = 36, 81  # piano keys in the chorales; 0 is a rest
CLASSES = HIGHEST - LOWEST + 2  # 47: rest + 46 keys


def read_chorale(path: Path) -> np.ndarray:
    """One chorale CSV (``note0..note3`` header, one chord per row) as ``(steps, 4)`` keys."""
    with path.open(newline="") as stream:
        rows = list(csv.reader(stream))
    if not rows or [c.strip() for c in rows[0]] != [f"note{v}" for v in range(VOICES)]:
        raise DataError(f"{path}: expected a header note0,note1,note2,note3")
    try:
        chords = np.array([[int(v) for v in row] for row in rows[1:] if row], dtype=np.int64)
    except ValueError as e:
        raise DataError(f"{path}: a note is not an integer ({e})") from e
    if chords.ndim != 2 or chords.shape[1] != VOICES:
        raise DataError(f"{path}: every row needs {VOICES} notes")
    bad = (chords != 0) & ((chords < LOWEST) | (chords > HIGHEST))
    if bad.any():
        raise DataError(
            f"{path}: notes {sorted(set(chords[bad]))} outside 0 or {LOWEST}..{HIGHEST}"
        )
    return chords


def to_tokens(chords: np.ndarray) -> torch.Tensor:
    """Chords → arpeggio tokens: 0 rest, key - 35 otherwise (1..46), 4 tokens per chord."""
    chords = torch.as_tensor(chords)
    return torch.where(chords == 0, chords, chords - LOWEST + 1).flatten()


def to_chords(tokens: torch.Tensor) -> np.ndarray:
    """Arpeggio tokens back to ``(steps, 4)`` MIDI keys (an unfinished last chord is cut)."""
    tokens = tokens[: len(tokens) // VOICES * VOICES].view(-1, VOICES)
    return torch.where(tokens == 0, tokens, tokens + LOWEST - 1).numpy()


class Transposed(BatchedDataset):
    """Windows moved by a random number of semitones each, at most ``semitones`` either way and
    never past the chorales' lowest or highest key: the same chords in another key (rests stay)."""

    def __init__(self, windows: WindowDataset, semitones: int) -> None:
        self.windows = windows
        self.semitones = semitones

    def __len__(self) -> int:
        return len(self.windows)

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        inputs, targets = self.windows.__getitems__(indices)
        notes = torch.cat([inputs, targets], dim=1)
        keys = notes > 0
        lowest = torch.where(keys, notes, CLASSES).amin(dim=1)
        highest = torch.where(keys, notes, 0).amax(dim=1)
        down = torch.clamp(1 - lowest, min=-self.semitones)  # ≤ 0: key 1 is the lowest
        up = torch.clamp(CLASSES - 1 - highest, max=self.semitones).clamp(min=down)
        shift = down + (torch.rand(len(notes)) * (up - down + 1)).long()
        return (
            torch.where(inputs > 0, inputs + shift[:, None], inputs),
            torch.where(targets > 0, targets + shift[:, None], targets),
        )


class ChoralesDataModule(TokenDataModule):
    """The archive's train / valid / test chorales (229 / 76 / 77), as the reference reads them.

    A sample is a window of ``window_chords`` + 1 chords every ``window_shift`` chords inside one
    chorale, unrolled into notes (soprano, alto, tenor, bass of each chord in turn); the target
    is the same notes shifted by one, so every note is predicted from the ones before it.
    Training windows only: ``train_shift``, another shift (validation and test keep the
    reference's windows); ``transpose``, each window moved by a random number of semitones, at
    most that many either way (the same music in another key).
    Generation starts from the first ``prompt_chords`` chords of a test chorale.
    """

    token_name = "notes"

    def __init__(
        self,
        data_dir: str | Path,
        cache_dir: str | Path,
        window_chords: int = 32,
        window_shift: int = 16,
        train_shift: int | None = None,
        transpose: int = 0,
        batch_size: int = 32,
        prompt_chords: int = 8,
        sample_chords: int = 56,
        download: bool = True,
    ) -> None:
        super().__init__(data_dir, cache_dir)
        self.save_hyperparameters(logger=False)
        self.chorales: dict[str, list[np.ndarray]] = {}
        self.sample_length = sample_chords * VOICES

    def locate(self) -> Path:
        return self.extracted("chorales") / ROOT

    def build(self, folder: Path) -> None:
        for split, name in SPLITS.items():
            files = sorted((folder / name).glob("chorale_*.csv"))
            if not files:
                raise DataError(
                    f"{folder / name} holds no chorale_*.csv files: the archive is not "
                    f"jsb_chorales.tgz. Delete {self.cache_dir / 'chorales'} and the archive, "
                    "then re-run."
                )
            self.chorales[split] = [read_chorale(f) for f in files]
        pieces, offset, starts = [], 0, {}
        length = (self.hparams.window_chords + 1) * VOICES - 1
        for split, chorales in self.chorales.items():
            shift = self.hparams.window_shift
            if split == "train" and self.hparams.train_shift:
                shift = self.hparams.train_shift
            stride = shift * VOICES
            split_starts = []
            for chords in chorales:
                tokens = to_tokens(chords)
                if len(tokens) > length:
                    split_starts.append(range_starts(offset, offset + len(tokens), length, stride))
                pieces.append(tokens)
                offset += len(tokens)
            if not split_starts:
                raise DataError(
                    f"data=chorales: no {split} chorale has the {self.hparams.window_chords + 1} "
                    f"chords a window reads (data.window_chords + 1); lower data.window_chords"
                )
            starts[split] = torch.cat(split_starts)
        series = torch.cat(pieces)
        self.datasets = {s: next_token_windows(series, starts[s], length) for s in SPLITS}
        if self.hparams.transpose:
            self.datasets["train"] = Transposed(self.datasets["train"], self.hparams.transpose)
        self.spec = TaskSpec(
            data_name="chorales",
            kind="language_model",
            input_kind="tokens",
            input_size=CLASSES,
            output_size=CLASSES,
            sequence_length=length,
            unit="bits/note",
        )
        self.provenance = {
            "folder": str(folder),
            "chorales": {s: len(c) for s, c in self.chorales.items()},
            "windows": {s: len(d) for s, d in self.datasets.items()},
        }

    def prompt_tokens(self, prompt: str | None) -> torch.Tensor:
        """The first ``prompt_chords`` chords of test chorale number ``prompt`` (default 0)."""
        tests = self.chorales["test"]
        try:
            index = int(prompt) if prompt is not None else 0
            chords = tests[index]
        except (ValueError, IndexError) as e:
            raise DataError(
                f"a chorale prompt is the number of a test chorale, 0..{len(tests) - 1}; "
                f"got {prompt!r}"
            ) from e
        return to_tokens(chords[: self.hparams.prompt_chords])

    def write_sample(self, tokens: torch.Tensor, prompt_length: int, path: Path) -> list[Path]:
        chords = to_chords(tokens)
        path.parent.mkdir(parents=True, exist_ok=True)
        title = f"generated chorale ({prompt_length // VOICES} prompt chords shaded)"
        return [
            write_midi(chords, path.with_suffix(".mid")),
            write_wav(chords, path.with_suffix(".wav")),
            plot_piano_roll(chords, prompt_length // VOICES, path.with_suffix(".png"), title),
        ]
