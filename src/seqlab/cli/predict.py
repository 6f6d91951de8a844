"""Classify new text with a trained checkpoint: the vocabulary and weights both come from it.

Arguments are ``key=value`` words split at the first ``=``, not Hydra overrides, so a review may
hold commas, quotes, brackets or ``=`` without escaping:
``python predict.py ckpt_path=logs/.../best.ckpt text="Loved it, 10/10"`` (or ``file=review.txt``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import lightning as L
from omegaconf import OmegaConf

from seqlab.data.base import TextData
from seqlab.errors import SeqlabError
from seqlab.run.checkpoint import Checkpoint, restore_run
from seqlab.run.compose import configured_paths

USAGE = 'usage: python predict.py ckpt_path=<run>/checkpoints/best.ckpt text="..." | file=<path>'


def parse_arguments(argv: list[str]) -> dict[str, str]:
    """``key=value`` words → dict; unknown keys and a missing ``ckpt_path`` are user errors."""
    arguments: dict[str, str] = {}
    for word in argv:
        key, sep, value = word.partition("=")
        if not sep or key not in {"ckpt_path", "text", "file"}:
            raise SeqlabError(f"cannot read argument {word!r}. {USAGE}")
        arguments[key] = value
    if "ckpt_path" not in arguments or ("text" in arguments) == ("file" in arguments):
        raise SeqlabError(f"give ckpt_path and exactly one of text / file. {USAGE}")
    return arguments


def as_text(raw: str | bytes) -> str:
    """Any input as text: invalid UTF-8 bytes (also those the shell passed) become U+FFFD."""
    if isinstance(raw, str):
        raw = os.fsencode(raw)  # undo the surrogate escapes Python gave undecodable argv bytes
    return raw.decode("utf-8", errors="replace")


def classifies_text(checkpoint: Checkpoint, datamodule: L.LightningDataModule) -> None:
    """Refuse a run on data without a saved text vocabulary (a forecaster, a language model)."""
    if not isinstance(datamodule, TextData) or not checkpoint.contents.get(
        type(datamodule).__qualname__
    ):
        raise SeqlabError(
            f"{checkpoint.path} is a {OmegaConf.select(checkpoint.config, 'task._target_')} run "
            "on data without a saved text vocabulary; predict.py classifies text "
            "(e.g. data=imdb runs)"
        )


def predict(arguments: dict[str, str]) -> dict[str, Any]:
    """Sentiment and probability of one text; prints them and returns them."""
    if "file" in arguments:
        path = Path(arguments["file"])
        if not path.is_file():
            raise SeqlabError(f"file={path} does not exist")
        text = as_text(path.read_bytes())
    else:
        text = as_text(arguments["text"])
    _, datamodule, task = restore_run(
        arguments["ckpt_path"], configured_paths(), stage=None, check=classifies_text
    )
    inputs = datamodule.encode([text])
    probability = float(task.predict_proba(*inputs)[0])
    words = len(text.split())
    labels = task.spec.target_names
    result = {
        "label": labels[int(probability >= 0.5)],
        "probability_positive": round(probability, 4),
        "words": words,
    }
    note = "" if words else " (empty text: the model's answer for no words at all)"
    print(f"{result['label']} (p(pos) = {probability:.3f}, {words:,} words){note}")
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return predict(parse_arguments(sys.argv[1:] if argv is None else argv))
