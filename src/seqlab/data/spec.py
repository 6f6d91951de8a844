"""Moved to `seqlab.spec`; kept until cli/common.py and scripts/bench_imdb.py import it there."""

from seqlab.spec import TaskSpec  # noqa: F401
