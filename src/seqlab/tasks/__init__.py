"""LightningModules, one per task kind: they own loss, metrics, optimiser and logging."""
