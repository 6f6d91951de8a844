"""Predict with a trained checkpoint: classify new text (two classes or more, by their names), or
forecast the future of a CSV's series.

Arguments are ``key=value`` words split at the first ``=``, not Hydra overrides, so a review may
hold commas, quotes, brackets or ``=`` without escaping:
``python predict.py ckpt_path=logs/.../best.ckpt text="Loved it, 10/10"``; ``file=reviews.txt``
classifies each line of the file and writes one row per line to ``predictions.csv`` (``out=``);
``python predict.py ckpt_path=<a data=csv run>/checkpoints/best.ckpt csv=sales.csv`` writes the
next ``horizon`` rows of each target after the file's last row to ``forecast.csv`` (``out=``)
and a picture beside it. The vocabulary, columns, scaling and weights all come from the checkpoint.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
import torch
from omegaconf import OmegaConf

from seqlab.data.base import SeriesData, TextData
from seqlab.errors import SeqlabError
from seqlab.files import write_text_atomic
from seqlab.run.checkpoint import Checkpoint, RestoredRun, restore_run
from seqlab.run.compose import configured_paths

USAGE = (
    'usage: python predict.py ckpt_path=<run>/checkpoints/best.ckpt text="..." | file=<path> '
    "[out=predictions.csv] | csv=<series.csv or texts.csv> [column=text] [out=...]"
)
INPUTS = ("text", "file", "csv")


def parse_arguments(argv: list[str]) -> dict[str, str]:
    """``key=value`` words → dict; unknown keys and a missing ``ckpt_path`` are user errors."""
    arguments: dict[str, str] = {}
    for word in argv:
        key, sep, value = word.partition("=")
        if not sep or key not in {"ckpt_path", "out", "column", *INPUTS}:
            raise SeqlabError(f"cannot read argument {word!r}. {USAGE}")
        arguments[key] = value
    if "ckpt_path" not in arguments or sum(key in arguments for key in INPUTS) != 1:
        raise SeqlabError(f"give ckpt_path and exactly one of text / file / csv. {USAGE}")
    if "column" in arguments and "csv" not in arguments:
        raise SeqlabError(f"column= names the text column of a csv= file. {USAGE}")
    if "out" in arguments and "text" in arguments:
        raise SeqlabError(f"out= names where a file= or csv= answer goes. {USAGE}")
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
            "(data=imdb, text_csv or text_folder runs)"
        )


def forecasts_series(checkpoint: Checkpoint, datamodule: L.LightningDataModule) -> None:
    """Refuse a run on data that cannot read a new file of its series (text, Jena's own)."""
    if not isinstance(datamodule, SeriesData):
        raise SeqlabError(
            f"{checkpoint.path} is a {OmegaConf.select(checkpoint.config, 'task._target_')} run "
            "on data that reads no CSV of its own; predict.py csv=... forecasts from runs "
            "trained with data=csv (or data=weather)"
        )


def new_file(arguments: dict[str, str], default: str, *, picture: bool = False) -> Path:
    """Where a file= or csv= answer goes (``out=``): never over an existing file."""
    out = Path(arguments.get("out") or default)
    for path in (out, out.with_suffix(".png")) if picture else (out,):
        if path.exists():
            raise SeqlabError(f"{path} exists; name another file with out=<new.csv>")
    return out


def reads_csv(checkpoint: Checkpoint, datamodule: L.LightningDataModule) -> None:
    """csv= serves a forecaster of a CSV's series and a classifier of texts."""
    if not isinstance(datamodule, TextData):
        forecasts_series(checkpoint, datamodule)


def answer_csv(arguments: dict[str, str]) -> dict[str, Any]:
    """csv=: a forecaster's next ``horizon`` rows of the file's series, or a classifier's label
    for each row of the file's text column."""
    restored = restore_run(arguments["ckpt_path"], configured_paths(), stage=None, check=reads_csv)
    if isinstance(restored.datamodule, TextData):
        return classify_rows(arguments, restored)
    return forecast(arguments, restored)


def classify_rows(arguments: dict[str, str], restored: RestoredRun) -> dict[str, Any]:
    """Each row of the CSV's text column (``column=``; by default the column the run was
    trained on, else ``text``) classified into ``out``."""
    path = Path(arguments["csv"])
    if not path.is_file():
        raise SeqlabError(f"csv={path} does not exist")
    trained = OmegaConf.select(restored.checkpoint.config, "data.text", default=None)
    column = arguments.get("column") or trained or "text"
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise SeqlabError(f"csv={path} cannot be read as a CSV file: {error}") from error
    if column not in frame.columns:
        raise SeqlabError(
            f"csv={path} has no column {column!r}; it has {list(frame.columns)} (column=<name>)"
        )
    rows = [(number, text) for number, text in enumerate(frame[column], start=1) if text.strip()]
    return write_answers(arguments, restored, rows, f"rows of {path}", "row")


def forecast(arguments: dict[str, str], restored: RestoredRun) -> dict[str, Any]:
    """The next ``horizon`` rows of each target after the CSV's last row, in the targets' own
    units: written to ``out`` (a CSV, with their times when the file has a time column) and a
    picture beside it; never over an existing file."""
    out = new_file(arguments, "forecast.csv", picture=True)
    picture = out.with_suffix(".png")
    _, datamodule, task = restored
    window, times = datamodule.window_of(Path(arguments["csv"]))
    task.eval()
    with torch.no_grad():
        values = task.natural(task(window))[0].view(task.spec.horizon, -1)
    table = pd.DataFrame(values.numpy(), columns=list(task.spec.target_names))
    table.insert(0, "step", range(task.spec.lead, task.spec.lead + task.spec.horizon))
    if times is not None:
        table.insert(0, str(datamodule.hparams.time_column), pd.DatetimeIndex(times))
    write_text_atomic(out, table.to_csv(index=False))
    plot_future(task, window[0], table, picture)
    print(table.to_string(index=False, max_rows=12))
    print(f"forecast: {out}, {picture}")
    return {"forecast": str(out), "picture": str(picture), "rows": len(table)}


def plot_future(task: Any, window: torch.Tensor, table: pd.DataFrame, path: Path) -> Path:
    """The first target's last window and its forecast, in its own units."""
    from seqlab.media.plots import plot_future_of

    spec = task.spec
    name, i = spec.target_names[0], spec.target_index[0]
    past = window[:, i] * spec.target_std[0] + spec.target_mean[0]
    return plot_future_of(past.numpy(), table[name].to_numpy(), spec.lead, name, spec.unit, path)


def answers(task: Any, datamodule: Any, texts: list[str]) -> pd.DataFrame:
    """Each text's label and probabilities: two classes, ``probability_positive``; more, the
    label's ``probability`` and a ``p_<class>`` column per class."""
    probabilities = task.predict_proba(*datamodule.encode(texts))
    names = task.spec.target_names
    if probabilities.dim() == 1:
        return pd.DataFrame(
            {
                "label": [names[int(p >= 0.5)] for p in probabilities.tolist()],
                "probability_positive": [round(p, 4) for p in probabilities.tolist()],
            }
        )
    best = probabilities.max(dim=-1)
    table = pd.DataFrame(
        {
            "label": [names[int(i)] for i in best.indices],
            "probability": [round(p, 4) for p in best.values.tolist()],
        }
    )
    for i, name in enumerate(names):
        table[f"p_{name}"] = [round(p, 4) for p in probabilities[:, i].tolist()]
    return table


def classify_lines(arguments: dict[str, str]) -> dict[str, Any]:
    """Each non-empty line of ``file`` classified into ``out``."""
    path = Path(arguments["file"])
    if not path.is_file():
        raise SeqlabError(f"file={path} does not exist")
    lines = [
        (number, line.strip())
        for number, line in enumerate(as_text(path.read_bytes()).splitlines(), start=1)
        if line.strip()
    ]
    restored = restore_run(
        arguments["ckpt_path"], configured_paths(), stage=None, check=classifies_text
    )
    return write_answers(arguments, restored, lines, f"lines of {path}", "line")


def write_answers(
    arguments: dict[str, str],
    restored: RestoredRun,
    texts: list[tuple[int, str]],
    what: str,
    unit: str,
) -> dict[str, Any]:
    """``texts`` (numbered) classified: one row each (its number, label, probabilities, the
    text) in ``out`` (predictions.csv), never over an existing file; a summary printed."""
    out = new_file(arguments, "predictions.csv")
    if not texts:
        raise SeqlabError(f"the {what} hold no text to classify")
    _, datamodule, task = restored
    labels = task.spec.target_names
    parts = []
    for start in range(0, len(texts), 256):  # a long file in batches of texts
        batch = [text for _, text in texts[start : start + 256]]
        parts.append(answers(task, datamodule, batch))
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, unit, [number for number, _ in texts])
    table["text"] = [text for _, text in texts]
    write_text_atomic(out, table.to_csv(index=False))
    counts = table["label"].value_counts()
    summary = ", ".join(f"{counts.get(label, 0):,} {label}" for label in labels)
    print(f"{len(table):,} {what}: {summary}; one row per {unit} in {out}")
    return {
        "predictions": str(out),
        f"{unit}s": len(table),
        **{k: int(v) for k, v in counts.items()},
    }


def predict(arguments: dict[str, str]) -> dict[str, Any]:
    """Sentiment and probability of one text, of each line of a file, or a CSV's forecast;
    prints and returns them."""
    if "csv" in arguments:
        return answer_csv(arguments)
    if "file" in arguments:
        return classify_lines(arguments)
    text = as_text(arguments["text"])
    _, datamodule, task = restore_run(
        arguments["ckpt_path"], configured_paths(), stage=None, check=classifies_text
    )
    result = answers(task, datamodule, [text]).iloc[0].to_dict()
    words = len(text.split())
    result["words"] = words
    note = "" if words else " (empty text: the model's answer for no words at all)"
    if "probability_positive" in result:
        shown = f"p(pos) = {result['probability_positive']:.3f}"
    else:  # every class's probability, the likeliest first
        ranked = sorted((k for k in result if k.startswith("p_")), key=lambda k: -result[k])
        shown = ", ".join(f"p({k[2:]}) = {result[k]:.3f}" for k in ranked)
    print(f"{result['label']} ({shown}, {words:,} words){note}")
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return predict(parse_arguments(sys.argv[1:] if argv is None else argv))
