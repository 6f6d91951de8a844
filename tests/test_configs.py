"""Every entry of conf/ composes with the real configs (nothing is trained): each experiment, each
model with every data set of a task kind it serves, each hyperparameter search. Also what the
README promises of them: one run-folder rule, and experiments that state only what they change.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from tests.helpers import ROOT, compose_train

CONF = ROOT / "conf"
ABSENT = object()


def options(group: str) -> list[str]:
    """A config group's options: its own files (bases such as model/base/ are not options)."""
    return sorted(path.stem for path in (CONF / group).glob("*.yaml"))


def composed(overrides: list[str], tmp_path: Path, config_name: str = "train") -> DictConfig:
    """``compose_train``, with every value resolved: an interpolation that does not resolve, or a
    value left unset (``???``, as in a base config), fails here."""
    cfg = compose_train(overrides, tmp_path, config_name=config_name)
    OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    return cfg


def task_kind(cfg: DictConfig) -> str:
    """The task kind a composed config trains (the module of its task: tasks/forecasting.py),
    whichever task config the data set picked (forecasting or forecasting_benchmark)."""
    return str(cfg.task._target_).rsplit(".", 2)[-2]


def serves_its_data(cfg: DictConfig) -> bool:
    """Whether the composed net declares the task kind the composed data set picked."""
    return task_kind(cfg) in get_class(cfg.model._target_).task_kinds


def raw(path: Path) -> dict[str, Any]:
    return OmegaConf.to_container(OmegaConf.load(path))


def leaves(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every leaf of a config file as written."""
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def lookup(tree: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(tree, dict) or key not in tree:
            return ABSENT
        tree = tree[key]
    return tree


def picks(defaults: list[Any]) -> list[str]:
    """The overrides that select what a defaults list selects: recipes, groups, a parent entry."""
    overrides = []
    for entry in defaults:
        if isinstance(entry, dict):
            ((key, value),) = entry.items()
            overrides.append(f"{key.removeprefix('override /')}={value}")
        elif entry.startswith("/recipe/"):
            overrides.append(f"+recipe={entry.removeprefix('/recipe/')}")
        elif entry != "_self_":
            overrides.append(f"experiment={entry}")
    return overrides


@pytest.mark.slow  # about 100 compositions: `make test` runs them, not the inner loop
@pytest.mark.parametrize("name", options("experiment"))
def test_experiment_composes_to_a_model_that_serves_its_data(name, tmp_path):
    cfg = composed([f"experiment={name}"], tmp_path)
    assert serves_its_data(cfg), f"experiment={name}: {cfg.model._target_} on {cfg.data._target_}"
    choices = HydraConfig.get().runtime.choices
    assert HydraConfig.get().run.dir.startswith(f"logs/train/runs/{choices.model}-{choices.data}/")
    board = raw(CONF / "experiment" / f"{name}.yaml").get("leaderboard") or {}
    assert set(board) <= {"reference", "prepare", "long", "data", "notes", "seeds"}, board


@pytest.mark.slow  # about 100 compositions: `make test` runs them, not the inner loop
@pytest.mark.parametrize("name", options("experiment"))
def test_experiment_and_its_recipes_state_only_what_they_change(name, tmp_path):
    """A value an experiment (or a recipe it uses) sets must differ from the one the configs it
    picks already give: restated defaults hide what an entry is about."""
    own = raw(CONF / "experiment" / f"{name}.yaml")
    defaults = own.pop("defaults", [])
    own.pop("leaderboard", None)
    layers = [(f"experiment={name}", own, picks(defaults))]
    recipes = [(entry, [e for e in defaults if e != entry]) for entry in defaults]
    while recipes:  # each recipe against everything else picked, its own defaults included
        entry, others = recipes.pop()
        if isinstance(entry, str) and entry.startswith("/recipe/"):
            recipe = raw(CONF / f"{entry.removeprefix('/')}.yaml")
            inner = [
                f"/recipe/{e}" if isinstance(e, str) and e != "_self_" and "/" not in e else e
                for e in recipe.pop("defaults", [])
            ]
            layers.append((entry, recipe, picks(others + inner)))
            recipes += [(e, [o for o in others + inner if o != e]) for e in inner]
    restated = []
    for label, values, base_overrides in layers:
        base = OmegaConf.to_container(compose_train(base_overrides, tmp_path))
        restated += [f"{label}: {k}" for k, value in leaves(values) if lookup(base, k) == value]
    assert not restated, restated


@pytest.fixture(scope="module")
def task_kinds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The task kind each data set picks (``conf/task/<kind>.yaml``), composed once."""
    kinds = {}
    for data in options("data"):
        kinds[data] = task_kind(compose_train([f"data={data}"], tmp_path_factory.mktemp(data)))
    return kinds


@pytest.mark.slow  # about 100 compositions: `make test` runs them, not the inner loop
@pytest.mark.parametrize("model", options("model"))
def test_model_composes_with_every_data_set_it_serves(model, task_kinds, tmp_path):
    """The README's pairs: the nets' declared task kinds (forecasting nets on jena and chicago,
    classifiers on imdb, language models on verne and chorales)."""
    net = get_class(compose_train([f"model={model}"], tmp_path).model._target_)
    served = [data for data, kind in task_kinds.items() if kind in net.task_kinds]
    assert served, f"model={model} serves no data set of conf/data"
    for data in served:
        cfg = composed([f"model={model}", f"data={data}"], tmp_path)
        assert serves_its_data(cfg) and HydraConfig.get().runtime.choices.model == model


@pytest.mark.parametrize("name", options("hparams_search"))
def test_search_composes_and_searches_keys_that_exist(name, tmp_path):
    cfg = composed([f"hparams_search={name}"], tmp_path)
    sweeper = HydraConfig.get().sweeper
    assert sweeper.params, f"hparams_search={name} searches nothing"
    for key in sweeper.params:
        assert OmegaConf.select(cfg, key, default=ABSENT) is not ABSENT, f"{name}: {key}"
    assert cfg.optimized_metric == cfg.task.monitor
    assert sweeper.direction == {"max": "maximize", "min": "minimize"}[cfg.task.monitor_mode]


@pytest.mark.parametrize(
    ("config_name", "overrides", "folder"),
    [
        ("train", [], "logs/train/runs/lstm-jena/"),
        ("train", ["run_family=ablation", "model=gru"], "logs/ablation/runs/gru-jena/"),
        ("eval", ["ckpt_path=x.ckpt"], "logs/eval/runs/"),
        ("generate", ["ckpt_path=x.ckpt"], "logs/generate/runs/"),
    ],
)
def test_every_command_writes_under_logs_run_family_runs(config_name, overrides, folder, tmp_path):
    composed(overrides, tmp_path, config_name=config_name)
    assert HydraConfig.get().run.dir.startswith(folder)


def test_slurm_jobs_ask_for_the_gpus_they_are_given(tmp_path):
    compose_train(["hydra/launcher=slurm"], tmp_path)
    assert HydraConfig.get().launcher.gpus_per_node == 0
    gpu = ["hydra/launcher=slurm", "hydra.launcher.partition=gpu", "hydra.launcher.gpus_per_node=1"]
    compose_train(gpu, tmp_path)
    assert HydraConfig.get().launcher.partition == "gpu"
    assert HydraConfig.get().launcher.gpus_per_node == 1
