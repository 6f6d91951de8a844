"""Comparing many runs: the leaderboard, its figures, sweep summaries."""
