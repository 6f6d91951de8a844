"""A place the run cannot write is one line naming the setting that moves it."""

import errno

import pytest
import torch
from omegaconf import OmegaConf

from seqlab.cli.common import trainer_arguments, unwritable
from seqlab.errors import ConfigError, SeqlabError
from seqlab.run.compose import compose_run, set_threads
from seqlab.run.options import check_options
from tests.cli.test_train import run_cli
from tests.helpers import mirror_dir

PATHS = OmegaConf.create(
    {"paths": {"output_dir": "/runs/a", "cache_dir": "/cache", "data_dir": "/data"}}
)


@pytest.mark.parametrize(
    ("path", "setting"),
    [
        ("/runs/a/csv/metrics.csv", "hydra.run.dir"),
        ("/cache/imdb/tokens.pt", "SEQLAB_CACHE_DIR"),
        ("/data/jena", "SEQLAB_DATA_DIR"),
    ],
)
def test_the_setting_that_moves_the_place_is_named(path, setting):
    error = unwritable(PermissionError(errno.EACCES, "Permission denied", path), PATHS)
    assert (
        str(error)
        == f"cannot write {path} (Permission denied); point {setting} at a writable folder"
    )


def test_other_os_errors_are_not_explained_away():
    assert unwritable(FileNotFoundError(errno.ENOENT, "No such file", "/cache/x"), PATHS) is None
    assert (
        unwritable(OSError(errno.EROFS, "Read-only file system", "/elsewhere"), PATHS) is not None
    )


@pytest.mark.integration
@pytest.mark.slow
def test_an_unwritable_cache_is_one_line(tmp_path):
    result = run_cli(
        "train.py",
        "data=chorales",
        "model=charlm",
        "debug=fdr",
        f"hydra.run.dir={tmp_path / 'run'}",
        env={"SEQLAB_DATA_DIR": str(mirror_dir()), "SEQLAB_CACHE_DIR": "/sys/seqlab-cache"},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: cannot write /sys/seqlab-cache (Operation not permitted); "
        "point SEQLAB_CACHE_DIR at a writable folder"
    )
    assert "Traceback" not in result.stderr


def test_threads_come_from_the_config_and_its_default_leaves_torchs(tmp_path):
    """``threads=`` (conf/train.yaml) sets torch's thread count; null, the default, leaves it
    alone, so runs made before the option keep their digits."""
    assert compose_run([], tmp_path).threads is None
    before = torch.get_num_threads()
    try:
        set_threads(None)
        assert torch.get_num_threads() == before
        set_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ConfigError, match=r"threads=0 is not allowed"):
        check_options(compose_run(["threads=0"], tmp_path))


def test_any_trainer_option_is_an_override_and_a_typo_names_the_nearest():
    """Issue 26, item 8: `trainer.limit_train_batches=5` as the README writes it, no `+`."""
    argv = ["model=gru", "trainer=cpu", "trainer.max_epochs=3", "trainer.limit_train_batches=5"]
    assert trainer_arguments([*argv, "+trainer.limit_val_batches=2", "-m"]) == [
        "model=gru",
        "trainer=cpu",
        "trainer.max_epochs=3",  # configured: Hydra's own checks apply
        "++trainer.limit_train_batches=5",
        "+trainer.limit_val_batches=2",
        "-m",
    ]
    with pytest.raises(SeqlabError, match=r"trainer.max_epoch is not an option .* did you mean "):
        trainer_arguments(["trainer.max_epoch=3"])
