"""Recurrent stacks (simple RNN, LSTM, GRU): the one place recurrent layers are built, on
PyTorch's fused kernels or (``model.impl=scratch``) on the cells of `seqlab.nets.cells`."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

import torch
from torch import nn

from seqlab.errors import ConfigError
from seqlab.nets import cells
from seqlab.nets.base import NetInput, SequenceNet
from seqlab.nets.cells import ScratchStack, reverse
from seqlab.nets.regularization import drop_hidden_weights, flat_weights
from seqlab.spec import TaskSpec

CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
ALL_CELLS = tuple(cells.CELLS)  # the fused ones and those only the scratch cells offer
DECODERS = {
    "head": "a linear head on the final state",
    "segments": "one recurrent step per output segment, SegRNN's parallel decoder",
}
IMPLS = {
    "fused": "PyTorch's kernels",
    "scratch": "the cells of seqlab/nets/cells.py, step by step",
}


def described(choices: dict[str, str]) -> str:
    """An option's values with what each means, for an error line: ``a (…) or b (…)``."""
    return " or ".join(f"{name} ({what})" for name, what in choices.items())


def check_cell(cell: str, allowed: Collection[str]) -> None:
    """Refuse a ``model.cell`` outside ``allowed``, naming the choices."""
    if cell not in allowed:
        what = "a cell this model offers" if cell in cells.CELLS else "a recurrent cell"
        choices = ", ".join(sorted(allowed))
        raise ConfigError(f"model.cell={cell!r} is not {what}; choose one of {choices}")


def check_recurrent(options: dict[str, Any], allowed: Collection[str] = ()) -> None:
    """The options of a net built on `recurrent_stack`: ``model.impl``, and ``model.cell``
    among ``allowed`` (not checked when the net fixes its cell). Cells the fused kernels lack
    exist only with ``impl=scratch``."""
    impl = options.get("impl", "fused")
    if impl not in IMPLS:
        raise ConfigError(
            f"model.impl={impl!r} is not an implementation; choose {described(IMPLS)}"
        )
    cell = options.get("cell")
    if cell is None:
        return
    check_cell(cell, allowed)
    if impl == "fused" and cell not in CELLS:
        raise ConfigError(
            f"model.cell={cell} exists only with model.impl=scratch (PyTorch's fused kernels "
            f"offer {', '.join(CELLS)}); add model.impl=scratch"
        )


def recurrent_stack(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    dropout: float = 0.0,
    bidirectional: bool = False,
    impl: str = "fused",
) -> nn.RNNBase | ScratchStack:
    """A batch-first stack of ``num_layers`` cells, ``dropout`` between its layers (none for a
    single layer, where PyTorch would warn): on PyTorch's fused kernel, or with
    ``impl="scratch"`` a `ScratchStack` with the same parameters, state and call."""
    check_recurrent({"impl": impl, "cell": cell}, ALL_CELLS)
    if impl == "scratch":
        return ScratchStack(
            cell,
            input_size,
            hidden_size,
            num_layers,
            dropout if num_layers > 1 else 0.0,
            bidirectional,
        )
    return CELLS[cell](
        input_size,
        hidden_size,
        num_layers=num_layers,
        batch_first=True,
        bidirectional=bidirectional,
        dropout=dropout if num_layers > 1 else 0.0,
    )


class Recurrent(SequenceNet):
    """A stack of ``num_layers`` recurrent layers; the features are the final hidden state
    (``pool="last"``) or the top layer's outputs max-pooled over the true steps (``pool="max"``:
    for long texts, where a single final state forgets what it read early).

    ``dropout`` acts between stacked layers, ``output_dropout`` on the features handed to the head
    (the reference's ``Dropout(0.5)`` after the last GRU). ``weight_drop`` is DropConnect on
    the hidden-to-hidden weights, the fused-kernel counterpart of Keras' ``recurrent_dropout``
    (see ``nets/regularization.py``). For a bidirectional stack the features are the forward and
    backward final states side by side. ``impl``: the fused kernels or the scratch cells
    (`recurrent_stack`), which read ``lengths`` themselves.

    ``segment`` > 1 reads a long forecasting window as segments of that many steps, one
    recurrent step per segment (each segment's values through a linear layer and a ReLU first),
    as SegRNN does (Lin et al., 2023): a 336-step window becomes 21 steps of the recurrence. A
    window that is not a whole number of segments is padded in front with its first row.

    ``decoder="segments"`` forecasts the horizon as SegRNN's parallel multi-step decoder does,
    instead of a linear head on the final state: every output segment is one more step of the
    same recurrence from the window's final state, all of them at once, its input a learned
    embedding of the segment's position; a linear layer turns each step's output into the
    segment's values. The net then predicts the targets itself (no head): a long horizon is
    read off as few recurrent steps as the window, with weights shared across its segments.
    ``channel_embedding`` (with ``task.channels=independent``) gives half of that input to a
    learned embedding of the series being forecast, as SegRNN's ``channel_id`` does: one net
    serves the 21 weather series, but knows which one it continues.
    """

    @classmethod
    def incompatibility(cls, spec: TaskSpec, **options: Any) -> str | None:
        reason = super().incompatibility(spec, **options)
        if reason is None and options.get("segment", 1) > 1 and spec.kind != "forecasting":
            reason = "model.segment reads fixed windows as segments (forecasting); set segment=1"
        segments = options.get("decoder", "head") == "segments"
        if reason is None and segments and spec.kind != "forecasting":
            reason = "model.decoder=segments forecasts a horizon; set model.decoder=head"
        if reason is None and options.get("channel_embedding") and spec.channels < 2:
            reason = (
                "model.channel_embedding tells apart the series one net reads each on its own; "
                "set task.channels=independent, or model.channel_embedding=false"
            )
        return reason

    @classmethod
    def check_options(cls, **options: Any) -> None:
        check_recurrent(options, ALL_CELLS)
        if not isinstance(options.get("segment", 1), int) or options.get("segment", 1) < 1:
            raise ConfigError(
                f"model.segment={options['segment']!r}: steps per recurrent step, an integer >= 1"
            )
        if options.get("pool", "last") not in ("last", "max"):
            raise ConfigError(
                f"model.pool={options['pool']!r} is not a pooling of the recurrent outputs; "
                "choose last (the final state) or max (max over the true steps)"
            )
        decoder = options.get("decoder", "head")
        if decoder not in DECODERS:
            raise ConfigError(
                f"model.decoder={decoder!r} is not a decoder; choose {described(DECODERS)}"
            )
        if decoder == "segments" and (
            options.get("bidirectional") or options.get("pool", "last") != "last"
        ):
            raise ConfigError(
                "model.decoder=segments continues the window's recurrence forward from its final "
                "state; set model.bidirectional=false and model.pool=last"
            )
        if options.get("channel_embedding") and decoder != "segments":
            raise ConfigError(
                "model.channel_embedding is an input of the segment decoder; "
                "add model.decoder=segments"
            )

    def __init__(
        self,
        spec: TaskSpec,
        cell: Literal["rnn", "lstm", "gru", "peephole_lstm"] = "lstm",
        hidden_size: int = 32,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        output_dropout: float = 0.0,
        weight_drop: float = 0.0,
        pool: Literal["last", "max"] = "last",
        impl: Literal["fused", "scratch"] = "fused",
        segment: int = 1,
        decoder: Literal["head", "segments"] = "head",
        channel_embedding: bool = False,
    ) -> None:
        super().__init__()
        self.check_options(
            cell=cell,
            pool=pool,
            bidirectional=bidirectional,
            impl=impl,
            segment=segment,
            decoder=decoder,
            channel_embedding=channel_embedding,
        )
        self.cell = cell
        self.pool = pool
        self.segment = segment
        width = spec.input_size
        if segment > 1:
            self.segments = nn.Sequential(nn.Linear(segment * width, hidden_size), nn.ReLU())
            width = hidden_size
        self.rnn = recurrent_stack(
            cell, width, hidden_size, num_layers, dropout, bidirectional, impl
        )
        self.fused = impl == "fused"
        drop_hidden_weights(self.rnn, weight_drop)
        # one-layer, one-direction runners for padded batches (not submodules: they lend their
        # fused kernel to self.rnn's weights and hold nothing of their own that is trained)
        self._runners = tuple(
            CELLS[cell](size, hidden_size, batch_first=True)
            for size in [width, hidden_size * (2 if bidirectional else 1)][:num_layers]
            if self.fused
        )
        self.output_dropout = nn.Dropout(output_dropout)
        self.output_size = hidden_size * (2 if bidirectional else 1)
        if decoder == "segments":
            self.predicts_targets = True
            self.horizon = spec.horizon
            self.outputs = spec.output_size // spec.horizon  # values per forecast step
            count = -(-spec.horizon // segment)  # output segments, the last one trimmed
            half = width // 2 if channel_embedding else 0
            self.positions = nn.Parameter(torch.randn(count, width - half))
            self.channel_vectors = nn.Embedding(spec.channels, half) if channel_embedding else None
            self.segment_values = nn.Linear(hidden_size, segment * self.outputs)
            self.output_size = spec.output_size

    def one_hot_input(self, vocabulary: int) -> nn.Embedding:
        """Hand the first layer's input weights to an embedding, so that one-hot tokens cost a
        lookup instead of a vocabulary-wide matrix product; returns the embedding to put in front.

        ``W_ih · onehot(id)`` is column ``id`` of ``W_ih``. The embedding's row ``id`` holds that
        column for every direction side by side, and the first layer's input weights become a
        fixed selection of its own direction's block. The net computes exactly what it computed
        on one-hot vectors (same initial weights, same gradients), without materialising a
        batch × steps × vocabulary tensor, which for long texts and a large vocabulary does not
        fit in memory.
        """
        rnn = self.rnn
        if rnn.input_size != vocabulary:
            raise ValueError(f"built for {rnn.input_size}-wide inputs, not {vocabulary}")
        suffixes = ("", "_reverse") if rnn.bidirectional else ("",)
        columns = [getattr(rnn, f"weight_ih_l0{suffix}") for suffix in suffixes]
        gates = columns[0].shape[0]
        embedding = nn.Embedding(rnn.input_size, gates * len(suffixes))
        with torch.no_grad():
            embedding.weight.copy_(torch.cat(columns).T)
        select = torch.eye(gates * len(suffixes))
        for i, suffix in enumerate(suffixes):
            block = select[i * gates : (i + 1) * gates].clone()
            setattr(rnn, f"weight_ih_l0{suffix}", nn.Parameter(block, requires_grad=False))
        rnn.input_size = embedding.embedding_dim
        if self.fused:
            first = CELLS[self.cell](rnn.input_size, rnn.hidden_size, batch_first=True)
            self._runners = (first, *self._runners[1:])
        return embedding

    def forward(self, inputs: NetInput) -> torch.Tensor:
        """``inputs.lengths`` (batch,): true lengths of right-padded sequences; padding then never
        reaches the state and the features are each sequence's own final state (see `_masked`;
        the scratch cells mask their steps themselves)."""
        x, lengths = inputs.x, inputs.lengths
        if self.segment > 1:
            x = self.read_segments(x)
        if lengths is None or not bool((lengths < x.size(1)).any()):
            lengths = None
        elif self.fused:
            return self.output_dropout(self._masked(x, lengths.to(x.device)))
        else:
            lengths = lengths.to(x.device)
        outputs, state = self.rnn(x) if lengths is None else self.rnn(x, lengths=lengths)
        if self.predicts_targets:
            return self.decode(state, inputs.channel)
        if self.pool == "max":
            return self.output_dropout(max_over_true_steps(outputs, lengths))
        hidden = state[0] if isinstance(state, tuple) else state
        directions = 2 if self.rnn.bidirectional else 1
        features = torch.cat(list(hidden[-directions:]), dim=-1)
        return self.output_dropout(features)

    def decode(
        self, state: torch.Tensor | tuple[torch.Tensor, ...], channel: torch.Tensor | None
    ) -> torch.Tensor:
        """The horizon from the window's final ``state``: one recurrent step per output segment,
        all segments side by side in the batch → ``(batch, horizon × outputs)``, step-major.
        ``channel``: each window's series, for the channel embedding."""
        count = len(self.positions)
        states = state if isinstance(state, tuple) else (state,)
        batch = states[0].shape[1]
        start = tuple(s.repeat_interleave(count, dim=1) for s in states)  # (layers, batch·count, h)
        steps = self.positions.repeat(batch, 1)  # (batch·count, width)
        if self.channel_vectors is not None:
            if channel is None:
                raise ValueError("a channel embedding needs each window's channel (NetInput)")
            series = self.channel_vectors(channel).repeat_interleave(count, dim=0)
            steps = torch.cat([steps, series], dim=-1)
        steps = steps[:, None]  # one step each
        outputs, _ = self.rnn(steps, start if isinstance(state, tuple) else start[0])
        values = self.segment_values(self.output_dropout(outputs[:, 0]))
        values = values.view(batch, count * self.segment, self.outputs)[:, : self.horizon]
        return values.flatten(1)

    def read_segments(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, time, features)`` → one embedded step per ``segment`` steps."""
        short = -x.shape[1] % self.segment
        if short:
            x = torch.cat([x[:, :1].expand(-1, short, -1), x], dim=1)
        return self.segments(x.reshape(len(x), -1, self.segment * x.shape[2]))

    def _masked(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The final states of right-padded sequences, exactly as with ``pack_padded_sequence``.

        A packed batch makes PyTorch's CPU kernels step through time op by op, far slower than
        the fused kernel (``benchmarks/`` compares the two). Instead every layer and direction
        runs as one fused call over the padded batch: the forward direction's state is read at each
        sequence's last true step (padding comes after it), and the backward direction reads each
        sequence reversed *within its length*, so it too starts at the sequence's true end and its
        padding trails. Outputs are un-reversed before the next layer, so stacked layers only
        ever read true steps.
        """
        rows = torch.arange(x.size(0), device=x.device)
        last = (lengths - 1).clamp(min=0)
        weights = flat_weights(self.rnn)
        suffixes = ("", "_reverse") if self.rnn.bidirectional else ("",)
        for layer in range(self.rnn.num_layers):
            runner = self._runners[min(layer, 1)]
            outputs = []
            for suffix in suffixes:
                own = {
                    name: weights[name.replace("_l0", f"_l{layer}{suffix}")]
                    for name in runner._flat_weights_names
                }
                forward = not suffix
                read = x if forward else reverse(x, lengths)
                out, _ = torch.func.functional_call(runner, own, (read,))
                outputs.append(out if forward else reverse(out, lengths))
            x = torch.cat(outputs, dim=-1)
            if layer < self.rnn.num_layers - 1:
                x = nn.functional.dropout(x, self.rnn.dropout, self.training)
        if self.pool == "max":
            return max_over_true_steps(x, lengths)
        # forward: the state after the last true step; backward: after reading back to step 0
        finals = [x[rows, last, : self.rnn.hidden_size]]
        if self.rnn.bidirectional:
            finals.append(x[:, 0, self.rnn.hidden_size :])
        return torch.cat(finals, dim=-1)


def max_over_true_steps(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """``x`` (batch, time, features) max-pooled over each sequence's true steps."""
    if lengths is not None:
        padding = torch.arange(x.size(1), device=x.device) >= lengths[:, None]
        x = x.masked_fill(padding[..., None], float("-inf"))
    return x.max(dim=1).values
