"""One run's machinery: composed and built (compose, trainer), its folder (folder), option checks,
callbacks, loggers, curves, gradient flow, its record (metrics.json) and its checkpoints."""
