import json

import mido
import pytest
import torch
from omegaconf import open_dict

from seqlab.cli.generate import generate
from seqlab.cli.train import train
from seqlab.errors import SeqlabError
from tests.helpers import TINY_VERNE, compose_train

TINY_LM = [
    "trainer=cpu",
    "trainer.max_epochs=1",
    "+trainer.limit_train_batches=3",
    "+trainer.limit_val_batches=2",
    "+trainer.limit_test_batches=2",
    "callbacks.progress=null",
    "logger=csv",
]


def generate_cfg(data_dir, output_dir, ckpt, *overrides):
    cfg = compose_train([f"ckpt_path={ckpt}", *overrides], output_dir, config_name="generate")
    with open_dict(cfg):
        cfg.paths.data_dir = str(data_dir)
        cfg.paths.cache_dir = str(output_dir.parent / "cache")
    return cfg


@pytest.mark.slow
def test_verne_charlm_trains_with_tbptt_and_generates_reproducibly(
    verne_dir, tmp_path, monkeypatch
):
    overrides = [
        *TINY_LM,
        *TINY_VERNE,
        "model=charlm",
        "model.embedding_dim=8",
        "model.hidden_size=16",
        f"paths.data_dir={verne_dir}",
    ]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    assert metrics.unit == "bits/char" and set(metrics.test) == {"loss", "bpc", "ppl", "acc"}
    assert 0 < metrics.test["bpc"] < 8
    sample = (tmp_path / "run" / "sample.txt").read_text(encoding="utf-8")
    assert sample.startswith("The island") and len(sample) == len("The island") + 30 + 1
    ckpt = metrics.checkpoint
    texts = []
    loads = []
    real = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(a[0]) or real(*a, **k))
    for name in ("a", "b"):
        cfg = generate_cfg(verne_dir, tmp_path / name, ckpt, 'prompt="Théß isle"', "length=25")
        info = generate(cfg)
        assert info["chars_per_s"] > 0
        texts.append((tmp_path / name / "sample.txt").read_text(encoding="utf-8"))
    assert texts[0] == texts[1] and texts[0].startswith("The isle")
    assert [str(p) for p in loads] == [str(ckpt)] * 2  # the checkpoint is read once per run


def test_tbptt_needs_stream_ordered_data(verne_dir, tmp_path):
    overrides = [*TINY_LM, "data=verne", "model=charlm", "model.hidden_size=8"]
    overrides += ["data.train_order=shuffle", "task.tbptt=true", f"paths.data_dir={verne_dir}"]
    overrides += ["data.sequence_length=16", "data.batch_size=4", "data.eval_streams=2"]
    with pytest.raises(SeqlabError, match="train_order=streams"):
        train(compose_train(overrides, tmp_path / "run"))


@pytest.mark.slow
def test_chorales_train_and_write_midi_wav_and_piano_roll(chorales_dir, tmp_path):
    overrides = [
        *TINY_LM,
        "data=chorales",
        "model=dilated_lstm",
        "model.filters=[4,4]",
        "model.hidden_size=8",
        "data.batch_size=2",
        "data.sample_chords=6",
        f"paths.data_dir={chorales_dir}",
        f"paths.cache_dir={tmp_path / 'cache'}",
    ]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    assert metrics.data_source["chorales"] == {"train": 3, "val": 2, "test": 2}
    assert 0 <= metrics.test["acc"] <= 1
    run = tmp_path / "run"
    notes = [m for m in mido.MidiFile(run / "sample.mid") if m.type == "note_on"]
    assert notes and all(36 <= m.note <= 81 for m in notes)
    assert (run / "sample.wav").stat().st_size > 44 and (run / "sample.png").stat().st_size > 0
    cfg = generate_cfg(chorales_dir, tmp_path / "gen", metrics.checkpoint, "prompt=1")
    info = generate(cfg)
    assert info["generated"] == 6 * 4 and info["unit"] == "notes"
    assert json.loads((tmp_path / "gen" / "generate.json").read_text())["prompt_tokens"] == 32
