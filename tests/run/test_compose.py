"""How a run is put together from its configuration (seqlab.run.compose)."""

import torch

from seqlab.run.compose import build_run
from tests.helpers import compose_train

DENORMAL = 1e-39  # below float32's smallest normal number, 1.2e-38


def test_flush_denormal_sets_the_cpu_arithmetic_of_the_run(jena_hourly_dir, tmp_path):
    base = ["data=jena", "model=gru", f"paths.data_dir={jena_hourly_dir}"]
    try:
        build_run(compose_train([*base, "flush_denormal=false"], tmp_path))
        assert (torch.tensor([DENORMAL]) * 1.0).item() > 0.0
        build_run(compose_train(base, tmp_path))  # the default: flushed
        assert (torch.tensor([DENORMAL]) * 1.0).item() == 0.0
    finally:
        torch.set_flush_denormal(False)
