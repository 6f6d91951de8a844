"""restore_run: evaluate.py, generate.py and predict.py rebuild a run from its checkpoint alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from seqlab.cli import predict
from seqlab.cli.generate import generate
from seqlab.errors import SeqlabError
from seqlab.run.checkpoint import restore_run, resume_checkpoint
from seqlab.run.compose import build_run
from tests.helpers import compose_train


def fake_checkpoint(cfg, task, path: Path, **extra) -> Path:
    """What train.py saves, as far as the checkpoint commands read it, trained elsewhere."""
    config = OmegaConf.to_container(cfg, resolve=True)
    for key in ("data_dir", "cache_dir"):
        if key in config["data"]:
            config["data"][key] = f"/elsewhere/{key}"
    torch.save({"seqlab_config": config, "state_dict": task.state_dict(), **extra}, path)
    return path


def test_a_run_trained_elsewhere_reads_this_machines_data_and_its_own_weights(imdb_dir, tmp_path):
    overrides = ["data=imdb", "model=bilstm", "task.embedding_dim=8", f"paths.data_dir={imdb_dir}"]
    cfg = compose_train([*overrides, f"paths.cache_dir={tmp_path / 'cache'}"], tmp_path / "run")
    datamodule, task = build_run(cfg)
    vocabulary = {type(datamodule).__qualname__: datamodule.state_dict()}
    ckpt = fake_checkpoint(cfg, task, tmp_path / "best.ckpt", **vocabulary)
    paths = {"data_dir": str(imdb_dir), "cache_dir": str(tmp_path / "here")}
    for stage in ("test", None):  # evaluate.py reads the data; predict.py needs only the vocabulary
        checkpoint, restored_data, restored = restore_run(ckpt, paths, stage=stage)
        assert checkpoint.path == ckpt and restored_data.data_dir == imdb_dir
        assert restored_data.cache_dir == tmp_path / "here"
        assert restored.spec == datamodule.spec
        assert bool(restored_data.datasets) == (stage is not None)
        for name, weight in task.state_dict().items():
            assert torch.equal(restored.state_dict()[name], weight), name


def test_a_run_the_command_cannot_serve_is_refused_before_data_are_read(tmp_path):
    cfg = compose_train(["model=gru", "paths.data_dir=/nowhere"], tmp_path / "run")
    task = torch.nn.Linear(1, 1)  # the weights are never reached
    ckpt = fake_checkpoint(cfg, task, tmp_path / "best.ckpt")
    gen = compose_train([f"ckpt_path={ckpt}"], tmp_path / "gen", config_name="generate")
    with pytest.raises(SeqlabError, match="ForecastingTask run; generate.py samples from language"):
        generate(gen)
    with pytest.raises(SeqlabError, match="without a saved text vocabulary; predict.py classifies"):
        predict.main([f"ckpt_path={ckpt}", "text=great"])


def test_a_checkpoint_naming_moved_modules_reads_with_their_places_today():
    from seqlab.run.checkpoint import current_targets

    old = {"callbacks": {"clock": {"_target_": "seqlab.callbacks.TrainingClock"}}, "seed": 1}
    new = current_targets(old)
    assert new["callbacks"]["clock"]["_target_"] == "seqlab.run.callbacks.TrainingClock"
    assert new["seed"] == 1
    from hydra.utils import get_class

    assert get_class(new["callbacks"]["clock"]["_target_"]).__name__ == "TrainingClock"


def test_a_resume_reads_its_checkpoint_once_for_the_step_and_the_file(tmp_path):
    import torch

    from seqlab.errors import SeqlabError
    from seqlab.run.checkpoint import Resume

    assert Resume.find(None, tmp_path) is None
    with pytest.raises(SeqlabError, match="has no checkpoints/last.ckpt"):
        Resume.find("last", tmp_path)
    (tmp_path / "checkpoints").mkdir()
    payload = {"seqlab_config": {"seed": 1}, "state_dict": {}, "global_step": 7, "epoch": 2}
    torch.save(payload, tmp_path / "checkpoints" / "last.ckpt")
    resume = Resume.find("last", tmp_path)
    assert (resume.step, resume.epoch) == (7, 2)
    assert resume.path == str(tmp_path / "checkpoints" / "last.ckpt")
    assert resume.config.seed == 1


def test_a_checkpoint_to_resume_must_exist(tmp_path):
    assert resume_checkpoint(None, tmp_path) is None
    with pytest.raises(SeqlabError, match="ckpt_path=last, but .* has no checkpoints/last.ckpt"):
        resume_checkpoint("last", tmp_path)
    with pytest.raises(SeqlabError, match="ckpt_path=nope.ckpt: no such file"):
        resume_checkpoint("nope.ckpt", tmp_path)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(b"x")
    assert resume_checkpoint("last", tmp_path) == tmp_path / "checkpoints" / "last.ckpt"
