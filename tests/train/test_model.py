import pytest
import torch

from vaeaudit.ternary_vae import geometry
from vaeaudit.ternary_vae.config import max_dist0
from vaeaudit.ternary_vae.model import build_model


def test_builds_on_the_meta_device_with_the_same_parameter_names(short_config):
    with torch.device("meta"):
        on_meta = build_model(short_config)
    on_cpu = build_model(short_config)
    assert all(tensor.is_meta for tensor in on_meta.state_dict().values())
    assert list(on_meta.state_dict()) == list(on_cpu.state_dict())
    shapes = {name: tensor.shape for name, tensor in on_cpu.state_dict().items()}
    assert shapes == {name: tensor.shape for name, tensor in on_meta.state_dict().items()}


def test_default_architecture_matches_the_original(short_config):
    from vaeaudit.ternary_vae.config import default_config

    model = build_model(default_config())
    assert [layer.out_features for layer in model.encoder_A.body if isinstance(layer, torch.nn.Linear)] == [256, 128, 64]
    assert model.encoder_B.mu.out_features == 16
    assert model.decoder.logits.out_features == 27


def test_projection_stays_inside_the_radius_cap(short_config):
    model = build_model(short_config)
    latent = torch.randn(500, short_config["model"]["latent_dim"]) * 100
    with torch.no_grad():
        points = model.projection(latent)
    radius = geometry.poincare_radius(points)
    assert float(radius.max()) <= max_dist0(short_config["model"]) * (1 + 1e-5)
    inside = geometry.project_to_ball(points, max_norm=short_config["model"]["max_radius"])
    assert torch.allclose(inside, points, atol=1e-6)


def test_improved_components_are_built_when_asked(short_config):
    short_config["model"].update(layer_norm=True, dropout=0.1, activation="gelu")
    kinds = {type(layer) for layer in build_model(short_config).encoder_B.body}
    assert {torch.nn.LayerNorm, torch.nn.Dropout, torch.nn.GELU} <= kinds


def test_logvar_is_clamped(short_config):
    model = build_model(short_config)
    with torch.no_grad():
        _, logvar = model.encoder_A(torch.randn(100, 9) * 1e4)
    assert float(logvar.min()) >= -10.0 and float(logvar.max()) <= 2.0


def test_missing_model_keys_are_named(short_config):
    del short_config["model"]["curvature"]
    with pytest.raises(ValueError, match="curvature"):
        build_model(short_config)
