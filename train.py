"""Train a model on a data set: `python train.py model=lstm data=jena` (see --help)."""

import hydra
from omegaconf import DictConfig

from seqlab.cli.common import main_arguments, run_cli
from seqlab.cli.train import train


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    return run_cli(train, cfg).metric(str(cfg.optimized_metric))


if __name__ == "__main__":
    main_arguments()  # trainer.limit_train_batches=5 without a "+"
    main()
