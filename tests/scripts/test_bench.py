"""make bench's measurements (seqlab.bench) on the fixtures: each section and its table."""

import json

import pytest
import torch

from seqlab.bench import gradients, imdb, memory, scratch, suite, training
from seqlab.run.compose import build_run
from tests.helpers import compose_train


@pytest.mark.slow
def test_a_precision_row_times_fp32_and_bf16_on_the_same_net(jena_hourly_dir):
    overrides = ["experiment=jena_lstm16", f"paths.data_dir={jena_hourly_dir}"]
    overrides += ["data.sequence_length=24", "data.delay=6", "data.batch_size=16"]
    row = training.precision("forecasting", overrides, 3)
    assert row["fp32_samples_per_s"] > 0 and row["bf16_samples_per_s"] > 0
    assert row["speedup"] == row["bf16_samples_per_s"] / row["fp32_samples_per_s"]


@pytest.mark.slow
def test_a_family_row_measures_both_loops_on_the_real_loaders(jena_hourly_dir):
    overrides = ["experiment=jena_lstm16", f"paths.data_dir={jena_hourly_dir}"]
    overrides += ["data.sequence_length=24", "data.delay=6", "data.batch_size=16"]
    row = training.family("forecasting", overrides, 3, "cpu", False)
    for key in ("plain", "trainer", "inference", "loader"):
        assert row[f"{key}_samples_per_s"] > 0
    assert row["overhead"] == row["plain_samples_per_s"] / row["trainer_samples_per_s"] - 1
    assert row["params"] == 1553  # LSTM(16) on 6 features and its linear head


def test_the_plain_loop_trains_on_the_tasks_own_training_loss(
    jena_hourly_dir, verne_dir, imdb_dir, tmp_path
):
    """`loss(batch)`, what the plain loop optimises, is the loss the Trainer's step returns."""
    for overrides in (
        ["data=jena", "model=gru", f"paths.data_dir={jena_hourly_dir}", "data.sequence_length=24"],
        ["data=verne", "model=charlm", f"paths.data_dir={verne_dir}", "data.batch_size=4"],
        ["data=imdb", "model=bilstm", f"paths.data_dir={imdb_dir}", "task.embedding_dim=8"],
    ):
        cfg = compose_train([*overrides, f"paths.cache_dir={tmp_path / 'cache'}"], tmp_path)
        datamodule, task = build_run(cfg)
        batch = next(iter(datamodule.train_dataloader()))
        torch.manual_seed(0)
        loss = task.loss(batch)
        torch.manual_seed(0)
        with pytest.warns(UserWarning, match="self.log"):  # no Trainer here to log to
            torch.testing.assert_close(loss, task.training_step(batch, 0), msg=overrides[0])


@pytest.mark.slow
def test_scratch_section_times_both_implementations_of_the_same_net(jena_hourly_dir):
    extra = [f"paths.data_dir={jena_hourly_dir}", "data.sequence_length=24", "data.delay=6"]
    results = scratch.measure(2, [*extra, "data.batch_size=16"])
    fused, ours = results["rows"][:2]
    assert (fused["impl"], ours["impl"]) == ("fused", "scratch")
    assert (
        fused["slowdown"] == 1
        and ours["slowdown"] == fused["samples_per_s"] / ours["samples_per_s"]
    )
    table = "\n".join(scratch.markdown(results))
    assert "| scratch | cpu |" in table and "No GPU in this run: the torch.compile" in table


@pytest.mark.slow
def test_gradients_measures_both_claims_and_writes_its_files(
    jena_hourly_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(jena_hourly_dir))
    results = gradients.measure(tmp_path, steps=2, clip_steps=2)
    assert set(results["vanishing"]) == {"rnn", "lstm", "gru"}
    assert len(results["vanishing"]["gru"]["end"]) == 120  # the Jena window
    assert all(len(run["loss"]) == 2 for run in results["clipping"].values())
    for name in ("grad_flow.png", "clipping.png", "gradients.json", "gradients.md"):
        assert (tmp_path / name).stat().st_size > 0
    assert "| lstm |" in (tmp_path / "gradients.md").read_text()


def test_jena_memory_probe_reports_against_the_float32_series(
    jena_hourly_dir, tmp_path, monkeypatch
):
    # the data directory is the configured one (conf/paths reads SEQLAB_DATA_DIR)
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(jena_hourly_dir))
    whole = memory.memory_probe()  # in this process: the fixture's checksum is patched in here
    assert whole["series_float32_bytes"] == 1200 * 6 * 4
    assert whole["retained_over_series"] < 2  # windows are never materialised
    csv = next(jena_hourly_dir.rglob("*.csv"))
    lines = csv.read_text().splitlines(keepends=True)
    (tmp_path / "part.csv").write_text("".join(lines[: len(lines) * 9 // 10]))
    part = memory.memory_probe(tmp_path / "part.csv")  # a shorter file: how memory grows with it
    assert 0 < part["series_float32_bytes"] < whole["series_float32_bytes"]
    json.dumps(part)  # what the probe process prints


def test_imdb_bench_times_vectorisation_and_three_epochs_on_the_configured_data(
    imdb_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(imdb_dir))
    monkeypatch.setenv("SEQLAB_CACHE_DIR", str(tmp_path / "cache"))
    result = imdb.measure(batches=2)
    assert (
        result["vectorise_int_1gram_cold_s"] >= 0 and "vectorise_multi_hot_2gram_cached_s" in result
    )
    for key in ("bucketed", "unsorted", "unsorted_packed"):
        assert result[key]["batches"] == 2 and "val_acc" not in result[key]
    assert result["speedup_vs_unsorted_packed"] > 0
    assert any(line.startswith("| length-bucketed |") for line in imdb.markdown(result))


PEAKS = ("retained", "reading_peak", "setup_peak")


def test_markdown_tables_every_measurement(tmp_path):
    row = {
        "entry": "jena_lstm16",
        "family": "forecasting",
        "device": "cpu",
        "bf16": False,
        "batch_size": 256,
        "params": 1553,
        "trainer_samples_per_s": 900.0,
        "plain_samples_per_s": 1000.0,
        "overhead": 1000 / 900 - 1,
        "inference_samples_per_s": 5000.0,
        "loader_samples_per_s": 90000.0,
        "loader_over_step_rate": 90.0,
        "epoch_s": 12.0,
    }
    memory = {
        "source": "jena.csv",
        "series_float32_bytes": 2**20,
        **{f"{k}_bytes": 2**20 for k in PEAKS},
        **{f"{k}_over_series": 1.0 for k in PEAKS},
        **{f"{k}_growth": 1.0 for k in PEAKS},
        **{f"{k}_growth_fixed_mmap": 1.0 for k in PEAKS},
    }
    results = {
        "machine": "cpu (2 cores)",
        "git_commit": "abc",
        "date": "2026-11-26",
        "families": [row],
        "jena_memory": memory,
        "scaling": {"batch_size": [(32, 10.0)], "sequence_length": [(120, 20.0)]},
        "gpu_note": "No GPU in this run.",
        "cpu_capability": "AVX512",
        "precision": [
            {
                "family": "language model",
                "entry": "verne_tbptt",
                "fp32_samples_per_s": 100.0,
                "bf16_samples_per_s": 245.0,
                "speedup": 2.45,
            }
        ],
    }
    table = suite.markdown(results)
    assert "| language model | verne_tbptt | 100 | 245 | 2.45x |" in table
    assert "CPU capability `AVX512`" in table
    assert "| forecasting | jena_lstm16 | cpu | 256 | 1,553 | 900 | 1,000 | +11.1 % |" in table
    assert "No GPU in this run." in table
    suite.plot_scaling(results["scaling"], tmp_path / "scaling.png")
    assert (tmp_path / "scaling.png").stat().st_size > 0
    json.dumps(results)  # what results.json holds
