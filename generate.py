"""Sample from a trained language model: `python generate.py ckpt_path=... prompt="The island"`."""

import hydra
from omegaconf import DictConfig

from seqlab.cli.common import run_cli
from seqlab.cli.generate import generate


@hydra.main(version_base="1.3", config_path="conf", config_name="generate")
def main(cfg: DictConfig) -> None:
    run_cli(generate, cfg)


if __name__ == "__main__":
    main()
