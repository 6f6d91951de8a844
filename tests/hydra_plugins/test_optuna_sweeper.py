import os
import shlex
import subprocess
import sys
from types import SimpleNamespace

import matplotlib.image
import optuna
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn, JobStatus
from omegaconf import OmegaConf

import hydra_plugins.seqlab_optuna_sweeper as sweeper_module
from hydra_plugins.seqlab_optuna_sweeper import OptunaSweeper, distribution
from seqlab.errors import ConfigError
from tests.cli.test_train import run_cli
from tests.helpers import ROOT, mirror_dir


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("choice(16, 32)", optuna.distributions.CategoricalDistribution([16, 32])),
        ("range(1, 4)", optuna.distributions.IntDistribution(1, 3)),
        ("interval(0.0, 0.5)", optuna.distributions.FloatDistribution(0.0, 0.5)),
        (
            "tag(log, interval(1e-4, 1e-2))",
            optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True),
        ),
    ],
)
def test_hydra_sweep_syntax_becomes_an_optuna_distribution(text, expected):
    override = OverridesParser.create().parse_override(f"model.x={text}")
    assert distribution(override) == expected


class FakeLauncher:
    """Runs no training: each job returns a number made of its overrides, or fails."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.launched: list[list[str]] = []

    def launch(self, batch, initial_job_idx):
        self.launched.extend(batch)
        assert len(self.launched) < 20, "the search does not end"
        returns = []
        for overrides in batch:
            result = JobReturn(overrides=list(overrides), hydra_cfg=None)
            if self.fail:
                result.status = JobStatus.FAILED
                result.return_value = ConfigError("model.hidden_size=-4: give a positive number")
            else:
                result.status = JobStatus.COMPLETED
                result.return_value = float(len(str(overrides)))
            returns.append(result)
        return returns


UNITS_LR = {"model.lr": "interval(0.0, 1.0)", "model.units": "choice(8, 16, 32)"}


def fake_search(
    tmp_path,
    trials: int,
    launcher: FakeLauncher | None = None,
    params: dict[str, str] = UNITS_LR,
    fixed: tuple[str, ...] = (),
) -> optuna.Study:
    sweeper = OptunaSweeper(
        direction="minimize",
        study_name="fake",
        storage=f"sqlite:///{tmp_path}/study.db",
        n_trials=trials,
        n_jobs=1,
        seed=42,
        params=params,
    )
    sweeper.config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}})
    sweeper.hydra_context = SimpleNamespace(config_loader=None)
    sweeper.launcher = launcher or FakeLauncher()
    return sweeper.sweep(list(fixed))


def test_choices_among_lists_are_searched_as_their_override_text_and_drawn(tmp_path):
    """Issue 26, item 7: Optuna stores no lists, and its figures hash the choices."""
    override = OverridesParser.create().parse_override("model.units=choice([16], [64, 32])")
    assert distribution(override) == optuna.distributions.CategoricalDistribution(
        ["[16]", "[64,32]"]
    )
    launcher = FakeLauncher()
    params = {"model.lr": "interval(0.0, 1.0)", "model.units": "choice([16], [64, 32])"}
    study = fake_search(tmp_path, trials=3, launcher=launcher, params=params)
    assert {t.params["model.units"] for t in study.trials} <= {"[16]", "[64,32]"}
    chosen = {o for batch in launcher.launched for o in batch if o.startswith("model.units=")}
    assert chosen <= {"model.units=[16]", "model.units=[64,32]"} and chosen
    for name in ("history", "importances", "parallel_coordinate"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_a_study_continued_with_other_overrides_is_refused(tmp_path, no_figures, capsys):
    """Issue 26, item 6: another model's trials never mix into a study silently."""
    fake_search(tmp_path, trials=1, fixed=("model=gru",))
    fake_search(tmp_path, trials=2, fixed=("model=gru",))  # the same search: continues
    with pytest.raises(SystemExit) as stopped:
        fake_search(tmp_path, trials=3, fixed=("model=lstm",))
    assert stopped.value.code == 1
    line = capsys.readouterr().err.strip()
    assert line.startswith("error: study 'fake' (sqlite:///")
    assert "with the overrides model=gru, not model=lstm;" in line
    assert line.endswith("hydra.sweeper.study_name=<name>")


@pytest.fixture
def no_figures(monkeypatch):
    """Searches whose figures are not the point skip drawing them (a second each)."""
    monkeypatch.setattr(sweeper_module, "plot_study", lambda study, folder: {})


def test_a_resumed_search_proposes_new_points_instead_of_replaying_the_first_ones(
    tmp_path, no_figures
):
    fake_search(tmp_path, trials=2)
    fake_search(tmp_path, trials=3)
    trials = fake_search(tmp_path, trials=4).trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 4
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 4
    # seeded all the same: the same commands give the same trials
    again = tmp_path / "again"
    again.mkdir()
    for count in (2, 3):
        fake_search(again, trials=count)
    replay = fake_search(again, trials=4).trials
    assert [t.params for t in replay] == [t.params for t in trials]


def test_a_search_ends_with_optunas_figures_of_its_study(tmp_path):
    fake_search(tmp_path, trials=3)
    for name in ("history", "importances", "parallel_coordinate"):
        image = matplotlib.image.imread(tmp_path / f"{name}.png")
        assert image.shape[0] > 100 and image.shape[1] > 100
        assert image[..., :3].std() > 0  # something is drawn on it


def test_failed_trials_are_not_replaced_for_ever_and_keep_their_error(tmp_path, no_figures):
    launcher = FakeLauncher(fail=True)
    study = fake_search(tmp_path, trials=3, launcher=launcher)
    assert len(launcher.launched) == 3
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL] * 3
    assert {t.user_attrs["error"] for t in study.trials} == {
        "model.hidden_size=-4: give a positive number"
    }
    # fixed, the same command runs the trials still missing
    study = fake_search(tmp_path, trials=3)
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 3 and len(states) == 6


def search(tmp_path, trials: int, *extra: str):
    return run_cli(
        "train.py",
        "-m",
        "hparams_search=jena_optuna",
        "debug=limit",
        "callbacks.progress=null",
        *extra,
        f"hydra.sweeper.n_trials={trials}",
        f"hydra.sweep.dir={tmp_path}",
        f"hydra.sweeper.storage=sqlite:///{tmp_path}/study.db",
        env={"SEQLAB_DATA_DIR": str(mirror_dir())},
    )


@pytest.mark.integration
@pytest.mark.slow
def test_interrupted_search_resumes_from_its_sqlite_study_without_repeating_trials(tmp_path):
    first = search(tmp_path, trials=2)
    assert first.returncode == 0, first.stderr[-3000:]
    study = optuna.load_study(study_name="jena_gru", storage=f"sqlite:///{tmp_path}/study.db")
    assert len(study.trials) == 2 and all(t.value > 0 for t in study.trials)
    # a search killed mid-trial leaves that trial RUNNING in the storage
    space = {"model.hidden_size": optuna.distributions.CategoricalDistribution([16, 32, 64])}
    interrupted = study.ask(space)
    second = search(tmp_path, trials=3)
    assert second.returncode == 0, second.stderr[-3000:]
    third = search(tmp_path, trials=4)
    assert third.returncode == 0, third.stderr[-3000:]
    trials = optuna.load_study(
        study_name="jena_gru", storage=f"sqlite:///{tmp_path}/study.db"
    ).trials
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 4 and len(trials) == 5
    assert trials[interrupted.number].state == optuna.trial.TrialState.FAIL
    retried = trials[interrupted.number + 1]
    assert retried.params["model.hidden_size"] == interrupted.params["model.hidden_size"]
    assert retried.value is not None
    # the resumed searches proposed new points: no two trials ran the same parameters
    assert len({tuple(sorted(t.params.items())) for t in complete}) == 4
    assert (tmp_path / "optimization_results.yaml").exists()
    for figure in ("history", "importances", "parallel_coordinate"):
        assert (tmp_path / f"{figure}.png").stat().st_size > 1000


@pytest.mark.integration
@pytest.mark.slow
def test_a_search_whose_trials_fail_ends_with_one_line_per_trial_and_a_non_zero_exit(tmp_path):
    # every trial fails when the Trainer is built: the search must still end, after n_trials
    try:
        result = subprocess.run(
            [
                sys.executable,
                "train.py",
                "-m",
                "hparams_search=jena_optuna",
                "debug=limit",
                "callbacks.progress=null",
                "+trainer.no_such_option=1",
                "hydra.sweeper.n_trials=2",
                f"hydra.sweep.dir={tmp_path}",
                f"hydra.sweeper.storage=sqlite:///{tmp_path}/study.db",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "WANDB_MODE": "disabled", "SEQLAB_DATA_DIR": str(mirror_dir())},
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("a search whose trials all fail did not end")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("error: job ")]
    assert [line.split()[2] for line in failed] == ["trial-0", "trial-1"]
    assert all("+trainer.no_such_option=1" in line and "no_such_option" in line for line in failed)
    trials = optuna.load_study(
        study_name="jena_gru", storage=f"sqlite:///{tmp_path}/study.db"
    ).trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.FAIL] * 2
    assert all("no_such_option" in t.user_attrs["error"] for t in trials)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (ROOT / "conf" / "hparams_search").glob("*.yaml"))
)
def test_every_search_runs_to_its_end_with_its_figures(name, tmp_path):
    """Issue 26, item 7: each search as the README prints it, with tiny limits."""
    result = run_cli(
        "train.py",
        "-m",
        f"hparams_search={name}",
        "debug=limit",
        "callbacks.progress=null",
        "hydra.sweeper.n_trials=2",
        f"hydra.sweep.dir={tmp_path}",
        f"paths.cache_dir={tmp_path / 'cache'}",
        env={"SEQLAB_DATA_DIR": str(mirror_dir())},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for figure in ("history", "importances", "parallel_coordinate"):
        assert (tmp_path / f"{figure}.png").stat().st_size > 1000, result.stderr[-3000:]


@pytest.mark.integration
@pytest.mark.slow
def test_an_interrupted_search_draws_what_it_has_and_says_the_command_that_continues_it(tmp_path):
    """Issue 26, item 6: Ctrl-C in a trial; the printed command resumes the search."""
    assert search(tmp_path, 1).returncode == 0
    stop = [
        "+callbacks.stop._target_=tests.cli.test_resume.SignalAt",
        "+callbacks.stop.step=3",
        "+callbacks.stop.signal=SIGINT",
    ]
    interrupted = search(tmp_path, 3, *stop)
    assert interrupted.returncode == 130, interrupted.stderr[-3000:]
    assert "Traceback" not in interrupted.stderr
    (line,) = [x for x in interrupted.stderr.splitlines() if x.startswith("python train.py -m")]
    words = shlex.split(line)
    assert words[:3] == ["python", "train.py", "-m"] and "hparams_search=jena_optuna" in words
    assert (tmp_path / "history.png").exists()  # drawn from the trial done before the stop
    again = [w for w in words[3:] if not w.startswith("+callbacks.stop")]
    resumed = run_cli("train.py", "-m", *again, env={"SEQLAB_DATA_DIR": str(mirror_dir())})
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    trials = optuna.load_study(study_name="jena_gru", storage=f"sqlite:///{tmp_path}/study.db")
    states = [t.state for t in trials.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 3
