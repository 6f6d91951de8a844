"""Architectures as plain ``nn.Module``s that know nothing of Lightning."""
