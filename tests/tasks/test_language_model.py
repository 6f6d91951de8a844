import json
from functools import partial
from pathlib import Path

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from seqlab.errors import SeqlabError
from seqlab.nets.charlm import CharLM
from seqlab.run.artifacts import write_artifacts
from seqlab.spec import TaskSpec
from seqlab.tasks.language_model import LanguageModelTask, sample_next

SPEC = TaskSpec("verne", "language_model", "tokens", input_size=9, output_size=9)


def tiny_task() -> LanguageModelTask:
    net = partial(CharLM, embedding_dim=4, hidden_size=8)
    return LanguageModelTask(net=net, spec=SPEC, optimizer=partial(torch.optim.Adam))


def test_carried_state_is_detached_and_changes_the_next_batch():
    torch.manual_seed(0)
    task = tiny_task()
    x = torch.randint(1, 9, (3, 6))
    batch = (x, torch.roll(x, -1, dims=1))
    fresh = task._batch(batch, "train")
    task.carry["train"] = True
    task._batch(batch, "train")
    state = task.carried["train"]
    assert all(s.grad_fn is None for s in state)
    assert not torch.isclose(task._batch(batch, "train"), fresh)


def test_padding_targets_are_not_scored():
    task = tiny_task()
    x = torch.randint(1, 9, (2, 5))
    y = torch.full((2, 5), -100)
    y[0, 0] = 3
    task._batch((x, y), "val")
    assert int(task.means["val_nll"].weight) == 1


def test_sampling_top_k_one_is_greedy_and_banned_ids_never_drawn():
    generator = torch.Generator().manual_seed(0)
    logits = torch.tensor([5.0, 1.0, 4.0, 0.0])
    assert int(sample_next(logits, 1.0, 1, generator)) == 0
    assert int(sample_next(logits, 0.0, None, generator)) == 0
    draws = {int(sample_next(logits, 2.0, None, generator, banned=(0,))) for _ in range(50)}
    assert 0 not in draws and 2 in draws


def test_generation_is_seeded():
    task = tiny_task()
    prompt = torch.tensor([1, 2, 3])
    a = task.generate(prompt, 20, temperature=1.0, seed=7)
    b = task.generate(prompt, 20, temperature=1.0, seed=7)
    c = task.generate(prompt, 20, temperature=1.0, seed=8)
    assert len(a) == 23 and torch.equal(a[:3], prompt)
    assert torch.equal(a, b) and not torch.equal(a, c)


class TickData(L.LightningDataModule):
    """No seqlab DataModule: loaders plus what `LanguageData` declares, nothing more."""

    sample_length = 5
    token_name = "ticks"
    never_generate = (0,)

    def __init__(self, streamed: bool) -> None:
        super().__init__()
        self.is_streamed = streamed
        tokens = torch.arange(1, 4 * 6 * 3 + 2) % 8 + 1
        self.windows = TensorDataset(tokens[:-1].view(-1, 6), tokens[1:].view(-1, 6))

    def streamed(self, split: str) -> bool:
        return self.is_streamed

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.windows, batch_size=3)

    val_dataloader = test_dataloader = train_dataloader

    def prompt_tokens(self, prompt: str | None) -> torch.Tensor:
        return torch.tensor([1, 2, 3])

    def write_sample(self, tokens: torch.Tensor, prompt_length: int, path: Path) -> list[Path]:
        out = path.with_suffix(".ticks")
        out.write_text(f"{prompt_length} {tokens.tolist()}")
        return [out]


def fit(task: LanguageModelTask, data: L.LightningDataModule) -> L.Trainer:
    trainer = L.Trainer(
        accelerator="cpu",
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(task, datamodule=data)
    return trainer


@pytest.mark.parametrize("streamed", [True, False])
def test_any_datamodule_that_offers_language_data_serves_the_task(tmp_path, streamed):
    torch.manual_seed(0)
    task = tiny_task()
    data = TickData(streamed)
    fit(task, data)
    assert task.carry["train"] is streamed and task.carry["val"] is streamed
    assert (task.carried["train"] is not None) is streamed
    [sample] = write_artifacts(task, data, tmp_path, "ticks")
    prompt_length, tokens = sample.read_text().split(" ", 1)
    assert sample.name == "sample.ticks" and prompt_length == "3"
    assert len(json.loads(tokens)) == 3 + TickData.sample_length
    assert 0 not in json.loads(tokens)[3:]  # never_generate is honoured


def test_tbptt_refuses_data_that_is_not_streamed():
    task = LanguageModelTask(
        net=partial(CharLM, embedding_dim=4, hidden_size=8),
        spec=SPEC,
        optimizer=partial(torch.optim.Adam),
        tbptt=True,
    )
    with pytest.raises(SeqlabError, match="data.train_order=streams"):
        fit(task, TickData(streamed=False))
