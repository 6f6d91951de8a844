import optuna
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from hydra_plugins.seqlab_optuna_sweeper import distribution
from tests.cli.test_train import run_cli
from tests.helpers import mirror_dir


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


def search(tmp_path, trials: int):
    return run_cli(
        "train.py",
        "-m",
        "hparams_search=jena_optuna",
        "debug=limit",
        "callbacks.rich_progress_bar=null",
        f"hydra.sweeper.n_trials={trials}",
        f"hydra.sweep.dir={tmp_path}",
        f"hydra.sweeper.storage=sqlite:///{tmp_path}/study.db",
        env={"SEQLAB_DATA_DIR": str(mirror_dir())},
    )


@pytest.mark.integration
@pytest.mark.slow
def test_interrupted_search_resumes_from_its_sqlite_study(tmp_path):
    first = search(tmp_path, trials=1)
    assert first.returncode == 0, first.stderr[-3000:]
    study = optuna.load_study(study_name="jena_gru", storage=f"sqlite:///{tmp_path}/study.db")
    assert len(study.trials) == 1 and study.trials[0].value > 0
    # a search killed mid-trial leaves that trial RUNNING in the storage
    space = {"model.hidden_size": optuna.distributions.CategoricalDistribution([16, 32, 64])}
    interrupted = study.ask(space)
    second = search(tmp_path, trials=2)
    assert second.returncode == 0, second.stderr[-3000:]
    trials = optuna.load_study(
        study_name="jena_gru", storage=f"sqlite:///{tmp_path}/study.db"
    ).trials
    states = [t.state for t in trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 2
    assert trials[interrupted.number].state == optuna.trial.TrialState.FAIL
    retried = trials[interrupted.number + 1]
    assert retried.params["model.hidden_size"] == interrupted.params["model.hidden_size"]
    assert retried.value is not None
    assert (tmp_path / "optimization_results.yaml").exists()
