"""Evaluate a trained checkpoint: `python evaluate.py ckpt_path=logs/train/runs/.../best.ckpt`."""

import hydra
from omegaconf import DictConfig
from rich import print_json

from seqlab.cli.common import main_arguments, run_cli
from seqlab.cli.evaluate import evaluate


@hydra.main(version_base="1.3", config_path="conf", config_name="eval")
def main(cfg: DictConfig) -> None:
    print_json(data=run_cli(evaluate, cfg))


if __name__ == "__main__":
    main_arguments()  # trainer.limit_train_batches=5 without a "+"
    main()
