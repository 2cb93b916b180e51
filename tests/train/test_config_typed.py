import dataclasses

import pytest

from vaeaudit.ternary_vae.config import RULES, ModelConfig, default_config
from vaeaudit.ternary_vae.model import build_model


def test_model_keys_are_listed_once_in_the_typed_config():
    names = [spec.name for spec in dataclasses.fields(ModelConfig)]
    assert names == list(default_config()["model"])  # defaults.yaml documents the same keys, in order
    assert {key for key in RULES if key.startswith("model.")} == {f"model.{name}" for name in names}
    typed = ModelConfig.from_mapping(default_config()["model"])
    assert typed.latent_dim == 16 and typed.max_dist0 == pytest.approx(2 * 1.8317808230648225)  # 2·artanh(0.95)


def test_build_model_names_the_missing_model_keys():
    config = default_config()
    del config["model"]["curvature"], config["model"]["dropout"]
    with pytest.raises(ValueError, match="lacks dropout, curvature"):
        build_model(config)
