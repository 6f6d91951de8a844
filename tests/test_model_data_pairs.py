"""Every model × data pair of conf/ trains, or is refused at set-up in one line (issue 15, item 7).

One batch of train, validation and test per pair (``debug=fdr``) on the real data mirror. A pair
the model cannot serve must end in a `SeqlabError` naming the pair (the CLI prints it as one
``error:`` line); any other exception, at set-up or mid-training, fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from seqlab.cli.train import train
from seqlab.data.verne import book_body, paragraphs_by_part
from seqlab.errors import SeqlabError
from tests.helpers import ROOT, compose_train, mirror_dir

MODELS = sorted(path.stem for path in (ROOT / "conf" / "model").glob("*.yaml"))
DATA = sorted(path.stem for path in (ROOT / "conf" / "data").glob("*.yaml"))

# pairs that crashed before issue 15 and what each must do now: train, or name its fix
EXPECTED = {
    ("conv1d", "chicago"): "data.sequence_length=69",
    ("conv1d", "chicago_multistep"): "model.kernel_sizes=[12,6,3]",
    ("conv1d", "imdb"): None,  # short reviews are padded up to the kernel stack
    ("dense", "imdb"): "data.pad_to=600",
    ("linear", "imdb"): "data.pad_to=600",
    ("bow", "imdb"): "data.output_mode=multi_hot",
}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for every pair: IMDB is tokenised once, not 19 times."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def verne_parts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's labelled texts, real ones: Verne's paragraphs by the part of the book they come
    from, as a CSV and as one folder of files per part."""
    folder = tmp_path_factory.mktemp("verne_parts")
    book = mirror_dir() / "verne" / "1268-0.txt"
    rows = paragraphs_by_part(book_body(book.read_bytes(), book))[::10]  # 301 paragraphs
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(folder / "parts.csv", index=False)
    for i, (text, part) in enumerate(rows):
        (folder / "parts" / part).mkdir(parents=True, exist_ok=True)
        (folder / "parts" / part / f"{i}.txt").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("model", MODELS)
def test_every_pair_trains_or_is_refused_in_one_line(model, data, cache_dir, verne_parts, tmp_path):
    overrides = [
        f"model={model}",
        f"data={data}",
        "debug=fdr",
        "callbacks.progress=null",
        f"paths.data_dir={mirror_dir()}",
        f"paths.cache_dir={cache_dir}",
    ]
    if data == "csv":  # a user's file: a real one, the benchmark's CSV, forecasting its CO2
        overrides += [f"data.path={mirror_dir() / 'jena_2020' / 'weather.csv'}", "data.target=OT"]
    if data == "text_csv":
        overrides += [f"data.path={verne_parts / 'parts.csv'}"]
    if data == "text_folder":
        overrides += [f"data.path={verne_parts / 'parts'}"]
    if data == "corpus":  # a user's text: a real one, the Verne book's file as it is
        overrides += [f"data.path={mirror_dir() / 'verne' / '1268-0.txt'}"]
    cfg = compose_train(overrides, tmp_path / "run")  # a fresh run folder per pair
    try:
        metrics = train(cfg)
    except SeqlabError as error:
        message = str(error)
        assert "\n" not in message and "cannot serve data=" in message, message
        if (model, data) in EXPECTED:
            fix = EXPECTED[model, data]
            assert fix is not None, f"model={model} data={data} should train: {message}"
            assert fix in message, message
    else:
        assert EXPECTED.get((model, data)) is None, f"model={model} data={data} should be refused"
        assert metrics.model == model and metrics.data == data, metrics
