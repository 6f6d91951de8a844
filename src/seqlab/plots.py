"""Pictures people would rather look at than read."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402


def plot_forecast(
    predictions: torch.Tensor,
    targets: torch.Tensor,
    path: Path,
    title: str,
    unit: str,
    steps: int = 24 * 14,
) -> Path:
    """Forecast against truth over the first ``steps`` consecutive test targets."""
    truth = targets[:steps, 0].numpy()
    guess = predictions[:steps, 0].numpy()
    mae = float(abs(truth - guess).mean())
    fig, ax = plt.subplots(figsize=(11, 3.8), layout="constrained")
    ax.plot(truth, label="truth", color="black", linewidth=1.2)
    ax.plot(guess, label=f"forecast (MAE {mae:.2f} {unit} on this stretch)", color="tab:orange")
    ax.set_xlabel("test sample (consecutive windows)")
    ax.set_ylabel(unit)
    ax.set_title(title)
    ax.legend(loc="upper right")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
