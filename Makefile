# Set-up is part of every target: the virtual environment is created on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=
ONLY ?=
LONG ?=
SEEDS ?= 3
SINGLE_SEED_AFTER ?= 400
JOBS ?= 2

.PHONY: train test lint leaderboard bench clean-venv

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

train: $(VENV)/.installed
	$(PY) train.py $(ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest -q $(ARGS)

# every conf/experiment/ entry from scratch -> LEADERBOARD.md, leaderboard.csv
# (ONLY=jena; SEEDS=3 seeds per entry, 1 for one whose last run took SINGLE_SEED_AFTER s or more;
# JOBS=2 entries trained at once, each with cpus/JOBS threads, printed in its command;
# LONG=1 also trains the entries whose leaderboard.long says why they are left out)
leaderboard: $(VENV)/.installed
	$(PY) scripts/leaderboard.py --seeds $(SEEDS) --single-seed-after $(SINGLE_SEED_AFTER) \
		--jobs $(JOBS) $(if $(ONLY),--only $(ONLY)) $(if $(LONG),--long)

# throughput, Lightning overhead, loader rate, Jena memory, scaling, IMDB vectorisation and
# bucketing -> benchmarks/README.md, results.json, scaling.png (ARGS="--imdb-full-epochs")
bench: $(VENV)/.installed
	$(PY) scripts/bench.py $(ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

clean-venv:
	rm -rf $(VENV)
