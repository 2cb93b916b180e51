"""Does a state dict load strictly into the model its own config describes?

The model is rebuilt from `checkpoint["config"]` on the meta device (no memory, no
init cost) with `vaeaudit.ternary_vae.model.build_model`, and its parameter/buffer names and
shapes are compared with the checkpoint's. A checkpoint from another code base, or
without a config the builder understands, gets "not checked" with the reason, never a
false mismatch. Rebuilt layouts are cached per config, so a tree of runs sharing a
config pays for one build.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vaeaudit.checkpoints.bounded import preview


@dataclass(frozen=True)
class ArchitectureCheck:
    """`checked` False means `reason` says why no comparison was possible.

    `trainable` names the tensors phase 2 trains (encoder B and the projection), as the
    model itself defines them; empty when not checked.
    """

    checked: bool
    reason: str = ""
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    mis_shaped: tuple[str, ...] = ()
    trainable: frozenset[str] = field(default_factory=frozenset)

    @property
    def matches(self) -> bool:
        return self.checked and not (self.missing or self.unexpected or self.mis_shaped)

    def summary(self) -> str:
        if not self.checked:
            return f"architecture not checked: {self.reason}"
        if self.matches:
            return "architecture matches the ternary_vae model of its config"
        parts = [
            f"{label}: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}"
            for label, names in (("missing", self.missing), ("unexpected", self.unexpected), ("mis-shaped", self.mis_shaped))
            if names
        ]
        return "state dict does not load strictly: " + "; ".join(parts)


KEY_LIMIT = 4_000
_LAYOUT_CACHE: dict[str, tuple[dict[str, tuple[int, ...]], frozenset[str]] | str] = {}


def check_architecture(config: Mapping[str, Any] | None, state_dict: Mapping[str, Any]) -> ArchitectureCheck:
    """Compare `state_dict` with the model rebuilt from `config`."""
    if config is None:
        return ArchitectureCheck(False, "no config stored in the checkpoint")
    if not isinstance(config.get("model"), Mapping):
        return ArchitectureCheck(False, "config has no 'model' section (not a ternary_vae checkpoint)")
    layout = _expected_layout(config)
    if isinstance(layout, str):
        return ArchitectureCheck(False, layout)
    expected, trainable = layout
    actual = {name: tuple(tensor.shape) for name, tensor in state_dict.items()}
    shared = expected.keys() & actual.keys()
    return ArchitectureCheck(
        True,
        missing=tuple(sorted(expected.keys() - actual.keys())),
        unexpected=tuple(sorted(actual.keys() - expected.keys())),
        mis_shaped=tuple(sorted(f"{name} {actual[name]} != {expected[name]}" for name in shared if actual[name] != expected[name])),
        trainable=trainable,
    )


def _expected_layout(config: Mapping[str, Any]) -> tuple[dict[str, tuple[int, ...]], frozenset[str]] | str:
    """(name -> shape, trainable names) of the rebuilt model, or the reason it cannot be built."""
    key = preview(config.get("model"), limit=KEY_LIMIT)
    if key.endswith("…"):
        return f"config 'model' section is larger than {KEY_LIMIT} characters as text: not a model this builder makes"
    if key not in _LAYOUT_CACHE:
        _LAYOUT_CACHE[key] = _build_layout(config)
    return _LAYOUT_CACHE[key]


def _build_layout(config: Mapping[str, Any]) -> tuple[dict[str, tuple[int, ...]], frozenset[str]] | str:
    import torch

    try:
        from vaeaudit.ternary_vae.model import build_model
    except ImportError as error:
        return f"vaeaudit.ternary_vae.model unavailable ({error})"
    try:
        with torch.device("meta"):
            model = build_model(config)
    except Exception as error:  # any builder failure means "this config is not ours", not a crash
        return f"config not understood by vaeaudit.ternary_vae.build_model: {type(error).__name__}: {error}"
    shapes = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    trainable_ids = {id(parameter) for parameter in getattr(model, "hierarchy_parameters", list)()}
    trainable = frozenset(name for name, parameter in model.named_parameters() if id(parameter) in trainable_ids)
    return shapes, trainable
