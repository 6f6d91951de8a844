"""A finished run's pictures and media, for every task kind: the one step that draws.

Tasks compute numbers and offer them through their declared capabilities
(`seqlab.tasks.capabilities`); this step turns them into files in the run folder — forecasts
against the truth, a confusion matrix, a generated sample, the attention weights of a net that
attends — and hands them to the loggers that keep media (W&B). matplotlib is imported only here
and in `seqlab.media`, when a run draws.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.loggers import WandbLogger

from seqlab.data.base import DatedData, LanguageData
from seqlab.tasks.base import SeqlabTask
from seqlab.tasks.capabilities import Classifier, Forecaster, Forecasts, Generator


def write_artifacts(
    task: L.LightningModule,
    datamodule: L.LightningDataModule | None,
    output_dir: Path,
    title: str,
    loggers: list[Any] = (),
) -> list[Path]:
    """Every picture and sample ``task``'s last test pass (and its data) offers, in
    ``output_dir``; the files are also logged to the loggers that keep media."""
    paths: list[Path] = []
    if isinstance(task, Forecaster) and (forecasts := task.test_forecasts()) is not None:
        paths += forecast_pictures(forecasts, datamodule, output_dir, title)
    if isinstance(task, Classifier) and (confusion := task.test_confusion_matrix()) is not None:
        from seqlab.media.plots import plot_confusion

        matrix, labels = confusion
        paths.append(plot_confusion(matrix, labels, output_dir / "confusion_matrix.png", title))
    if isinstance(task, Generator) and isinstance(datamodule, LanguageData):
        info = task.write_sample(datamodule, output_dir / "sample")
        paths += [Path(f) for f in info["files"]]
    paths += attention_picture(task, output_dir, title)
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            log_media(logger, paths)
    return paths


def forecast_pictures(forecasts: Forecasts, data: Any, output_dir: Path, title: str) -> list[Path]:
    """forecast.png (the first target against the truth and the naive forecast on a stretch
    of the test split, dated where the data are) and, for several horizon steps, horizons.png."""
    from seqlab.media.plots import plot_fan, plot_forecast

    predictions, targets, naive, spec = forecasts
    name, unit = spec.target_names[0], spec.unit
    stretch, times = slice(None), None
    if isinstance(data, DatedData):
        times = data.target_times("test")[: len(predictions)]  # all, unless batches are limited
        stretch = data.plot_stretch(times)
    season = spec.season
    paths = [
        plot_forecast(
            predictions[stretch],
            targets[stretch],
            output_dir / "forecast.png",
            title=f"{title}: {name}, test split",
            unit=unit,
            naive=None if naive is None else naive[stretch],
            naive_label=f"seasonal naive (lag {season})" if season > 1 else "naive",
            times=None if times is None else times[stretch],
        )
    ]
    if spec.horizon > 1:
        paths.append(
            plot_fan(
                predictions[stretch],
                targets[stretch],
                output_dir / "horizons.png",
                title=f"{title}: {name}, {spec.horizon}-step forecasts, test split",
                unit=unit,
                times=None if times is None else times[stretch],
            )
        )
    return paths


def attention_picture(task: L.LightningModule, output_dir: Path, title: str) -> list[Path]:
    """What the architecture offers to be drawn, whatever the task: the attention weights of
    the first window of the last test batch (``attention.png``), for a net that attends."""
    weights = task.net.attention_map() if isinstance(task, SeqlabTask) else None
    if weights is None:
        return []
    from seqlab.media.plots import plot_attention

    name = f"{title}: attention, a test window"
    return [plot_attention(weights[0].cpu(), output_dir / "attention.png", name)]


def log_media(logger: WandbLogger, files: list[Path]) -> None:
    """Generated text, sound and pictures into the W&B run (MIDI files as run files)."""
    import wandb

    media: dict[str, Any] = {}
    for path in files:
        key = f"samples/{path.name}" if path.stem == "sample" else f"pictures/{path.name}"
        if path.suffix == ".txt":
            text = path.read_text(encoding="utf-8")
            media[key] = wandb.Html(f"<pre>{html.escape(text)}</pre>")
        elif path.suffix == ".wav":
            media[key] = wandb.Audio(str(path))
        elif path.suffix == ".png":
            media[key] = wandb.Image(str(path))
        else:
            logger.experiment.save(str(path), base_path=str(path.parent), policy="now")
    if media:
        logger.experiment.log(media)
