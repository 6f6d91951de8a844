import importlib.util
import json

from tests.helpers import ROOT

spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_a_family_row_measures_both_loops_on_the_real_loaders(jena_hourly_dir):
    overrides = ["experiment=jena_lstm16", f"paths.data_dir={jena_hourly_dir}"]
    overrides += ["data.sequence_length=24", "data.delay=6", "data.batch_size=16"]
    row = bench.family("forecasting", overrides, 3, "cpu", False)
    for key in ("plain", "trainer", "inference", "loader"):
        assert row[f"{key}_samples_per_s"] > 0
    assert row["overhead"] == row["plain_samples_per_s"] / row["trainer_samples_per_s"] - 1
    assert row["params"] == 1553  # LSTM(16) on 6 features and its linear head


def test_jena_memory_probe_reports_against_the_float32_series(
    jena_hourly_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("SEQLAB_DATA_DIR", str(jena_hourly_dir))
    bench._memory_probe("")  # in this process: the fixture's checksum is patched in here only
    memory = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert memory["series_float32_bytes"] == 1200 * 6 * 4
    assert memory["retained_over_series"] < 2  # windows are never materialised
    csv = next(jena_hourly_dir.rglob("*.csv"))
    lines = csv.read_text().splitlines(keepends=True)
    (tmp_path / "part.csv").write_text("".join(lines[: len(lines) * 9 // 10]))
    bench._memory_probe(str(tmp_path / "part.csv"))  # a shorter file: how memory grows with it
    part = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 < part["series_float32_bytes"] < memory["series_float32_bytes"]


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
    }
    table = bench.markdown(results)
    assert "| forecasting | jena_lstm16 | cpu | 256 | 1,553 | 900 | 1,000 | +11.1 % |" in table
    assert "No GPU in this run." in table
    bench.plot_scaling(results["scaling"], tmp_path / "scaling.png")
    assert (tmp_path / "scaling.png").stat().st_size > 0
    json.dumps(results)  # what results.json holds
