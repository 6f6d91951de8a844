"""The leaderboard's entries: every ``conf/experiment/`` file, its references with their sources,
and what the board says about each data set (``conf/leaderboard.yaml``).

Nothing on the board is typed by hand: the reference numbers, each with its source, come from
each experiment's own ``leaderboard.reference`` block (``{test/mae: {value: 2.53, source: "…"}}``),
a row's remarks from its ``leaderboard.notes``, the data set from its composed configuration, and
the sentences under a data set's heading from its sheet in ``conf/leaderboard.yaml``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from seqlab.errors import ConfigError
from seqlab.run.compose import CONFIG_DIR, ROOT

EXPERIMENTS = CONFIG_DIR / "experiment"
SHEETS = CONFIG_DIR / "leaderboard.yaml"  # per data set: what its table is read against
RUNS = ROOT / "logs" / "leaderboard"  # one folder per entry and seed


def entries(only: str | None) -> list[tuple[str, dict[str, Any]]]:
    """(name, leaderboard block with its ``data`` set) of every experiment, or of one data set.

    The block is the experiment file's own (an entry that extends another does not inherit its
    references); the data set is the one the composed experiment trains on: the module of its
    DataModule (``seqlab.data.chicago``), so that ``data=chicago_multistep`` counts as chicago.
    """
    found = []
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        for path in sorted(EXPERIMENTS.glob("*.yaml")):
            board = OmegaConf.to_container(OmegaConf.load(path)).get("leaderboard", {}) or {}
            if "data" not in board:
                cfg = compose("train", overrides=[f"experiment={path.stem}"])
                board["data"] = str(cfg.data._target_).rsplit(".", 2)[-2]
            board["reference"] = references(path.stem, board.get("reference"))
            if only is None or board["data"] == only:
                found.append((path.stem, board))
    GlobalHydra.instance().clear()
    return found


def references(name: str, block: Any) -> dict[str, dict[str, Any]]:
    """An entry's ``leaderboard.reference`` as ``{"test/mae": {"value": 2.53, "source": …}}``.

    A number without its source (the deck file and section, or the book or notebook it is
    from) is refused: a reader must be able to look every reference up.
    """
    found = {}
    for key, ref in (block or {}).items():
        value = ref.get("value") if isinstance(ref, dict) else None
        source = str(ref.get("source") or "").strip() if isinstance(ref, dict) else ""
        split = str(key).partition("/")[0]
        if split not in ("val", "test") or not isinstance(value, int | float) or not source:
            raise ConfigError(
                f"conf/experiment/{name}.yaml: leaderboard.reference.{key} needs a split, a value "
                f'and its source, e.g. test/mae: {{value: 2.53, source: "000 · Simple LSTM"}}'
            )
        found[str(key)] = {"value": float(value), "source": source}
    return found


def with_references(frame: pd.DataFrame, found: list[tuple[str, dict[str, Any]]]) -> pd.DataFrame:
    """``frame`` with every row's reference and source taken from today's experiment files, so
    that rows kept from an earlier board (``--only``) never show a corrected number's old value."""
    frame = frame.copy()
    for column in ("reference", "reference_source"):
        if column not in frame:
            frame[column] = None
    frame["reference_source"] = frame["reference_source"].astype(object)
    for name, board in found:
        mine = frame["entry"] == name
        frame.loc[mine, ["reference", "reference_source"]] = [None, None]
        for key, ref in references(name, board.get("reference")).items():
            split, _, metric = key.partition("/")
            at = mine & (frame["split"] == split) & (frame["metric"] == metric)
            frame.loc[at, "reference"] = ref["value"]
            frame.loc[at, "reference_source"] = ref["source"]
    return frame


def command(name: str, seeds: list[int], threads: int, prepare: str | None = None) -> str:
    """The command that reproduces a row: the entry at the thread count it ran with, for one seed,
    or several as one Hydra multirun. The thread count is in it because it moves the digits; a
    ``prepare`` command (word vectors) gets it through OMP_NUM_THREADS, as the board ran it."""
    if len(seeds) == 1:
        line = f"python train.py experiment={name} threads={threads} seed={seeds[0]}"
    else:
        listed = ",".join(str(seed) for seed in seeds)
        line = f"python train.py -m experiment={name} threads={threads} seed={listed}"
    return f"OMP_NUM_THREADS={threads} {prepare} && {line}" if prepare else line


def sheet(data: str) -> dict[str, Any]:
    """A data set's sheet in ``conf/leaderboard.yaml`` (``intro``, ``figure_splits``,
    ``figure_panels``), or an empty one."""
    sheets = OmegaConf.to_container(OmegaConf.load(SHEETS)) if SHEETS.is_file() else {}
    return sheets.get(data) or {}
