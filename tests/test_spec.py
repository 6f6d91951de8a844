"""The task spec (seqlab/spec.py): the contract between data sets, nets and tasks."""

import dataclasses

import pytest

from seqlab.spec import IGNORE, TaskSpec


def test_a_spec_describes_what_the_data_set_offers_in_one_line():
    tokens = TaskSpec("imdb", "classification", "tokens", input_size=100, output_size=1)
    assert tokens.describe() == (
        "data=imdb: classification task, tokens inputs (100 vocabulary), 1 output(s)"
    )
    real = TaskSpec("jena", "forecasting", "real", input_size=14, output_size=24, horizon=24)
    assert real.describe() == "data=jena: forecasting task, real inputs (14 features), 24 output(s)"


def test_a_spec_is_frozen_and_padding_targets_are_cross_entropys_ignore_index():
    spec = TaskSpec("verne", "language_model", "tokens", 80, 80)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.input_size = 81  # type: ignore[misc]
    assert IGNORE == -100  # torch.nn.functional.cross_entropy's default ignore_index
