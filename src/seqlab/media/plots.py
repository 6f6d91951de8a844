"""Pictures people would rather look at than read."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def plot_forecast(
    predictions: torch.Tensor,
    targets: torch.Tensor,
    path: Path,
    title: str,
    unit: str,
    steps: int = 24 * 14,
    naive: torch.Tensor | None = None,
    naive_label: str = "naive",
    times: np.ndarray | None = None,
) -> Path:
    """Forecast against truth over the first ``steps`` consecutive test targets.

    With ``naive``, the naive forecaster's too, the bar the model must clear; with ``times``
    (the date of each target), the time axis shows dates, so a reader sees when the series broke.
    """
    truth = targets[:steps, 0].numpy()
    when = np.arange(len(truth)) if times is None else times[:steps]
    fig, ax = plt.subplots(figsize=(11, 3.8), layout="constrained")
    ax.plot(when, truth, label="truth", color="black", linewidth=1.2)
    lines = [(naive_label, naive, "tab:blue"), ("forecast", predictions, "tab:orange")]
    for label, values, color in lines:
        if values is not None:
            guess = values[:steps, 0].numpy()
            mae = _amount(float(abs(truth - guess).mean()))
            ax.plot(when, guess, label=f"{label} (MAE {mae} {unit} here)", color=color)
    if times is not None:
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    return _save(fig, ax, path, title, unit, "date of the target" if times is not None else None)


def _amount(value: float) -> str:
    """An error as people read it: 23,456 riders, 2.38 °C."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def plot_fan(
    predictions: torch.Tensor,
    targets: torch.Tensor,
    path: Path,
    title: str,
    unit: str,
    steps: int = 120,
    times: np.ndarray | None = None,
) -> Path:
    """Multi-step forecasts as a fan: from every ``horizon``-th window, its whole forecast path.

    ``predictions`` / ``targets`` are ``(windows, horizon)`` over consecutive windows, so the
    truth is each window's first target and window ``i``'s step ``k`` lands on day ``i + k``;
    with ``times`` (each window's first target date, evenly spaced) the axis shows dates.
    """
    horizon = predictions.shape[1]
    truth = targets[:steps, 0].numpy()
    if times is None:
        when = np.arange(len(truth) + horizon)
    else:
        spacing = times[1] - times[0] if len(times) > 1 else np.timedelta64(1, "D")
        when = times[0] + spacing * np.arange(len(truth) + horizon)
    fig, ax = plt.subplots(figsize=(11, 3.8), layout="constrained")
    ax.plot(when[: len(truth)], truth, label="truth", color="black", linewidth=1.2)
    for origin in range(0, min(steps, len(predictions)), horizon):
        span = when[origin : origin + horizon]
        label = f"forecast t+1…t+{horizon}" if origin == 0 else None
        ax.plot(span, predictions[origin].numpy(), color="tab:orange", alpha=0.8, label=label)
        ax.plot(when[origin], predictions[origin, 0].item(), "o", color="tab:orange", markersize=3)
    if times is not None:
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    return _save(
        fig, ax, path, title, unit, "date of the first target" if times is not None else None
    )


def _save(
    fig: plt.Figure, ax: plt.Axes, path: Path, title: str, unit: str, xlabel: str | None = None
) -> Path:
    """Label a forecast figure's axes, write it to ``path`` and free it."""
    ax.set_xlabel(xlabel or "test sample (consecutive windows)")
    ax.set_ylabel(unit)
    ax.set_title(title)
    ax.legend(loc="upper right")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_future_of(
    past: np.ndarray, future: np.ndarray, lead: int, name: str, unit: str, path: Path
) -> Path:
    """A series' last window and its forecast, steps counted from the last known row."""
    fig, ax = plt.subplots(figsize=(11, 3.8), layout="constrained")
    ax.plot(
        np.arange(-len(past) + 1, 1), past, label=f"{name}: the file's last rows", color="black"
    )
    steps = np.arange(lead, lead + len(future))
    ax.plot(
        steps, future, label="forecast", color="tab:orange", marker="." if len(steps) < 50 else None
    )
    return _save(
        fig,
        ax,
        path,
        f"{name}: forecast after the file's last row",
        unit,
        "steps from the last row",
    )


def plot_confusion(matrix: torch.Tensor, labels: tuple[str, ...], path: Path, title: str) -> Path:
    """A confusion matrix with counts and row percentages (rows: truth, columns: prediction)."""
    counts = matrix.long().numpy()
    shares = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
    fig, ax = plt.subplots(figsize=(4.6, 4.0), layout="constrained")
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (row, col), count in np.ndenumerate(counts):
        color = "white" if shares[row, col] > 0.5 else "black"
        text = f"{count:,}\n{shares[row, col]:.1%}"
        ax.text(col, row, text, ha="center", va="center", color=color)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"{title}\ntest accuracy {accuracy:.2%}", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_attention(weights: torch.Tensor, path: Path, title: str) -> Path:
    """Attention weights of one window as a heat map: a row per output step (forecast step),
    a column per input step it could attend to, each row summing to 1."""
    queries, keys = weights.shape
    fig, ax = plt.subplots(figsize=(min(3 + keys * 0.12, 12), 1.6 + queries * 0.25))
    image = ax.imshow(weights.float().numpy(), aspect="auto", cmap="viridis", vmin=0)
    fig.colorbar(image, ax=ax, label="weight")
    ax.set_xlabel(f"window step (1 … {keys}; {keys} is the latest)")
    ax.set_ylabel("output step")
    ax.set_xticks(range(0, keys, max(keys // 8, 1)), range(1, keys + 1, max(keys // 8, 1)))
    ax.set_yticks(range(queries), [f"t+{q + 1}" for q in range(queries)])
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
