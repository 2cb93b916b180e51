"""The ternary VAE: two encoders, one decoder, one trainable projection into the Poincaré ball.

Encoder A and the decoder learn to reconstruct every operation (coverage); once they do,
they are frozen and encoder B plus the projection learn the radial hierarchy, so the
hierarchy can never cost coverage. The projection splits a Euclidean latent into a
direction and a hyperbolic radius capped below `max_radius` (a Euclidean ball radius),
which keeps the radial gradient alive everywhere instead of clamping at the cap.

`build_model(config)` must stay deterministic in parameter names and work under
`torch.device("meta")`: the checkpoint auditor rebuilds models that way from
`checkpoint["config"]` to check state dicts strictly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from vaeaudit.ternary_vae import geometry
from vaeaudit.ternary_vae.config import ModelConfig
from vaeaudit.ternary_vae.data import N_TRITS

N_CLASSES = 3  # trit values −1, 0, 1 decoded as classes 0, 1, 2
ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU, "gelu": nn.GELU}


def _mlp(sizes: list[int], activation: str, layer_norm: bool, dropout: float) -> nn.Sequential:
    """Linear layers through `sizes`, each followed by [LayerNorm,] activation [, dropout]."""
    layers: list[nn.Module] = []
    for width_in, width_out in zip(sizes, sizes[1:], strict=False):
        layers.append(nn.Linear(width_in, width_out))
        if layer_norm:
            layers.append(nn.LayerNorm(width_out))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """Trits (…, 9) → (μ, log σ²) of a diagonal Gaussian in R^latent_dim."""

    def __init__(self, hidden: list[int], latent_dim: int, logvar_range: tuple[float, float], **mlp_options: Any):
        super().__init__()
        self.body = _mlp([N_TRITS, *hidden], **mlp_options)
        self.mu = nn.Linear(hidden[-1], latent_dim)
        self.logvar = nn.Linear(hidden[-1], latent_dim)
        self.logvar_range = logvar_range

    def forward(self, trits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(trits)
        return self.mu(features), self.logvar(features).clamp(*self.logvar_range)


class Decoder(nn.Module):
    """Latent (…, latent_dim) → logits (…, 9, 3) over the three values of each trit."""

    def __init__(self, hidden: list[int], latent_dim: int, **mlp_options: Any):
        super().__init__()
        self.body = _mlp([latent_dim, *hidden], **mlp_options)
        self.logits = nn.Linear(hidden[-1], N_TRITS * N_CLASSES)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.logits(self.body(latent)).unflatten(-1, (N_TRITS, N_CLASSES))


class BallProjection(nn.Module):
    """Euclidean latent → point of the Poincaré ball of curvature −c, inside `max_radius`.

    The hyperbolic radius is max_dist0 · sigmoid(radius head), where max_dist0 is the
    distance from the origin of a point at Euclidean radius `max_radius`; the direction is
    a learned linear map, normalised. The point is exp_map_zero(direction · dist0 / 2), so
    `geometry.poincare_radius(point)` is exactly the radius the head asked for; `polar`
    gives both parts, so a loss can train the radius and the direction separately.
    """

    def __init__(self, latent_dim: int, hidden: int, activation: str, curvature: float, max_dist0: float):
        super().__init__()
        self.direction = nn.Linear(latent_dim, latent_dim)
        self.radius = nn.Sequential(nn.Linear(latent_dim, hidden), ACTIVATIONS[activation](), nn.Linear(hidden, 1))
        self.curvature = curvature
        self.max_dist0 = max_dist0

    def polar(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(unit direction (…, d), hyperbolic radius dist0 (…,)) of the projected point."""
        unit_direction = nn.functional.normalize(self.direction(latent), dim=-1)
        return unit_direction, self.max_dist0 * torch.sigmoid(self.radius(latent)).squeeze(-1)

    def to_ball(self, unit_direction: torch.Tensor, dist0: torch.Tensor) -> torch.Tensor:
        """The ball point at hyperbolic radius `dist0` in direction `unit_direction`."""
        return geometry.exp_map_zero(unit_direction * (dist0.unsqueeze(-1) / 2.0), c=self.curvature)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.to_ball(*self.polar(latent))


class TernaryVAE(nn.Module):
    """Dual-encoder VAE; see the module docstring for which part each phase trains."""

    def __init__(self, model_config: ModelConfig):
        super().__init__()
        mlp_options = {"activation": model_config.activation, "layer_norm": model_config.layer_norm, "dropout": model_config.dropout}
        latent_dim = model_config.latent_dim
        logvar_range = (model_config.logvar_min, model_config.logvar_max)
        self.encoder_A = Encoder(list(model_config.encoder_hidden), latent_dim, logvar_range, **mlp_options)
        self.encoder_B = Encoder(list(model_config.encoder_hidden), latent_dim, logvar_range, **mlp_options)
        self.decoder = Decoder(list(model_config.decoder_hidden), latent_dim, **mlp_options)
        self.projection = BallProjection(
            latent_dim, model_config.projection_hidden, model_config.activation, model_config.curvature, model_config.max_dist0
        )
        self.curvature = model_config.curvature
        self.max_radius = model_config.max_radius

    def coverage_parameters(self) -> list[nn.Parameter]:
        """What phase 1 trains: encoder A and the decoder."""
        return [*self.encoder_A.parameters(), *self.decoder.parameters()]

    def hierarchy_parameters(self) -> list[nn.Parameter]:
        """What phase 2 trains: encoder B and the projection."""
        return [*self.encoder_B.parameters(), *self.projection.parameters()]

    def freeze_coverage(self) -> None:
        """Stop gradients into encoder A and the decoder (phase 2)."""
        for parameter in self.coverage_parameters():
            parameter.requires_grad_(False)


def build_model(config: Mapping[str, Any]) -> TernaryVAE:
    """The model described by a full resolved config (as stored in `checkpoint["config"]`)."""
    model_config = config.get("model")
    if not isinstance(model_config, Mapping):
        raise ValueError("config has no 'model' section")
    return TernaryVAE(ModelConfig.from_mapping(model_config))
