"""Classify new text: `python predict.py ckpt_path=logs/train/runs/.../best.ckpt text="Great!"`."""

from seqlab.cli.common import run_cli
from seqlab.cli.predict import main

if __name__ == "__main__":
    run_cli(lambda _: main(), None)
