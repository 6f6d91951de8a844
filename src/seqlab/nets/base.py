"""What every architecture declares so the task can wire it to any compatible data set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from seqlab.spec import TaskSpec


class OneHot(nn.Module):
    """Token ids → one-hot vectors as wide as the vocabulary (the reference's one-hot input)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(ids, self.size).float()


def per_step_incompatibility(spec: TaskSpec) -> str | None:
    """Why forecasts at every time step cannot be trained on ``spec``, or None: the task reads
    the targets of the earlier steps off the window, so the targets must continue the inputs."""
    if spec.kind != "forecasting":
        return "it forecasts at every time step, which only a forecasting task scores"
    if not spec.target_index or spec.lead != 1:
        return (
            "it needs targets that continue its input series (the target columns among the "
            "inputs, the first target the step after the window; on Jena set "
            "data.horizon=data.delay)"
        )
    return None


@dataclass(frozen=True)
class NetInput:
    """What every net receives, from every task, in one call: ``net(NetInput(x, ...))``.

    ``x`` is the window, ``(batch, time, features)`` (token ids ``(batch, time)`` for a net that
    reads tokens). Beside it a task passes what it knows, and a net reads what it uses:
    ``lengths``, the true lengths of right-padded sequences (texts), so padding never reaches
    the features; ``future``, the known covariates of each target step, and, in training,
    ``teacher``, the targets for teacher forcing at training ``epoch`` (encoder–decoders);
    ``state``, what a language model carried from the previous batch or generation step;
    ``channel``, which of the ``spec.channels`` series each window is when every channel is its
    own window (``task.channels=independent``).
    """

    x: torch.Tensor
    lengths: torch.Tensor | None = None
    future: torch.Tensor | None = None
    teacher: torch.Tensor | None = None
    epoch: int = 0
    state: Any = None
    channel: torch.Tensor | None = None


class SequenceNet(nn.Module):
    """Base of the architectures: ``forward(NetInput)`` maps the window ``inputs.x``,
    ``(batch, time, features)``, to features ``(batch, output_size)``; a language model's net
    returns ``(features at every step, state)``.

    ``output_size`` is the width of those features; the task puts a linear head on top, unless
    ``predicts_targets`` says the net already returns predictions (the baselines).
    """

    input_kinds: frozenset[str] = frozenset({"real"})
    task_kinds: frozenset[str] = frozenset({"forecasting", "classification"})
    predicts_targets: bool = False
    # per_step: features at every time step, ``(batch, time, output_size)`` (seq2seq models);
    # a net may offer it as an option instead (``model.per_step``, WaveNet). Either way the data
    # must let the task score every step (`per_step_incompatibility`).
    per_step: bool = False
    # fixed_length: the net's weights depend on the number of steps (it flattens the window), so
    # every sample must have the spec's ``sequence_length`` steps; texts of any length will not do
    fixed_length: bool = False
    # carries_state (language models): the state ``forward`` returns continues the
    # text in the next batch, so the task may carry it (truncated BPTT). False: the net reads
    # fixed contexts (a transformer), its state only steps generation, and every window is
    # trained and scored on its own.
    carries_state: bool = True
    output_size: int

    def __call__(self, inputs: NetInput | torch.Tensor, **fields: Any) -> Any:
        """``net(NetInput(x, ...))``, as every task calls it; ``net(x)`` or ``net(x, lengths=…)``
        is short for it (a notebook, a test)."""
        if not isinstance(inputs, NetInput):
            inputs = NetInput(inputs, **fields)
        elif fields:
            raise TypeError("give the fields of a NetInput in it, not beside it")
        return super().__call__(inputs)

    @classmethod
    def check_options(cls, **options: Any) -> None:
        """Refuse option values that cannot work whatever the data (``model.cell=foo``) with a
        ``ConfigError`` naming the ``model.*`` key. Called with the options a config sets before
        any data are read, and by ``__init__`` with all of them."""

    @classmethod
    def incompatibility(cls, spec: TaskSpec, **options: Any) -> str | None:
        """Why this architecture, built with ``options`` (the ``model.*`` keys it will get),
        cannot serve ``spec``, or None when it can. One clause for an error line, ideally with
        the option that fixes it."""
        if spec.kind not in cls.task_kinds:
            return f"it serves {' / '.join(sorted(cls.task_kinds))} tasks, not {spec.kind}"
        if spec.input_kind not in cls.input_kinds:
            return f"it reads {' / '.join(sorted(cls.input_kinds))} inputs, not {spec.input_kind}"
        if cls.fixed_length and spec.sequence_length is None:
            return (
                f"it flattens a fixed-length window, and data={spec.data_name}'s samples vary in "
                "length; pad them to one length (data=imdb: data.pad_to=600) or choose a model "
                "that reads any length (e.g. model=text_cnn, model=gru; or model=bow with "
                "data.output_mode=multi_hot)"
            )
        if options.get("per_step", cls.per_step):
            steps = per_step_incompatibility(spec)
            if steps is not None and "per_step" in options:
                return f"with model.per_step=true {steps}; or set model.per_step=false"
            return steps
        return None

    def attention_map(self) -> torch.Tensor | None:
        """Attention weights of the last forward pass, ``(batch, queries, keys)``, which the
        task draws as a heat map (``attention.png``); None for nets that do not attend."""
        return None

    def one_hot_input(self, vocabulary: int) -> nn.Module:
        """What feeds token ids to this net, built for ``vocabulary``-wide inputs, as one-hot
        vectors (``task.one_hot``): dense vectors here. A net whose first layer is linear in its
        input can compute the same as a lookup instead (`Recurrent.one_hot_input`)."""
        return OneHot(vocabulary)


@runtime_checkable
class FitsLabels(Protocol):
    """A baseline set from the training labels before evaluation, never trained
    (`baselines.Majority`): the classification task hands it every training label."""

    def fit_labels(self, labels: torch.Tensor) -> None: ...
