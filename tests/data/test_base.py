"""What every DataModule inherits (data/base.py): set-up once, three loaders, one gather a batch."""

from pathlib import Path

import pytest
import torch

from seqlab.data.base import DataModule
from seqlab.spec import TaskSpec


class Batches:
    """A dataset whose ``__getitems__`` returns a whole batch (the data sets' contract)."""

    def __init__(self, count: int) -> None:
        self.values = torch.arange(count)

    def __len__(self) -> int:
        return len(self.values)

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        return (self.values[torch.as_tensor(indices)],)


class Counting(DataModule):
    """The least a data set writes: where its file is, and what it makes of it."""

    def __init__(self, data_dir: Path, batch_size: int = 4, download: bool = False) -> None:
        super().__init__(data_dir)
        self.save_hyperparameters(logger=False)
        self.located = self.built = 0

    def locate(self) -> Path:
        self.located += 1
        return self.data_dir / "file"

    def build(self, path: Path) -> None:
        self.built += 1
        self.datasets = {split: Batches(10) for split in ("train", "val", "test")}
        self.spec = TaskSpec("counting", "forecasting", "real", 1, 1)
        self.provenance = {"file": str(path)}


def test_setup_builds_once_from_what_prepare_data_located(tmp_path):
    dm = Counting(tmp_path)
    dm.prepare_data()
    for stage in ("fit", "validate", "test", "predict"):
        dm.setup(stage)
    assert (dm.located, dm.built) == (1, 1)
    assert dm.provenance == {"file": str(tmp_path / "file")}


def test_setup_locates_the_data_itself_without_prepare_data(tmp_path):
    dm = Counting(tmp_path)
    dm.setup("fit")
    assert (dm.located, dm.built) == (1, 1) and dm.path == tmp_path / "file"
    assert dm.cache_dir is None and not dm.streamed("train")


def test_only_training_batches_are_shuffled_and_each_is_what_the_dataset_returns(tmp_path):
    dm = Counting(tmp_path)
    dm.setup()
    torch.manual_seed(0)
    train = [batch for (batch,) in dm.train_dataloader()]
    assert [len(b) for b in train] == [4, 4, 2]
    assert sorted(torch.cat(train).tolist()) == list(range(10))
    assert torch.cat(train).tolist() != list(range(10))
    for loader in (dm.val_dataloader(), dm.test_dataloader()):
        assert [b.tolist() for (b,) in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
        assert loader.num_workers == 0


def test_a_data_set_may_batch_differently(tmp_path):
    class Pairs(Counting):
        def batching(self, split: str) -> dict:
            return {"batch_size": 2, "shuffle": False}

    dm = Pairs(tmp_path)
    dm.setup()
    assert len(list(dm.train_dataloader())) == 5


def test_a_data_set_must_say_where_its_data_are(tmp_path):
    class Nowhere(DataModule):
        pass

    with pytest.raises(NotImplementedError):
        Nowhere(tmp_path).setup()
