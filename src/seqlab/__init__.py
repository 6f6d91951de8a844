"""seqlab: deep sequence models on classic data sets, with Lightning and Hydra."""
