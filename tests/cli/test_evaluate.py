"""evaluate.py, predict.py and generate.py given something that is not a seqlab checkpoint.

Each gets one user error naming the file and what is expected, never an unpickling traceback;
evaluate.py and generate.py without ``ckpt_path`` print their usage line as predict.py does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from seqlab.cli import predict
from seqlab.cli.evaluate import evaluate
from seqlab.cli.generate import generate
from seqlab.errors import SeqlabError
from tests.helpers import ROOT, compose_train


def foreign_files(folder: Path) -> dict[str, Path]:
    """Files a user may pass by mistake, each with what the error should say about it."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "text": "epoch,val/mae\n0,2.4\n",
        "empty": b"",
        "binary": os.urandom(4096),
        "zip": None,
        "tensor": torch.zeros(3),
        "lightning": {"state_dict": {"w": torch.zeros(1)}, "epoch": 3},
        "weightless": {"seqlab_config": {"task": {}}, "epoch": 3},
    }
    paths = {}
    for name, content in files.items():
        path = paths[name] = folder / f"{name}.ckpt"
        if isinstance(content, str):
            path.write_text(content)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif content is None:
            with zipfile.ZipFile(path, "w") as archive:
                archive.writestr("notes/readme.txt", "not a checkpoint")
        else:
            torch.save(content, path)
    return paths


EXPECTED = {
    "text": "is not a PyTorch checkpoint",
    "empty": "is an empty file",
    "binary": "is not a PyTorch checkpoint",
    "zip": "is not a PyTorch checkpoint",
    "tensor": "was not written by seqlab's train.py",
    "lightning": "was not written by seqlab's train.py",
    "weightless": "holds no model weights",
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_a_file_that_is_not_a_checkpoint_is_one_user_error(tmp_path, kind):
    path = foreign_files(tmp_path / "files")[kind]
    messages = []
    cfg = compose_train([f"ckpt_path={path}"], tmp_path / "eval", config_name="eval")
    with pytest.raises(SeqlabError) as info:
        evaluate(cfg)
    messages.append(str(info.value))
    cfg = compose_train([f"ckpt_path={path}"], tmp_path / "gen", config_name="generate")
    with pytest.raises(SeqlabError) as info:
        generate(cfg)
    messages.append(str(info.value))
    with pytest.raises(SeqlabError) as info:
        predict.main([f"ckpt_path={path}", "text=great film"])
    messages.append(str(info.value))
    for message in messages:
        assert str(path) in message and EXPECTED[kind] in message
        assert "checkpoints/best.ckpt" in message  # what is expected instead
        assert "\n" not in message


def test_a_folder_or_a_missing_file_is_named(tmp_path):
    for path, expected in (
        (tmp_path, "is a folder, not a checkpoint file"),
        (tmp_path / "best.ckpt", "does not exist"),
    ):
        cfg = compose_train([f"ckpt_path={path}"], tmp_path / "eval", config_name="eval")
        with pytest.raises(SeqlabError, match=expected):
            evaluate(cfg)


@pytest.mark.parametrize("config_name", ["eval", "generate"])
def test_no_ckpt_path_is_the_usage_line(tmp_path, config_name):
    command = {"eval": evaluate, "generate": generate}[config_name]
    for overrides in ([], ["ckpt_path=null"], ["ckpt_path="]):
        cfg = compose_train(overrides, tmp_path / "out", config_name=config_name)
        script = "evaluate.py" if config_name == "eval" else "generate.py"
        with pytest.raises(SeqlabError, match=f"usage: python {script} ckpt_path="):
            command(cfg)


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=600,
    )


@pytest.mark.slow
def test_the_entry_points_print_one_line_not_a_traceback(tmp_path):
    files = foreign_files(tmp_path / "files")
    runs = {
        "usage: python evaluate.py": run_script("evaluate.py", f"hydra.run.dir={tmp_path / 'a'}"),
        "is an empty file": run_script(
            "evaluate.py", f"ckpt_path={files['empty']}", f"hydra.run.dir={tmp_path / 'b'}"
        ),
        "is not a PyTorch checkpoint": run_script(
            "predict.py", f"ckpt_path={files['text']}", "text=great"
        ),
        "was not written by seqlab": run_script(
            "generate.py", f"ckpt_path={files['tensor']}", f"hydra.run.dir={tmp_path / 'c'}"
        ),
    }
    for expected, result in runs.items():
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr and "Error executing job" not in result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and expected in errors[0], result.stderr
        assert "Tip:" not in result.stdout + result.stderr  # Lightning's advertising
    # a refused command leaves no empty run folder behind (issue 26, item 14)
    assert not any((tmp_path / name).exists() for name in "abc")
