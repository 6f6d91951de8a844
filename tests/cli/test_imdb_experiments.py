import pytest

from tests.helpers import ROOT, compose_train

EXPERIMENTS = sorted(p.stem for p in (ROOT / "conf" / "experiment").glob("imdb_*.yaml"))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_imdb_experiments_compose_to_pinned_recipes(name, tmp_path):
    cfg = compose_train([f"experiment={name}"], tmp_path)
    assert cfg.data._target_.endswith("ImdbDataModule")
    assert cfg.task.monitor == "val/acc" and cfg.task.monitor_mode == "max"
    assert cfg.seed == 42 and cfg.trainer.max_epochs > 0
    bag = cfg.data.output_mode != "int"
    assert bag == cfg.model._target_.endswith("BagOfWords")


def test_unmasked_variants_pad_to_600_like_the_reference(tmp_path):
    for name in ("imdb_embedding_bilstm", "imdb_onehot_bilstm"):
        cfg = compose_train([f"experiment={name}"], tmp_path)
        assert cfg.data.pad_to == 600 and cfg.model.bidirectional
    assert compose_train(["experiment=imdb_onehot_bilstm"], tmp_path).task.one_hot
