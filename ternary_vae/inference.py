"""Use a trained model: load it from a checkpoint and embed operations in the Poincaré ball.

    from vaeaudit.ternary_vae import load_model, embed
    model = load_model("runs/my_run/best.pt")           # eval mode, on the CPU
    points = embed(model, encoder="B")                   # (19683, latent_dim) ball points
    radius = geometry.poincare_radius(points.double())   # the hierarchy lives in the radius

Both signatures are stable: `checkpoints report --recompute` and user scripts call them.
"""

from __future__ import annotations

import os

import torch

from vaeaudit.ternary_vae.data import all_operations
from vaeaudit.ternary_vae.model import TernaryVAE, build_model

WEIGHT_KEYS = ("model_state_dict", "model_state", "model")
ENCODERS = ("A", "B")


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> TernaryVAE:
    """The model saved in a checkpoint written by `vaeaudit train`, in eval mode on `device`.

    The file is read with `torch.load(weights_only=True)` (no code from the file runs),
    the architecture is rebuilt from the checkpoint's own `config` and the weights are
    loaded strictly. Raises ValueError if the file has no config or no weights.
    """
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("config"), dict):
        raise ValueError(f"{path}: not a vaeaudit train checkpoint (no 'config' mapping)")
    weights_key = next((key for key in WEIGHT_KEYS if isinstance(checkpoint.get(key), dict)), None)
    if weights_key is None:
        raise ValueError(f"{path}: no model weights (looked for {', '.join(WEIGHT_KEYS)})")
    model = build_model(checkpoint["config"])
    model.load_state_dict(checkpoint[weights_key], strict=True)
    return model.to(device).eval()


@torch.no_grad()
def embed(
    model: TernaryVAE,
    encoder: str = "B",
    sample: bool = False,
    *,
    operations: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Points in the Poincaré ball, one row per operation (default: all 19,683, row i = op i).

    encoder: "B" (the hierarchy encoder, whose radius encodes the 3-adic valuation) or
        "A" (the coverage encoder, through the same projection; a diagnostic).
    sample: False embeds the posterior mean μ; True draws z = μ + ε·σ first, as the
        original system's forward pass always did (pass a `generator` on the model's
        device to make the draw reproducible).
    operations: optional (n, 9) trits in {−1, 0, 1} instead of all operations.

    Radii are `geometry.poincare_radius(points)`, distances `geometry.poincare_distance`.
    The model is not switched to eval mode here; `load_model` returns it in eval mode.
    """
    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {encoder!r}")
    device = next(model.parameters()).device
    trits = (all_operations() if operations is None else operations).to(device=device, dtype=torch.float32)
    chosen = model.encoder_A if encoder == "A" else model.encoder_B
    mu, logvar = chosen(trits)
    latent = mu
    if sample:
        noise = torch.randn(mu.shape, generator=generator, device=device, dtype=mu.dtype)
        latent = mu + noise * (0.5 * logvar).exp()
    return model.projection(latent)
