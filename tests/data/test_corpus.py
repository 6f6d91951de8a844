"""data=corpus: any text file, or a folder of them, as a language model (issue 23, part 2)."""

import pytest

from seqlab.cli.generate import generate
from seqlab.cli.train import train
from seqlab.data.corpus import FILE_END, CorpusDataModule
from seqlab.errors import DataError
from tests.cli.test_lm_cli import TINY_LM, generate_cfg
from tests.helpers import compose_train

LYRICS = "Twinkle, twinkle, little star,\nHow I wonder what you are!\n" * 40


def corpus(path, **options):
    dm = CorpusDataModule(
        path.parent, path=str(path), sequence_length=8, batch_size=2, eval_streams=2, **options
    )
    dm.prepare_data()
    dm.setup()
    return dm


def test_a_file_by_characters_and_by_words(tmp_path):
    song = tmp_path / "song.txt"
    song.write_text(LYRICS, encoding="utf-8")
    chars = corpus(song)
    assert chars.spec.unit == "bits/char" and chars.provenance["body_chars"] == len(LYRICS)
    assert chars.decode(chars.prompt_tokens("Twinkle")) == "Twinkle"
    words = corpus(song, level="word")
    assert words.spec.unit == "bits/word" and words.provenance["body_words"] == 40 * 16
    assert "twinkle" in words.vocab and "\n" in words.vocab
    assert words.decode(words.prompt_tokens("How I wonder")) == "How I wonder"


def test_a_folder_is_one_corpus_with_each_files_end_marked(tmp_path):
    folder = tmp_path / "songs"
    folder.mkdir()
    (folder / "a.txt").write_text(LYRICS, encoding="utf-8")
    (folder / "b.txt").write_text(LYRICS.upper(), encoding="utf-8")
    dm = corpus(folder)
    assert dm.provenance["body_chars"] == 2 * len(LYRICS) + 2 and FILE_END in dm.vocab


@pytest.mark.parametrize(
    ("content", "options", "says"),
    [
        (None, {}, "does not exist"),
        (b"", {}, "holds no text"),
        (b"short text", {}, "lower data.eval_streams, or give a longer text"),
        (
            LYRICS.encode() + b"caf\xe9\n",
            {},
            "line 81: bytes that are not utf-8-sig (b'\\xe9\\n'); ",
        ),
        (b"abc", {"encoding": "klingon"}, "data.encoding=klingon: no such encoding"),
    ],
)
def test_each_bad_text_is_one_line(tmp_path, content, options, says):
    path = tmp_path / "text.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=None) as error:
        corpus(path, **options)
    assert says in str(error.value) and "\n" not in str(error.value), error.value
    if "not utf-8" in says:
        assert corpus(path, encoding="latin-1").provenance["body_chars"] > 0


@pytest.mark.slow
def test_a_corpus_trains_and_generates(tmp_path):
    song = tmp_path / "song.txt"
    song.write_text(LYRICS * 5, encoding="utf-8")
    overrides = [
        *TINY_LM,
        "data=corpus",
        f"data.path={song}",
        "data.sequence_length=16",
        "data.batch_size=4",
        "data.eval_streams=2",
        "data.sample_length=30",
        "model=charlm",
        "model.embedding_dim=8",
        "model.hidden_size=16",
    ]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    assert metrics.data == "corpus" and 0 < metrics.test["bpc"] < 8
    assert (tmp_path / "run" / "sample.txt").read_text(encoding="utf-8").startswith("The")
    cfg = generate_cfg(
        tmp_path, tmp_path / "gen", metrics.checkpoint, 'prompt="Twinkle"', "length=20"
    )
    generate(cfg)
    assert (tmp_path / "gen" / "sample.txt").read_text(encoding="utf-8").startswith("Twinkle")
