"""A tiny trainer config so every run in these tests takes about a second."""

import pytest

TINY_OVERRIDES = (
    "model.encoder_hidden=[64, 32]",
    "model.decoder_hidden=[32]",
    "model.latent_dim=8",
    "model.projection_hidden=16",
    "coverage.max_epochs=3",
    "coverage.batch_size=1024",
    "coverage.lr=0.01",
    "hierarchy.max_epochs=4",
    "hierarchy.batch_size=2048",
    "hierarchy.lr=0.01",
)


@pytest.fixture
def tiny_config():
    from ternary_vae.config import resolve_config

    return resolve_config(overrides=TINY_OVERRIDES)
