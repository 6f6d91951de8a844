"""Language modelling: predict the next token; report bits per token, perplexity, accuracy."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F
from torchmetrics import MeanMetric

from seqlab.data.base import LanguageData
from seqlab.errors import ConfigError, SeqlabError
from seqlab.nets.base import NetInput
from seqlab.spec import IGNORE, TaskSpec
from seqlab.tasks.base import OptimizerFactory, SchedulerFactory, SeqlabTask
from seqlab.tasks.network import NetFactory, build_network

SPLITS = ("train", "val", "test")


def detach(state: Any) -> Any:
    """The state with its autograd history cut (truncated BPTT), whatever its nesting."""
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, list | tuple):
        return type(state)(detach(s) for s in state)
    return state


def sample_next(
    logits: torch.Tensor,
    temperature: float,
    top_k: int | None,
    generator: torch.Generator,
    banned: tuple[int, ...] = (),
) -> torch.Tensor:
    """One token from ``logits`` (vocabulary,): temperature 0 is greedy, top-k keeps the k best,
    ``banned`` ids are never drawn."""
    logits = logits.float().cpu()
    logits[list(banned)] = float("-inf")
    if temperature <= 0:
        return logits.argmax().view(1)
    if top_k is not None and 0 < top_k < len(logits):
        cutoff = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < cutoff, float("-inf"))
    probs = torch.softmax(logits / temperature, dim=-1)
    return torch.multinomial(probs, 1, generator=generator)


class LanguageModelTask(SeqlabTask):
    """Cross-entropy over the vocabulary at every step of every window.

    The DataModule is read through `LanguageData`: which splits are stream-ordered, how a
    prompt and a sample look. Where a split is stream-ordered, the hidden state is carried from
    one batch to the next, detached, so the model sees context longer than one window while
    gradients flow through ``sequence_length`` steps only (truncated backpropagation through
    time); the state starts from zero at each epoch and each evaluation pass, separately for
    every split. Elsewhere every window starts from a zero state. ``tbptt`` null follows the
    data's layout; false never carries the state (a model trained on independent windows,
    evaluated as such). A net that declares no state to carry (``carries_state = False``, a
    transformer's fixed context) is never carried, and refuses ``tbptt=true``.
    Reported: ``loss`` (nats per token), ``bpc`` (bits per token), ``ppl`` (perplexity) and
    ``acc`` (next-token accuracy).
    """

    train_loss_key = "train/step_loss"  # train/loss is the epoch's mean

    def __init__(
        self,
        net: NetFactory,
        spec: TaskSpec,
        optimizer: OptimizerFactory,
        scheduler: SchedulerFactory | None = None,
        tbptt: bool | None = None,
        sample_temperature: float = 0.8,
        sample_top_k: int | None = None,
        monitor: str = "val/bpc",
        monitor_mode: str = "min",
    ) -> None:
        super().__init__(optimizer, scheduler, monitor, monitor_mode)
        self.spec = spec
        self.adapter, self.net, self.head = build_network(net, spec)
        if tbptt and not self.net.carries_state:
            raise ConfigError(
                f"task.tbptt=true carries the state across batches, but model "
                f"{type(self.net).__name__} reads fixed contexts and has no state to carry; set "
                "task.tbptt=false or null (and data.train_order=shuffle where the data offers it)"
            )
        self.tbptt = tbptt
        self.sample_temperature = sample_temperature
        self.sample_top_k = sample_top_k
        # per split: mean next-token NLL (nats) and accuracy ("train" would clash with .train())
        names = [f"{split}_{metric}" for split in SPLITS for metric in ("nll", "acc")]
        self.means = torch.nn.ModuleDict({name: MeanMetric() for name in names})
        self.carried: dict[str, Any] = dict.fromkeys(SPLITS)
        self.carry: dict[str, bool] = dict.fromkeys(SPLITS, False)

    def forward(self, tokens: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Logits for every step, and the state after the last one."""
        features, state = self.net(NetInput(self.adapter(tokens), state=state))
        return self.head(features), state

    def forward_loss(
        self, batch: tuple[torch.Tensor, torch.Tensor], split: str
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """The mean next-token loss, and each scored token's loss, logits and target; the state
        is carried on to the next batch where ``split`` carries it (nothing outside a loop)."""
        x, y = batch
        logits, state = self(x, self.carried[split] if self.carry[split] else None)
        if self.carry[split]:
            self.carried[split] = detach(state)
        scored = y != IGNORE  # stream padding has no target
        logits, targets = logits[scored], y[scored]
        losses = F.cross_entropy(logits, targets, reduction="none")
        return losses.mean(), (losses, logits, targets)

    def update_metrics(
        self, split: str, batch: Any, loss: torch.Tensor, outputs: tuple[torch.Tensor, ...]
    ) -> None:
        losses, logits, targets = outputs
        self.means[f"{split}_nll"].update(losses.detach())
        self.means[f"{split}_acc"].update((logits.argmax(-1) == targets).float())

    def epoch_metrics(self, split: str) -> dict[str, float]:
        nll = float(self.means[f"{split}_nll"].compute())
        values = {
            f"{split}/loss": nll,
            f"{split}/bpc": nll / math.log(2),
            f"{split}/ppl": math.exp(min(nll, 50.0)),
            f"{split}/acc": float(self.means[f"{split}_acc"].compute()),
        }
        self.log_dict(values, prog_bar=split != "train")
        self.means[f"{split}_nll"].reset()
        self.means[f"{split}_acc"].reset()
        return values

    def on_fit_start(self) -> None:
        if self.tbptt and not self._streamed("train"):
            raise SeqlabError(
                f"task.tbptt=true carries the state across batches, but data={self.spec.data_name} "
                "loads independent training windows; set data.train_order=streams (where the data "
                "set offers it) or task.tbptt=null"
            )

    def _data(self) -> LanguageData | None:
        """The trainer's DataModule, read through `LanguageData` only (None: loaders without
        one, as in a bare ``trainer.fit(task, loader)``)."""
        return self._trainer.datamodule if self._trainer is not None else None

    def _streamed(self, split: str) -> bool:
        data = self._data()
        return data is not None and data.streamed(split)

    def _start(self, split: str) -> None:
        self.carried[split] = None
        carry = self.tbptt is not False and self.net.carries_state
        self.carry[split] = carry and self._streamed(split)

    def on_train_epoch_start(self) -> None:
        self._start("train")

    def on_validation_epoch_start(self) -> None:
        self._start("val")

    def on_test_epoch_start(self) -> None:
        self._start("test")

    @torch.no_grad()
    def generate(
        self,
        prompt: torch.Tensor,
        length: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int = 0,
        banned: tuple[int, ...] = (),
    ) -> torch.Tensor:
        """The prompt followed by ``length`` sampled tokens (one forward step per token)."""
        was_training = self.training
        self.eval()
        generator = torch.Generator().manual_seed(seed)
        logits, state = self(prompt[None].to(self.device))
        tokens = [prompt.cpu()]
        for _ in range(length):
            token = sample_next(logits[0, -1], temperature, top_k, generator, banned)
            tokens.append(token)
            logits, state = self(token.view(1, 1).to(self.device), state)
        self.train(was_training)
        return torch.cat(tokens)

    def write_sample(
        self,
        datamodule: LanguageData,
        path: Path,
        prompt: str | None = None,
        length: int | None = None,
        temperature: float | None = None,
        top_k: int | None = None,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Generate from ``prompt`` and save the result beside ``path``; say how fast it went."""
        tokens = datamodule.prompt_tokens(prompt)
        length = datamodule.sample_length if length is None else length
        temperature = self.sample_temperature if temperature is None else temperature
        top_k = self.sample_top_k if top_k is None else top_k
        started = time.perf_counter()
        banned = datamodule.never_generate
        sample = self.generate(tokens, length, temperature, top_k, seed, banned)
        seconds = time.perf_counter() - started
        files = datamodule.write_sample(sample, len(tokens), path)
        return {
            "files": [str(f) for f in files],
            "prompt_tokens": len(tokens),
            "generated": length,
            "unit": datamodule.token_name,
            "seconds": round(seconds, 3),
            f"{datamodule.token_name}_per_s": round(length / seconds, 1) if seconds else None,
            "temperature": temperature,
            "top_k": top_k,
            "seed": seed,
        }
