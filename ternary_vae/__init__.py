"""The ternary VAE: Poincaré geometry, data, model, losses, metrics and the trainer.

`geometry` is pure math and imports only torch; the rest builds on it. `vaeaudit train`
(audit/commands/train.py) drives `train.train`; the checkpoint auditor rebuilds
`model.build_model` to check saved state dicts.

Public API for trained models (see `inference`): `load_model(path, device="cpu")` and
`embed(model, encoder="B", sample=False)`. They are imported on first use, so importing
this package does not import torch.
"""

from typing import Any

__all__ = ["embed", "load_model"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from vaeaudit.ternary_vae import inference

        return getattr(inference, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
