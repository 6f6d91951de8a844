import pytest
import torch

from seqlab.data.verne import VerneDataModule, book_body
from seqlab.errors import DataError
from tests.conftest import VERNE_BODY
from tests.helpers import mirror_dir


def test_body_drops_gutenberg_header_credits_and_licence(verne_dir):
    path = verne_dir / "verne" / "1268-0.txt"
    body = book_body(path.read_bytes(), path)
    assert body == VERNE_BODY.strip()
    assert "\r" not in body and "\ufeff" not in body


def test_missing_markers_is_a_data_error(tmp_path):
    path = tmp_path / "1268-0.txt"
    with pytest.raises(DataError, match="markers"):
        book_body(b"just some text", path)


def test_contiguous_splits_vocabulary_from_training_part(verne_dir):
    dm = VerneDataModule(verne_dir, sequence_length=16, batch_size=4, eval_streams=2)
    dm.prepare_data()
    dm.setup()
    n = len(VERNE_BODY)
    chars = dm.provenance["split_chars"]
    assert sum(chars.values()) == n and chars["val"] == chars["test"] == int(0.05 * n)
    assert "è" not in dm.vocab  # only in the test range: scored as the unknown id
    assert dm.provenance["unknown_chars"] == {"train": 0, "val": 0, "test": 1}
    assert dm.spec.input_size == dm.spec.output_size == len(dm.vocab)
    # training batches continue the same streams
    first, second = list(dm.train_dataloader())[:2]
    text = dm.decode(first[0][1]) + dm.decode(second[0][1])
    assert text in VERNE_BODY
    assert torch.equal(first[1][:, :-1], first[0][:, 1:])


def test_prompt_folds_or_drops_unknown_characters(verne_dir):
    dm = VerneDataModule(verne_dir, sequence_length=16, batch_size=4, eval_streams=2)
    dm.setup()
    with pytest.warns(UserWarning, match="ß"):
        tokens = dm.prompt_tokens("Théß sea")
    assert dm.decode(tokens) == "The sea"
    assert dm.decode(dm.prompt_tokens(None)) == "The island"


@pytest.mark.parametrize(
    ("options", "problem", "option"),
    [
        (
            {"train_order": "shuffle", "sequence_length": 10_000},
            r"train split: no window of 10000\+1 tokens fits",
            "sequence_length",
        ),
        ({"eval_streams": 1_000}, "val split: .* tokens cannot fill 1000 streams", "eval_streams"),
    ],
)
def test_windows_or_streams_a_split_cannot_hold_are_one_data_error(
    verne_dir, options, problem, option
):
    dm = VerneDataModule(verne_dir, **{"sequence_length": 16, "batch_size": 4, **options})
    with pytest.raises(DataError, match=f"data=verne, {problem}") as error:
        dm.setup()
    assert str(error.value).endswith(f"; lower data.{option}") and "\n" not in str(error.value)


@pytest.mark.integration
def test_mirror_book_body_and_vocabulary():
    dm = VerneDataModule(mirror_dir(), sequence_length=40, download=False)
    dm.prepare_data()
    dm.setup()
    text = dm.decode(dm.datasets["train"].series[:21])
    assert text == "THE MYSTERIOUS ISLAND"
    assert dm.provenance["body_chars"] == 1112261
    assert len(dm.vocab) == 80 and dm.provenance["unknown_chars"]["test"] == 0


def test_paragraphs_are_labelled_by_the_part_they_come_from():
    from seqlab.data.verne import paragraphs_by_part

    long = " ".join(["word"] * 25)
    body = f"PART 1--DROPPED\n\n{long}\n\nshort one\n\nPART 2\n\nABANDONED\n\n{long} two\n"
    assert paragraphs_by_part(body) == [(long, "part 1"), (f"{long} two", "part 2")]
