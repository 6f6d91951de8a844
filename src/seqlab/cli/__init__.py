"""Entry points behind the top-level scripts (train.py, evaluate.py)."""
