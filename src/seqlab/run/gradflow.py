"""Vanishing and exploding gradients, measured: how much each time step still influences the loss.

`GradFlow` (``callbacks=grad_flow``) takes, at chosen training steps, the gradient of the loss
with respect to every step of every recurrent layer, and its norm as a function of the distance
from the layer's last step: ``‖∂L/∂h_t‖`` for the hidden states ``h_t`` of the scratch cells
(``model.impl=scratch``, where each ``h_t`` is a tensor of its own), and for the fused kernels,
whose states never leave the kernel, ``‖∂L/∂x_t‖`` for each step's input to the layer. A simple
RNN's norm decays geometrically with distance (the product of Jacobians in the decks); gated
cells keep it. It also logs every parameter's gradient norm, and writes ``grad_flow.json`` and
``grad_flow.png`` into the run folder at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import matplotlib
import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn

from seqlab.errors import ConfigError
from seqlab.files import atomic_path, write_json_atomic
from seqlab.nets.cells import ScratchStack, reversal

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HIDDEN = "‖∂L/∂h_t‖ (scratch cells: gradient w.r.t. each step's hidden state)"
INPUT = "‖∂L/∂x_t‖ (fused kernels: gradient w.r.t. each step's input)"


def norms_by_distance(grads: Tensor, lengths: Tensor | None = None) -> list[float]:
    """Batch mean of the gradient norm at each distance from the last step read: ``grads``
    (batch, time, features) in reading order, entry 0 of the result the last step. With
    ``lengths`` each sequence counts from its own last true step."""
    norms = grads.detach().float().norm(dim=-1)
    if lengths is None:
        return norms.flip(1).mean(dim=0).tolist()
    rows = torch.arange(len(norms), device=norms.device)[:, None]
    back = norms[rows, reversal(lengths, norms.size(1))]  # column d: distance d
    valid = (torch.arange(norms.size(1), device=norms.device) < lengths[:, None]).float()
    means = (back * valid).sum(dim=0) / valid.sum(dim=0).clamp(min=1)
    return means[: int(lengths.max())].tolist()


def grad(t: Tensor) -> Tensor:
    """The gradient kept on ``t`` (zeros where the loss does not depend on it)."""
    return torch.zeros_like(t) if t.grad is None else t.grad


class GradFlow(L.Callback):
    """At training steps ``steps`` (or every ``every_n_steps``, from step 0), the gradient norm
    of the loss with respect to each time step of each recurrent layer, by distance from its
    last step, and each parameter's gradient norm (logged as ``grad_norm/<name>``, with
    ``grad_norm/total``, before any clipping). At the end of training ``grad_flow.json`` (every
    measurement) and ``grad_flow.png`` (norm against distance, log scale) go to ``dirpath``.
    """

    def __init__(
        self,
        every_n_steps: int = 50,
        steps: Sequence[int] | None = None,
        dirpath: str | None = None,
    ) -> None:
        if steps is None and every_n_steps < 1:
            raise ConfigError(
                f"callbacks.grad_flow.every_n_steps={every_n_steps} must be 1 or more "
                "(or list the steps to measure: callbacks.grad_flow.steps=[0,100])"
            )
        self.every_n_steps = every_n_steps
        self.steps = None if steps is None else set(steps)
        self.dirpath = dirpath
        self.records: list[dict[str, Any]] = []
        self.measure = HIDDEN
        self._stacks: list[tuple[str, ScratchStack]] = []
        self._inputs: dict[str, list[Tensor]] = {}
        self._hooks: list[Any] = []
        self._current: dict[str, Any] | None = None

    def chosen(self, step: int) -> bool:
        if self.steps is not None:
            return step in self.steps
        return step % self.every_n_steps == 0

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if not self.chosen(trainer.global_step):
            return
        for name, module in pl_module.named_modules():
            if isinstance(module, ScratchStack):
                module.record = []
                self._stacks.append((name, module))
            elif isinstance(module, nn.RNNBase):
                self._hooks.append(module.register_forward_pre_hook(self._keep_input(name)))
        self._current = {"step": trainer.global_step}

    def _keep_input(self, name: str) -> Any:
        """A pre-hook that keeps the gradient of a fused layer's input (cut from the data,
        where the input is the data itself)."""

        def hook(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
            x = args[0]
            if x.requires_grad:
                x.retain_grad()
            else:
                x = x.detach().requires_grad_()
            self._inputs.setdefault(name, []).append(x)
            self.measure = INPUT
            return (x, *args[1:])

        return hook

    def on_after_backward(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._current is None:
            return
        layers = {name: [(grad(x), None) for x in xs] for name, xs in self._inputs.items()}
        for name, stack in self._stacks:
            for layer, steps, lengths in stack.record or []:
                grads = torch.stack([grad(h) for h in steps], dim=1)
                layers.setdefault(f"{name} {layer}", []).append((grads, lengths))
        curves = {  # a decoder called step by step: its calls in order, one sequence
            name: norms_by_distance(
                torch.cat([g for g, _ in calls], dim=1), calls[0][1] if len(calls) == 1 else None
            )
            for name, calls in layers.items()
        }
        params = {
            name: float(p.grad.detach().norm())
            for name, p in pl_module.named_parameters()
            if p.grad is not None
        }
        total = sum(v**2 for v in params.values()) ** 0.5
        self._current.update(curves=curves, params=params, grad_norm=total)
        logged = {f"grad_norm/{name}": value for name, value in params.items()}
        if curves:
            first = next(iter(curves.values()))
            logged |= {"grad_flow/last_step": first[0], "grad_flow/first_step": first[-1]}
        for logger in trainer.loggers:  # at this step only (self.log would repeat the values)
            logger.log_metrics({**logged, "grad_norm/total": total}, step=trainer.global_step)
        self._disarm()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, _: int
    ) -> None:
        if self._current is not None and "curves" in self._current:
            loss = outputs["loss"] if isinstance(outputs, dict) else outputs
            self._current["loss"] = float(loss)
            self.records.append(self._current)
        self._current = None
        self._disarm()

    def _disarm(self) -> None:
        for _, stack in self._stacks:
            stack.record = None
        for hook in self._hooks:
            hook.remove()
        self._stacks, self._inputs, self._hooks = [], {}, []

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.records:
            return
        folder = Path(self.dirpath or trainer.default_root_dir)
        write_json_atomic(
            folder / "grad_flow.json", {"measure": self.measure, "records": self.records}
        )
        curves = {
            f"step {r['step']}": next(iter(r["curves"].values()))
            for r in self.records
            if r["curves"]
        }
        if not curves:
            rank_zero_warn(
                "callbacks.grad_flow: no recurrent layer ran at the chosen steps; no grad_flow.png"
            )
            return
        layer = next(iter(self.records[0]["curves"]))
        net = getattr(pl_module, "net", pl_module)
        cell = f" {net.cell}" if isinstance(getattr(net, "cell", None), str) else ""
        title = f"{type(net).__name__}{cell} ({layer}): gradient against distance in time"
        plot_grad_flow(curves, folder / "grad_flow.png", title, self.measure)


def plot_grad_flow(curves: dict[str, list[float]], path: Path, title: str, ylabel: str) -> Path:
    """Gradient norm against distance in time (0: the last step), one line per curve, log
    scale: a straight falling line is geometric decay (vanishing gradients)."""
    figure, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    colours = plt.cm.viridis([i / max(len(curves) - 1, 1) for i in range(len(curves))])
    draw_curves(ax, curves, ylabel, colours)
    ax.set_title(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".png") as tmp:
        figure.savefig(tmp, dpi=110)
    plt.close(figure)
    return path


def draw_curves(
    ax: plt.Axes, curves: dict[str, list[float]], ylabel: str, colours: Sequence[Any]
) -> None:
    """Curves of a norm against distance in time on ``ax``, log scale (zeros, an underflow in
    float32, are left out)."""
    for (label, values), colour in zip(curves.items(), colours, strict=True):
        ax.plot(range(len(values)), values, label=label, color=colour)
    ax.set_yscale("log")
    ax.set_xlabel("distance in time from the last step (steps)")
    ax.set_ylabel(ylabel, fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
