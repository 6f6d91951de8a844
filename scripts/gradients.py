"""Vanishing and exploding gradients on the Jena windows → benchmarks/grad_flow.png, clipping.png,
gradients.md and gradients.json (`seqlab.bench.gradients`; a few minutes on two CPU cores).

    python scripts/gradients.py [--steps 100] [--clip-steps 60] [--lr 0.5] [--clip 1.0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from seqlab.bench.gradients import measure
from seqlab.run.compose import ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps of each cell")
    parser.add_argument("--clip-steps", type=int, default=60, help="steps of each clipping run")
    parser.add_argument("--lr", type=float, default=0.5, help="SGD learning rate, clipping runs")
    parser.add_argument("--clip", type=float, default=1.0, help="trainer.gradient_clip_val")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    args = parser.parse_args()
    measure(args.out, args.steps, args.clip_steps, args.lr, args.clip)
    print(f"[gradients] wrote {args.out / 'gradients.md'}, grad_flow.png, clipping.png")


if __name__ == "__main__":
    main()
