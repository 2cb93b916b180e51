"""A short trainer config: narrower encoders, a few hierarchy epochs (seconds per run)."""

import pytest

# One thread: the suite may share the 2 cores with other jobs, and OpenMP threads that
# wait on a busy core slow everything down.
SHORT_OVERRIDES = ("threads=1", "model.encoder_hidden=[64, 64]", "coverage.max_epochs=10", "hierarchy.max_epochs=3")


@pytest.fixture
def short_overrides():
    return SHORT_OVERRIDES


@pytest.fixture
def short_config():
    from vaeaudit.ternary_vae.config import resolve_config

    return resolve_config(overrides=SHORT_OVERRIDES)


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """One uninterrupted short run, shared by every test that only reads its outputs."""
    from vaeaudit.ternary_vae.config import resolve_config
    from vaeaudit.ternary_vae.train import train

    run_dir = tmp_path_factory.mktemp("runs") / "reference"
    result = train(resolve_config(overrides=SHORT_OVERRIDES), run_dir)
    return run_dir, result
