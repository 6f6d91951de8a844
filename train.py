"""Train a model on a data set: `python train.py model=lstm data=jena` (see --help)."""

import hydra
from omegaconf import DictConfig

from seqlab.cli.common import run_cli
from seqlab.cli.train import train


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    metrics = run_cli(train, cfg)
    split, _, name = str(cfg.optimized_metric).partition("/")
    return metrics[split].get(name)


if __name__ == "__main__":
    main()
