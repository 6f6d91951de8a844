"""Test helpers: tiny upstream-format data, the data mirror, the real configs composed for tests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from seqlab.run.compose import compose_run

ROOT = Path(__file__).resolve().parents[1]
JENA_COLUMNS = [
    "p (mbar)",
    "T (degC)",
    "Tpot (K)",
    "Tdew (degC)",
    "rh (%)",
    "VPmax (mbar)",
    "VPact (mbar)",
    "VPdef (mbar)",
    "sh (g/kg)",
    "H2OC (mmol/mol)",
    "rho (g/m**3)",
    "wv (m/s)",
    "max. wv (m/s)",
    "wd (deg)",
]
HOURLY_COLUMNS = ["p (mbar)", "T (degC)", "Tdew (degC)", "rh (%)", "VPmax (mbar)", "wv (m/s)"]


def jena_rows(count: int, minutes: int, columns: list[str], seed: int = 0) -> list[str]:
    """CSV lines in the Keras file's format: a daily temperature cycle plus noise."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2009-01-01T00:10")
    lines = ['"Date Time",' + ",".join(f'"{c}"' for c in columns)]
    for i in range(count):
        stamp = (start + np.timedelta64(i * minutes, "m")).astype(object)
        hours = i * minutes / 60
        temperature = 5 + 8 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 0.5)
        values = [
            1000 + rng.normal(0, 3) if c.startswith("p ") else rng.normal(0, 1) for c in columns
        ]
        values[columns.index("T (degC)")] = temperature
        lines.append(stamp.strftime("%d.%m.%Y %H:%M:%S,") + ",".join(f"{v:.2f}" for v in values))
    return lines


def git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def mirror_dir() -> Path:
    """The real data mirror. Integration tests fail (never skip) without it: CI always has it."""
    value = os.environ.get("SEQLAB_DATA_DIR")
    assert value, (
        "integration tests need SEQLAB_DATA_DIR pointing at the data mirror (../shared/data)"
    )
    path = Path(value)
    return path if path.is_absolute() or path.exists() else ROOT / path


compose_train = compose_run  # the real conf/train.yaml with overrides, as a Hydra run sets it up


TINY_RUN = [
    "trainer=cpu",
    "trainer.max_epochs=2",
    "+trainer.limit_train_batches=3",
    "+trainer.limit_val_batches=2",
    "+trainer.limit_test_batches=2",
    "callbacks.progress=null",
    "trainer.log_every_n_steps=1",
    "data.batch_size=32",
    "data.sequence_length=24",
    "data.delay=6",
]
# the part of TINY_RUN an evaluation of a checkpoint takes (conf/eval.yaml has no data group)
TINY_EVAL = [o for o in TINY_RUN if o.startswith(("+trainer.limit", "trainer=", "callbacks"))]


# a Verne language model that runs in a second: short windows, few streams, a 30-character sample
TINY_VERNE = [
    "data=verne",
    "data.sequence_length=16",
    "data.batch_size=4",
    "data.eval_streams=2",
    "data.sample_length=30",
]
