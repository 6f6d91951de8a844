"""Data sources, windows, vectorisation and one LightningDataModule per data set."""
