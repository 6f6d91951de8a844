"""Entry points behind train.py, evaluate.py, generate.py, predict.py and scripts/leaderboard.py;
`common` composes and builds a run (`build_run`), `restore` rebuilds one from its checkpoint
(`restore_run`)."""
