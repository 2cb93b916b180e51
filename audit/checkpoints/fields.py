"""Find weights, optimizer, config, epoch and metrics in any checkpoint layout seen so far.

Formats drifted between versions: weights under `model_state_dict`, `model_state` or
`model` (or the file *is* a state dict); metrics at top level or under `metrics`, with
`_A`/`_B` suffixes and other spellings (the table in `metric_names`), as numpy scalars
or 0-d tensors, or only as `*_history` lists. The original classifier read only
unsuffixed top-level keys and so showed no richness or Q for its newest format. Every
metric here records the key it came from. Keys, phases and versions are untrusted
values of any type: they become text only through `bounded.short_text`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vaeaudit.checkpoints.bounded import short_text
from vaeaudit.checkpoints.metric_names import DEFAULT_ALIASES

WEIGHT_KEYS = ("model_state_dict", "model_state", "model", "state_dict")
OPTIMIZER_KEYS = ("optimizer_state_dict", "optimizer_state", "optimizer")
LAST_PHASE = "hierarchy"  # the ternary trainer's phases: coverage, then hierarchy


@dataclass
class CheckpointFields:
    """What a loaded checkpoint says about itself, whatever the layout (tensors aside)."""

    layout: str = ""
    has_optimizer: bool = False
    config: Mapping[str, Any] | None = None
    epoch: int | None = None
    phase: str | None = None
    version: str | None = None
    finished: bool | None = None  # the checkpoint's own end-of-training marker; None: it has none
    metrics: dict[str, float] = field(default_factory=dict)
    metric_sources: dict[str, str] = field(default_factory=dict)
    top_level_keys: tuple[str, ...] = ()


def extract_fields(obj: Any, aliases: Mapping[str, tuple[str, ...]] = DEFAULT_ALIASES) -> tuple[CheckpointFields, dict[str, Any]]:
    """(fields, model state dict) of a loaded object; unknown layouts say "unrecognised"."""
    import torch

    if not isinstance(obj, Mapping):
        return CheckpointFields(layout=f"unrecognised ({type(obj).__name__} at top level)"), {}
    keys = tuple(short_text(key) for key in obj)
    if obj and all(isinstance(value, torch.Tensor) for value in obj.values()):
        return CheckpointFields(layout="bare state dict", top_level_keys=keys), _tensors(obj)
    weights_key = next((key for key in WEIGHT_KEYS if isinstance(obj.get(key), Mapping)), None)
    config = obj.get("config")
    state_dict = _tensors(obj[weights_key]) if weights_key else {}
    fields = CheckpointFields(
        layout=f"weights under '{weights_key}'" if weights_key else "no weights",
        has_optimizer=any(isinstance(obj.get(key), Mapping) for key in OPTIMIZER_KEYS),
        config=config if isinstance(config, Mapping) else None,
        phase=short_text(obj["phase"]) if obj.get("phase") is not None else None,
        version=short_text(obj["version"]) if obj.get("version") is not None else None,
        top_level_keys=keys,
        finished=_says_finished(obj),
    )
    stored_metrics = obj.get("metrics")
    nested: Mapping[Any, Any] = stored_metrics if isinstance(stored_metrics, Mapping) else {}
    fields.epoch = _as_int(obj.get("epoch", nested.get("epoch")))
    for name, keys_tried in aliases.items():
        found = _find_metric(keys_tried, nested, obj)
        if found is not None:
            fields.metrics[name], fields.metric_sources[name] = found
    return fields, state_dict


def _tensors(mapping: Mapping) -> dict[str, Any]:
    """The tensors of a state dict, keyed by text (a key of another type is shown bounded)."""
    import torch

    return {key if isinstance(key, str) else short_text(key): value for key, value in mapping.items() if isinstance(value, torch.Tensor)}


def _find_metric(aliases: tuple[str, ...], nested: Mapping, top: Mapping) -> tuple[float, str] | None:
    """First alias found: under `metrics`, then top level, then the last entry of `<alias>_history`."""
    for where, table in (("metrics.", nested), ("", top)):
        for alias in aliases:
            value = _as_float(table.get(alias))
            if value is not None:
                return value, where + alias
    for where, table in (("metrics.", nested), ("", top)):
        for alias in aliases:
            history = table.get(f"{alias}_history")
            if isinstance(history, (list, tuple)) and history:
                value = _as_float(history[-1])
                if value is not None:
                    return value, f"{where}{alias}_history[-1]"
    return None


def _says_finished(obj: Mapping) -> bool | None:
    """What the checkpoint's own end-of-training marker says; None when it carries none.

    Markers: `finished` or `completed` (True/False), or this project's trainer's
    `phase` + `phase_done` (finished once the last phase, "hierarchy", is done).
    """
    for key in ("finished", "completed"):
        if isinstance(obj.get(key), bool):
            return obj[key]
    if "phase" in obj and isinstance(obj.get("phase_done"), bool):
        return obj.get("phase") == LAST_PHASE and obj["phase_done"]
    return None


def _as_float(value: Any) -> float | None:
    """Python, numpy and 0-d tensor numbers as float; anything else None (bools excluded)."""
    if value is None or isinstance(value, (bool, str, bytes)):
        return None
    try:
        if getattr(value, "ndim", 0) != 0:
            return None
        return float(value)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        return None


def _as_int(value: Any) -> int | None:
    number = _as_float(value)
    return int(number) if number is not None and math.isfinite(number) else None
