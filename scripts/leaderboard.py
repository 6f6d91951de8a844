"""Rebuild LEADERBOARD.md and leaderboard.csv: see `seqlab.cli.leaderboard` (``--help``)."""

from seqlab.cli.leaderboard import main

if __name__ == "__main__":
    main()
