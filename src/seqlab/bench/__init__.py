"""Performance benchmarks behind ``make bench`` (``scripts/bench.py``), measured on the real data.

`training`: each task family's training rate through the Trainer and a plain loop, inference,
loader rate, scaling; `memory`: the Jena DataModule's memory; `imdb`: IMDB vectorisation and
bucketed epochs; `suite`: the sections together, results.json, the tables and the plot.
"""
