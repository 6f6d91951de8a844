"""A thin Hydra sweeper on current Optuna (ask-and-tell), registered as ``hydra/sweeper=optuna``.

Why not hydra-optuna-sweeper: its last release (1.3.0) pins optuna<3, whose SQLite storage
breaks with SQLAlchemy 2, so resumable searches would need an old SQLAlchemy too. Here each
``hydra.sweeper.params`` entry uses Hydra's own sweep grammar (``choice(...)``, ``range(...)``,
``interval(...)``, ``tag(log, interval(...))``), trials run through whatever launcher is
configured (basic, joblib, submitit), and the study lives in an RDB storage so an interrupted
search resumes where it stopped.

A search launches ``n_trials`` less the trials the study already completed. A failed trial is
not replaced in the same search (a broken setting would otherwise fail trials for ever): it is
marked FAIL with its error line, the search ends non-zero listing it
(``seqlab.compare.sweeps``), and running the command again runs the missing trials. The
sampler is seeded from ``seed`` and the number of trials already in the study, so a resumed
search proposes new points instead of replaying the first search's.
"""

import logging
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import optuna
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, Override, RangeSweep
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from seqlab.errors import SeqlabError, print_error
from seqlab.files import atomic_path
from seqlab.run.folder import error_line, write_status

log = logging.getLogger(__name__)


@dataclass
class OptunaSweeperConf:
    _target_: str = "hydra_plugins.seqlab_optuna_sweeper.OptunaSweeper"
    direction: str = "minimize"
    study_name: str = "seqlab"
    # any SQLAlchemy URL; null keeps the study in memory (not resumable)
    storage: Optional[str] = None  # noqa: UP045 (OmegaConf reads typing.Optional)
    n_trials: int = 20
    # trials launched together (the launcher may run them in parallel)
    n_jobs: int = 1
    seed: Optional[int] = None  # noqa: UP045
    params: dict[str, str] = field(default_factory=dict)


ConfigStore.instance().store(
    group="hydra/sweeper", name="optuna", node=OptunaSweeperConf, provider="seqlab"
)


def hydra_value(value: object) -> object:
    """A choice Optuna cannot store (a list such as ``[64, 32]``) as the override text Hydra
    reads back into it (``[64,32]``); numbers, strings, booleans and None stay as they are."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return "[" + ",".join(str(hydra_value(v)) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def distribution(override: Override) -> optuna.distributions.BaseDistribution:
    """Hydra sweep syntax → Optuna distribution (lists among choices as their override text,
    so that the study stores them and its figures can draw them)."""
    value = override.value()
    if isinstance(value, ChoiceSweep):
        return optuna.distributions.CategoricalDistribution([hydra_value(v) for v in value.list])
    if isinstance(value, RangeSweep):
        if all(isinstance(x, int) for x in (value.start, value.stop, value.step)):
            return optuna.distributions.IntDistribution(
                value.start, value.stop - 1, step=value.step
            )
        return optuna.distributions.CategoricalDistribution(list(override.sweep_iterator()))
    if isinstance(value, IntervalSweep):
        log_scale = "log" in value.tags
        if isinstance(value.start, int) and isinstance(value.end, int):
            return optuna.distributions.IntDistribution(value.start, value.end, log=log_scale)
        return optuna.distributions.FloatDistribution(value.start, value.end, log=log_scale)
    raise ValueError(
        f"{override.input_line}: use choice(...), range(...) or [tag(log,] interval(...)[)]"
    )


# overrides that change how trials run or report, not what they find: a search continued
# with another logger, progress display or thread count is the same search
NOT_THE_SEARCH = ("callbacks", "logger", "paths.", "threads=", "trainer.enable_progress_bar")


class OptunaSweeper(Sweeper):
    """Asks Optuna for trials, launches them as Hydra jobs, tells it each job's return value."""

    def __init__(
        self,
        direction: str,
        study_name: str,
        storage: str | None,
        n_trials: int,
        n_jobs: int,
        seed: int | None,
        params: dict[str, str],
    ) -> None:
        self.direction = direction
        self.study_name = study_name
        self.storage = storage
        self.n_trials = n_trials
        self.n_jobs = n_jobs
        self.seed = seed
        self.params = params

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> optuna.Study:
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        fixed = [o.input_line for o in parser.parse_overrides(arguments)]
        space = {
            key: distribution(parser.parse_override(f"{key}={value}"))
            for key, value in (self.params or {}).items()
        }
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        study = optuna.create_study(
            study_name=self.study_name,
            storage=self.storage,
            direction=self.direction,
            load_if_exists=True,
        )
        self._check_same_search(study, fixed)
        study.sampler = self._sampler(len(study.trials))
        self._retry_interrupted(study)
        budget = self.n_trials - self._finished(study)
        launched = 0
        try:
            while launched < budget:
                count = min(self.n_jobs, budget - launched)
                trials = [study.ask(space) for _ in range(count)]
                batch = [
                    [*fixed, *(f"{key}={value}" for key, value in trial.params.items())]
                    for trial in trials
                ]
                results = self.launcher.launch(batch, initial_job_idx=trials[0].number)
                for trial, result in zip(trials, results, strict=True):
                    self._tell(study, trial, result)
                launched += count
        finally:  # interrupted too: the figures of the trials done (the same command resumes)
            self._report(study, sweep_dir)
        return study

    def _check_same_search(self, study: optuna.Study, fixed: list[str]) -> None:
        """A study continues only with the overrides it started with: trials of another model
        or data set would silently mix into its best value and its figures."""
        fixed = sorted(o for o in fixed if not o.lstrip("+~").startswith(NOT_THE_SEARCH))
        recorded = study.user_attrs.get("fixed_overrides")
        if recorded is None:
            study.set_user_attr("fixed_overrides", fixed)
            return
        if recorded != fixed:
            print_error(
                SeqlabError(
                    f"study {self.study_name!r} ({self.storage}) was searched with the overrides "
                    f"{' '.join(recorded) or '(none)'}, not {' '.join(fixed) or '(none)'}; "
                    "continue it with the same ones, or start a new study with "
                    "hydra.sweeper.study_name=<name>"
                )
            )
            sys.exit(1)

    def _sampler(self, trials_so_far: int) -> optuna.samplers.BaseSampler:
        """TPE seeded from ``seed`` and the trials already in the study: the same commands give
        the same trials, and a resumed search does not replay the points of the first one."""
        seed = None if self.seed is None else self.seed + trials_so_far
        return optuna.samplers.TPESampler(seed=seed)

    @staticmethod
    def _tell(study: optuna.Study, trial: optuna.Trial, result: JobReturn) -> None:
        """The job's value completes the trial; a failed job (or one that returned no number)
        fails it, with its error line kept as the trial's ``error`` attribute."""
        if result.status == JobStatus.FAILED:
            error = error_line(result._return_value)  # `return_value` would raise it again
        else:
            try:
                value = float(result.return_value)
            except (TypeError, ValueError):
                value = math.nan
            if math.isfinite(value):
                study.tell(trial, value)
                return
            error = (
                "the job returned no value: optimized_metric names no metric the run logs"
                if result.return_value is None
                else f"the job returned {result.return_value!r}, not a finite number"
            )
            job_dir = result.hydra_cfg.hydra.runtime.output_dir if result.hydra_cfg else None
            if job_dir:  # so that the sweep's end lists it with the other failures
                overrides = [str(o) for o in result.overrides or []]
                write_status(Path(job_dir), "failed", error=error, overrides=overrides)
        log.warning(f"trial {trial.number} failed: {error}")
        trial.set_user_attr("error", error)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)

    @staticmethod
    def _finished(study: optuna.Study) -> int:
        states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        return len(study.get_trials(deepcopy=False, states=states))

    @staticmethod
    def _retry_interrupted(study: optuna.Study) -> None:
        """Trials left RUNNING by a killed search are failed and queued again with their params.

        One search process per study is assumed: a second live worker's trials would look
        interrupted too.
        """
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        for trial in running:
            log.info(f"trial {trial.number} was interrupted; running it again")
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
            study.enqueue_trial(trial.params, skip_if_exists=False)

    @staticmethod
    def _report(study: optuna.Study, sweep_dir: Path) -> None:
        if not any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
            log.warning("no trial completed")
            return
        best = {
            "name": study.study_name,
            "best_value": study.best_value,
            "best_params": study.best_params,
            "best_trial": study.best_trial.number,
        }
        OmegaConf.save(OmegaConf.create(best), sweep_dir / "optimization_results.yaml")
        log.info(f"best {study.best_value:.4g} with {study.best_params}")
        for name, problem in plot_study(study, sweep_dir).items():
            log.warning(f"{name}.png not drawn: {problem}")


PLOTS = {
    "history": "plot_optimization_history",
    "importances": "plot_param_importances",
    "parallel_coordinate": "plot_parallel_coordinate",
}


def plot_study(study: optuna.Study, folder: Path) -> dict[str, str]:
    """Optuna's own matplotlib figures of the study (history, parameter importances, parallel
    coordinates) as PNGs in ``folder``; returns why any could not be drawn, since a figure
    must not fail a search whose trials are done."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as figures

    problems = {}
    for name, function in PLOTS.items():
        try:
            with warnings.catch_warnings():
                # Optuna's experimental-API and numpy's log-axis warnings: noise after a search
                warnings.simplefilter("ignore")
                axes = getattr(figures, function)(study)
            figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
            figure.set_size_inches(8, 5)
            figure.tight_layout()
            with atomic_path(folder / f"{name}.png") as tmp:
                figure.savefig(tmp, dpi=100, format="png")
            plt.close(figure)
        except Exception as problem:  # noqa: BLE001 (a figure must not fail a finished search)
            plt.close("all")
            problems[name] = f"{type(problem).__name__}: {str(problem).splitlines()[0]}"
    return problems
