"""Option values checked before any data are read: ``trainer.max_epochs=abc`` is one line.

Hydra checks that a key exists, not what its value may be (the configs are untyped on purpose:
each ``_target_`` takes its own arguments). The numeric options people type most are checked
here, each with what it accepts; choices that belong to one class (``model.cell``) are checked by
that class's constructor, which the run builds before it loads data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, get_args

from omegaconf import DictConfig, OmegaConf

from seqlab.errors import ConfigError


@dataclass(frozen=True)
class Number:
    """A number option: whole or real, with bounds, optionally ``null``."""

    whole: bool = False
    minimum: float | None = None
    below: float | None = None  # exclusive upper bound
    positive: bool = False
    nullable: bool = False
    excluded: tuple[float, ...] = ()
    note: str = ""

    def allowed(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        bounds = []
        if self.positive:
            bounds.append("> 0")
        if self.minimum is not None:
            bounds.append(f">= {self.minimum:g}")
        if self.below is not None:
            bounds.append(f"< {self.below:g}")
        text = f"{kind} {' and '.join(bounds)}".strip()
        if self.excluded:
            text += f" but not {', '.join(f'{x:g}' for x in self.excluded)}"
        if self.nullable:
            text += " or null"
        return text + (f" ({self.note})" if self.note else "")

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.nullable
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.whole and not isinstance(value, int):
            return False
        if not math.isfinite(value):
            return False
        if self.positive and value <= 0:
            return False
        if self.minimum is not None and value < self.minimum:
            return False
        if value in self.excluded:
            return False
        return self.below is None or value < self.below


@dataclass(frozen=True)
class Choice:
    """An option taking one of a few values (``true``/``false``, a precision's name)."""

    values: tuple[Any, ...]
    note: str = ""

    def allowed(self) -> str:
        shown = (str(v).lower() if isinstance(v, bool) else str(v) for v in self.values)
        names = ", ".join(dict.fromkeys(shown))
        return f"one of {names}" + (f" ({self.note})" if self.note else "")

    def accepts(self, value: Any) -> bool:
        # True == 1 in Python: a boolean option takes booleans only, and the others no booleans
        return any(
            value == v and isinstance(value, bool) == isinstance(v, bool) for v in self.values
        )


def precisions() -> tuple[Any, ...]:
    """What Lightning's ``Trainer(precision=...)`` takes."""
    from lightning.fabric.connector import (
        _PRECISION_INPUT_INT,
        _PRECISION_INPUT_STR,
        _PRECISION_INPUT_STR_ALIAS,
    )

    return tuple(
        v
        for kind in (_PRECISION_INPUT_STR, _PRECISION_INPUT_STR_ALIAS, _PRECISION_INPUT_INT)
        for v in get_args(kind)
    )


BOOLEAN = Choice((True, False))
WHOLE_POSITIVE = Number(whole=True, minimum=1)
FRACTION = Number(minimum=0, below=1)

OPTIONS: dict[str, Number | Choice] = {
    "seed": Number(whole=True, minimum=0),
    "threads": Number(whole=True, minimum=1, nullable=True, note="null: torch's default"),
    "trainer.max_epochs": Number(
        whole=True, minimum=-1, excluded=(0,), nullable=True, note="-1: no limit"
    ),
    "trainer.min_epochs": Number(whole=True, minimum=0, nullable=True),
    "trainer.max_steps": Number(whole=True, minimum=-1, note="-1: no limit"),
    "trainer.log_every_n_steps": WHOLE_POSITIVE,
    "trainer.check_val_every_n_epoch": Number(whole=True, minimum=1, nullable=True),
    "trainer.accumulate_grad_batches": WHOLE_POSITIVE,
    "trainer.gradient_clip_val": Number(positive=True, nullable=True),
    "trainer.precision": Choice(precisions(), note="bf16-mixed: the CPU's bfloat16 units"),
    "trainer.accelerator": Choice(("auto", "cpu", "gpu", "cuda", "mps", "tpu")),
    "trainer.deterministic": Choice((True, False, "warn")),
    "data.batch_size": WHOLE_POSITIVE,
    "data.sequence_length": WHOLE_POSITIVE,
    "data.num_workers": Number(whole=True, minimum=0),
    "data.train_fraction": Number(positive=True, below=1),
    "data.val_fraction": Number(positive=True, below=1),
    "data.test_fraction": Number(positive=True, below=1),
    "model.hidden_size": WHOLE_POSITIVE,
    "model.num_layers": WHOLE_POSITIVE,
    "model.embedding_dim": WHOLE_POSITIVE,
    "model.bidirectional": BOOLEAN,
    "model.variational": BOOLEAN,
    "model.dropout": FRACTION,
    "model.output_dropout": FRACTION,
    "model.weight_drop": FRACTION,
    "task.optimizer.lr": Number(positive=True),
    "task.optimizer.weight_decay": Number(minimum=0),
}


# generate.py's own options (conf/generate.yaml)
SAMPLING: dict[str, Number] = {
    "length": Number(whole=True, minimum=1, nullable=True, note="tokens to generate"),
    "temperature": Number(minimum=0, nullable=True, note="0: greedy"),
    "top_k": Number(whole=True, minimum=1, nullable=True),
    "seed": Number(whole=True, minimum=0),
}


def check_options(cfg: DictConfig, options: dict[str, Number | Choice] = OPTIONS) -> None:
    """Raise one ``ConfigError`` naming the first option whose value cannot work."""
    for key, rule in options.items():
        if OmegaConf.select(cfg, key, default="<absent>") == "<absent>":
            continue
        value = OmegaConf.select(cfg, key)
        if not rule.accepts(value):
            raise ConfigError(f"{key}={value!r} is not allowed: use {rule.allowed()}")
    check_accelerator(OmegaConf.select(cfg, "trainer.accelerator", default=None))


def check_accelerator(accelerator: str | None) -> None:
    """A GPU asked for on a machine whose torch sees none: one line, not Lightning's trace."""
    import torch

    cuda, mps = torch.cuda.is_available, torch.backends.mps.is_available
    kinds = {
        "gpu": ("GPU", lambda: cuda() or mps()),
        "cuda": ("CUDA GPU", cuda),
        "mps": ("Apple GPU (MPS)", mps),
    }
    if str(accelerator) not in kinds:
        return
    name, available = kinds[str(accelerator)]
    if not available():
        raise ConfigError(
            f"trainer.accelerator={accelerator}, but torch sees no {name} "
            "on this machine; use trainer.accelerator=cpu (or auto, which picks what there is)"
        )
