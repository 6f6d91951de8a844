"""Hydra's basic sweeper that runs every job of a sweep, registered as ``hydra/sweeper=seqlab``
(the default in ``conf/train.yaml``).

Hydra's own ``BasicSweeper`` re-raises the first failed job's exception once its batch is done:
the sweep stops with that one traceback, later batches never run and the multirun's end (where
``seqlab.compare.sweeps.SweepSummary`` prints its table) is never reached. Here a failed job is
left as it is (``SweepSummary.on_job_end`` records it in the job's ``status.json``); at the end the
summary lists every failed job in one line each and exits non-zero.
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

log = logging.getLogger(__name__)


@dataclass
class SeqlabSweeperConf:
    _target_: str = "hydra_plugins.seqlab_sweeper.SeqlabSweeper"
    # jobs per batch handed to the launcher; null: every job in one batch (as Hydra's basic)
    max_batch_size: Optional[int] = None  # noqa: UP045 (OmegaConf reads typing.Optional)
    params: Optional[dict[str, str]] = None  # noqa: UP045


ConfigStore.instance().store(
    group="hydra/sweeper", name="seqlab", node=SeqlabSweeperConf, provider="seqlab"
)


class SeqlabSweeper(BasicSweeper):
    """``BasicSweeper.sweep`` without the line that turns the first failed job into the sweep's
    exception: every batch runs, and the failures are reported once, after the summary."""

    def sweep(self, arguments: list[str]) -> list[Any]:
        assert self.config is not None
        assert self.launcher is not None
        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides([*self._parse_config(), *arguments])
        self.overrides = self.split_arguments(overrides, self.max_batch_size)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        returns: list[Any] = []
        initial_job_idx = 0
        while not self.is_done():
            batch = self.get_job_batch()
            tic = time.perf_counter()
            self.validate_batch_is_legal(batch)  # a composition error stops the sweep at once
            log.debug(f"validated {len(batch)} jobs in {time.perf_counter() - tic:.2f} s")
            # unlike BasicSweeper, no `result.return_value` here: it re-raises a failed job's error
            results = self.launcher.launch(batch, initial_job_idx=initial_job_idx)
            initial_job_idx += len(batch)
            returns.append(results)
        return returns
