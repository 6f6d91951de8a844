"""The leaderboard as pictures: one figure per data set, next to LEADERBOARD.md.

Each entry's mean over seeds with a ± std whisker, its reference as a marker labelled with
where the number comes from, the parameter-free baselines as lines a model must clear; entries
sorted by the metric, the best highlighted. Chicago's validation and test side by side; the
Weather set's horizons each in their own panel.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import StrMethodFormatter

from seqlab.files import atomic_path
from seqlab.media.plots import plt

# metrics where higher is better; every other metric (MAE, bpc, loss) is better lower
HIGHER_IS_BETTER = ("acc", "f1", "auroc")
# models that learn nothing: the floor every other row is read against
BASELINES = ("naive", "seasonal_naive", "majority")


def higher_is_better(metric: str) -> bool:
    return metric.split("_")[0] in HIGHER_IS_BETTER


def summary(rows: pd.DataFrame, split: str, metric: str) -> pd.DataFrame:
    """Per entry: mean and std over seeds (std 0 for one seed), its reference and source, and
    whether it is a baseline; sorted best first."""
    part = rows[(rows["split"] == split) & (rows["metric"] == metric)]
    table = part.groupby("entry", sort=False).agg(
        mean=("value", "mean"),
        std=("value", "std"),
        seeds=("value", "size"),
        model=("model", "first"),
        reference=("reference", "first"),
        source=("reference_source", "first"),
    )
    table["std"] = table["std"].fillna(0.0)
    table["baseline"] = table["model"].isin(BASELINES)
    return table.sort_values("mean", ascending=not higher_is_better(metric))


def panel_tables(
    rows: pd.DataFrame, metric: str, splits: list[str], groups: dict[str, str] | None = None
) -> list[tuple[str, pd.DataFrame]]:
    """(title, `summary`) of each panel: one per split, or per group and split (``group: split``)
    holding only the entries whose names match the group's pattern."""
    if not groups:
        return [(split, summary(rows, split, metric)) for split in splits]
    return [
        (f"{title}: {split}", summary(rows[rows["entry"].str.contains(pattern)], split, metric))
        for title, pattern in groups.items()
        for split in splits
    ]


def plot_board(
    rows: pd.DataFrame,
    data: str,
    metric: str,
    splits: list[str],
    unit: str,
    path: Path,
    groups: dict[str, str] | None = None,
) -> Path:
    """One panel per split of ``data``'s entries on ``metric`` (leaderboard.csv's rows); the
    references are numbered on the plot and their sources listed under it. ``groups``: one panel
    per group of entries instead (title → a pattern their names match: the Weather set's
    horizons), since entries of different horizons are not read against each other."""
    titled = panel_tables(rows, metric, splits, groups)
    panels = [table for _, table in titled]
    shared = not groups  # the same entries in every panel: one order, one axis of names
    order = panels[0].index.tolist()
    columns = min(len(panels), 2)
    grid_rows = -(-len(panels) // columns)
    sources = list(dict.fromkeys(s for t in panels for s in t["source"].dropna()))
    caption = "\n".join(
        textwrap.fill(f"[{i}] {source}", 60 * columns + 40) for i, source in enumerate(sources, 1)
    )
    lines = caption.count("\n") + 1 if caption else 0
    entries = max(len(t) for t in panels)
    height = grid_rows * (1.2 + 0.32 * entries) + 0.4 + 0.17 * lines
    fig, axes = plt.subplots(
        grid_rows,
        columns,
        figsize=(6.5 * columns + (0 if shared else 1.5), height),
        sharey=shared,
        layout="constrained",
        squeeze=False,
    )
    below = 0.17 * lines / height
    fig.get_layout_engine().set(rect=(0, below, 1, 1 - below))
    if caption:
        fig.text(0.01, 0.01, caption, fontsize=7, color="tab:red", va="bottom")
    for ax, (title, table) in zip(axes.flat, titled, strict=False):
        draw_panel(ax, table.reindex(order) if shared else table, metric, sources)
        label = f"{title.rpartition(': ')[2]} {metric}" + (f" ({unit})" if unit else "")
        ax.set_xlabel(label)
        if groups:
            ax.set_title(title.rpartition(": ")[0], fontsize=9)
    for ax in list(axes.flat)[len(titled) :]:
        ax.set_visible(False)
    better = "higher" if higher_is_better(metric) else "lower"
    fig.suptitle(
        f"{data}: {metric}, {better} is better (best in green, baselines dotted)", fontsize=10
    )
    with atomic_path(path, suffix=".tmp.png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def draw_panel(ax: plt.Axes, table: pd.DataFrame, metric: str, sources: list[str]) -> None:
    """The entries of one split, best at the top, each reference a numbered cross."""
    order = table.index.tolist()
    y = np.arange(len(order))[::-1]
    learned = table.loc[~table["baseline"], "mean"]
    best = (
        (learned.idxmax() if higher_is_better(metric) else learned.idxmin())
        if len(learned)
        else None
    )
    colors = [
        "tab:green" if e == best else "grey" if table.loc[e, "baseline"] else "tab:blue"
        for e in order
    ]
    ax.errorbar(
        table["mean"],
        y,
        xerr=table["std"],
        fmt="o",
        color="tab:blue",
        ecolor="black",
        capsize=3,
        label="mean ± std over seeds",
    )
    ax.scatter(table["mean"], y, c=colors, zorder=3)
    for floor in table.loc[table["baseline"], "mean"]:
        ax.axvline(floor, color="grey", linestyle=":", linewidth=1)
    referenced = table[table["reference"].notna()]
    if len(referenced):
        where = [y[order.index(entry)] for entry in referenced.index]
        ax.scatter(
            referenced["reference"],
            where,
            marker="x",
            color="tab:red",
            zorder=4,
            label="reference [source below]",
        )
        for source, value, at in zip(
            referenced["source"], referenced["reference"], where, strict=True
        ):
            mark = f"[{sources.index(source) + 1}]" if source in sources else "[?]"
            ax.annotate(
                mark,
                (value, at),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=7,
                color="tab:red",
            )
    ax.set_yticks(y, [f"{e}{'' if table.loc[e, 'seeds'] > 1 else ' (1 seed)'}" for e in order])
    if table["mean"].abs().max() >= 1000:
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right" if higher_is_better(metric) else "lower left")
