from functools import partial

import torch

from seqlab.nets.charlm import CharLM
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
    fresh = task._step(batch, "train")
    task.carry["train"] = True
    task._step(batch, "train")
    state = task.carried["train"]
    assert all(s.grad_fn is None for s in state)
    assert not torch.isclose(task._step(batch, "train"), fresh)


def test_padding_targets_are_not_scored():
    task = tiny_task()
    x = torch.randint(1, 9, (2, 5))
    y = torch.full((2, 5), -100)
    y[0, 0] = 3
    task._step((x, y), "val")
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
