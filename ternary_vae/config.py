"""Training config: plain nested data, defaults in defaults.yaml, checked before training.

A config is a dict of sections (plain dict/list/str/int/float/bool, what YAML and
`checkpoint["config"]` hold). `resolve_config` layers defaults ← YAML file ← `--set`
overrides and validates the result against RULES, so a typo or a bad value stops the run
with a message naming the key and what is allowed instead of failing an hour in.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vaeaudit.ternary_vae.data import N_OPS

BIG = 10**9


class ConfigError(ValueError):
    """A config problem the user must fix; the message names the key (or file) and the fix."""


@dataclass(frozen=True)
class Rule:
    """What one config key accepts: a kind, an inclusive range (low_open excludes low), choices."""

    kind: str  # "int" | "float" | "bool" | "choice" | "int_list"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        bracket = "(" if self.low_open else "["
        interval = f"{bracket}{_number(self.low)}, {_number(self.high)}]"
        if self.kind == "int_list":
            return f"a non-empty list of integers in {interval}"
        return f"{'an integer' if self.kind == 'int' else 'a number'} in {interval}"

    def check(self, key: str, value: Any) -> Any:
        """The value, normalised (ints accepted as floats); ConfigError if not allowed."""
        checked = self._normalise(value)
        if checked is None:
            raise ConfigError(f"config key {key!r}: expected {self.allowed()}, got {value!r}")
        return checked

    def _normalise(self, value: Any) -> Any:
        if self.kind == "bool":
            return value if isinstance(value, bool) else None
        if self.kind == "choice":
            return value if isinstance(value, str) and value in self.choices else None
        if self.kind == "int_list":
            if not isinstance(value, list) or not value:
                return None
            items = [self._in_range(item, integer=True) for item in value]
            return None if any(item is None for item in items) else items
        return self._in_range(value, integer=self.kind == "int")

    def _in_range(self, value: Any, integer: bool) -> int | float | None:
        if isinstance(value, str) and not integer:
            # PyYAML reads `3e-3` (no dot) as a string; accept what float() reads.
            try:
                value = float(value)
            except ValueError:
                return None
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            return None
        number = value if integer else float(value)
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        if not math.isfinite(number) or number > high:
            return None
        if number < low or (self.low_open and number == low):
            return None
        return number


def _number(value: float | None) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _ints(low: int, high: int) -> Rule:
    return Rule("int", low, high)


def _floats(low: float, high: float, low_open: bool = False) -> Rule:
    return Rule("float", low, high, low_open)


@dataclass(frozen=True)
class ModelConfig:
    """The `model:` section, typed: the one place its keys are listed (defaults.yaml
    documents them and holds their values; `build_model` reads this)."""

    latent_dim: int = field(metadata={"rule": _ints(1, 4096)})
    encoder_hidden: list[int] = field(metadata={"rule": Rule("int_list", 1, 65536)})
    decoder_hidden: list[int] = field(metadata={"rule": Rule("int_list", 1, 65536)})
    projection_hidden: int = field(metadata={"rule": _ints(1, 65536)})
    activation: str = field(metadata={"rule": Rule("choice", choices=("relu", "silu", "gelu"))})
    layer_norm: bool = field(metadata={"rule": Rule("bool")})
    dropout: float = field(metadata={"rule": _floats(0.0, 0.9)})
    logvar_min: float = field(metadata={"rule": _floats(-30.0, 10.0)})
    logvar_max: float = field(metadata={"rule": _floats(-30.0, 10.0)})
    curvature: float = field(metadata={"rule": _floats(0.0, 100.0, low_open=True)})
    max_radius: float = field(metadata={"rule": _floats(0.0, 1.0, low_open=True)})

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> ModelConfig:
        """The typed section from a config's `model` mapping; ValueError naming missing keys."""
        names = [spec.name for spec in fields(cls)]
        missing = [name for name in names if name not in section]
        if missing:
            raise ValueError(f"config 'model' section lacks {', '.join(missing)}")
        return cls(**{name: section[name] for name in names})

    @property
    def max_dist0(self) -> float:
        """Distance from the origin of a point at the Euclidean radius cap `max_radius`."""
        return max_dist0(asdict(self))


WEIGHT = _floats(0.0, 1000.0)
RULES: dict[str, Rule] = {
    "seed": _ints(0, 2**31 - 1),
    "threads": _ints(1, 256),
    "device": Rule("choice", choices=("auto", "cpu", "cuda", "mps")),
    **{f"model.{spec.name}": spec.metadata["rule"] for spec in fields(ModelConfig)},
    "data.oversample": _floats(0.0, 1.0),
    "coverage.max_epochs": _ints(1, BIG),
    "coverage.batch_size": _ints(1, N_OPS),
    "coverage.lr": _floats(0.0, 1.0, low_open=True),
    "coverage.beta": _floats(0.0, 10.0),
    "coverage.beta_warmup_epochs": _ints(0, BIG),
    "hierarchy.max_epochs": _ints(1, BIG),
    "hierarchy.batch_size": _ints(1, N_OPS),
    "hierarchy.lr": _floats(0.0, 1.0, low_open=True),
    "hierarchy.lr_final": _floats(0.0, 1.0),
    "hierarchy.beta": _floats(0.0, 10.0),
    "hierarchy.beta_warmup_epochs": _ints(0, BIG),
    "hierarchy.band_width": _floats(0.0, 10.0, low_open=True),
    "hierarchy.band_gap": _floats(0.0, 10.0),
    "hierarchy.outer_margin": _floats(0.0, 10.0),
    "hierarchy.mean_weight": WEIGHT,
    "hierarchy.spread_weight": WEIGHT,
    "hierarchy.separation_weight": WEIGHT,
    "hierarchy.radial_weight": WEIGHT,
    "hierarchy.geodesic_weight": WEIGHT,
}


def default_config() -> dict[str, Any]:
    """A fresh copy of the documented defaults (ternary_vae/defaults.yaml)."""
    text = resources.files("vaeaudit.ternary_vae").joinpath("defaults.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def max_dist0(model_config: dict[str, Any]) -> float:
    """Distance from the origin of a point at the Euclidean radius cap `max_radius`."""
    sqrt_c = math.sqrt(model_config["curvature"])
    return 2.0 / sqrt_c * math.atanh(sqrt_c * model_config["max_radius"])


def _merge(base: dict[str, Any], update: Any, where: str) -> None:
    """Copy `update` into `base` in place, refusing keys `base` does not have."""
    if not isinstance(update, dict):
        raise ConfigError(f"config key {where!r}: expected a mapping of keys to values, got {update!r}")
    for key, value in update.items():
        dotted = f"{where}.{key}" if where != "config" else str(key)
        if key not in base:
            section = "the top level" if where == "config" else repr(where)
            raise ConfigError(f"unknown config key {dotted!r}; allowed keys in {section}: {', '.join(base)}")
        if isinstance(base[key], dict):
            _merge(base[key], value, dotted)
        else:
            base[key] = value


def parse_override(text: str) -> dict[str, Any]:
    """`section.key=value` (value in YAML syntax) as a nested dict ready for merging."""
    key, separator, raw_value = text.partition("=")
    if not separator or not key.strip():
        raise ConfigError(f"--set {text!r}: expected key=value, e.g. hierarchy.lr=0.001")
    try:
        value = yaml.safe_load(raw_value) if raw_value.strip() else raw_value
    except yaml.YAMLError:
        value = raw_value
    nested: dict[str, Any] = {}
    cursor = nested
    *parents, leaf = key.strip().split(".")
    for part in parents:
        cursor = cursor.setdefault(part, {})
    cursor[leaf] = value
    return nested


def load_config_file(path: Path) -> dict[str, Any]:
    """The mapping in a YAML config file; ConfigError naming the file if it is not one."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"config file {path}: cannot read: {error.strerror or error}") from None
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"config file {path}: not valid YAML: {error}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"config file {path}: expected a mapping of sections, got {type(document).__name__}")
    return document


def validate(config: dict[str, Any]) -> dict[str, Any]:
    """A checked, normalised deep copy of a full config (the shape of defaults.yaml)."""
    checked = copy.deepcopy(config)
    reference = default_config()
    _merge(copy.deepcopy(reference), checked, "config")  # unknown keys
    for dotted, rule in RULES.items():
        *parents, leaf = dotted.split(".")
        section: Any = checked
        for part in parents:
            section = section.get(part)
            if not isinstance(section, dict):
                raise ConfigError(f"config section {part!r} must be a mapping")
        if leaf not in section:
            raise ConfigError(f"config key {dotted!r} is missing ({rule.allowed()})")
        section[leaf] = rule.check(dotted, section[leaf])
    _check_consistency(checked)
    return checked


def _check_consistency(config: dict[str, Any]) -> None:
    """Rules that tie several keys together."""
    model, hierarchy = config["model"], config["hierarchy"]
    if model["logvar_min"] >= model["logvar_max"]:
        raise ConfigError(
            f"config keys 'model.logvar_min' ({model['logvar_min']:g}) and 'model.logvar_max' "
            f"({model['logvar_max']:g}): logvar_min must be below logvar_max"
        )
    boundary = 1.0 / math.sqrt(model["curvature"])
    if model["max_radius"] >= boundary:
        raise ConfigError(
            f"config keys 'model.max_radius' ({model['max_radius']:g}) and 'model.curvature' "
            f"({model['curvature']:g}): max_radius must be below the ball radius 1/sqrt(c) = {boundary:g}"
        )
    levels_with_bands = 9  # v = 0..8; v = 9 is a single op placed inside the last gap
    needed = hierarchy["outer_margin"] + levels_with_bands * (hierarchy["band_width"] + hierarchy["band_gap"])
    if needed >= max_dist0(model):
        raise ConfigError(
            "config keys 'hierarchy.band_width', 'hierarchy.band_gap', 'hierarchy.outer_margin': "
            f"9 bands need radius {needed:.3f}, more than the reachable {max_dist0(model):.3f} "
            f"(set by model.max_radius and model.curvature); make them smaller"
        )


def resolve_config(config_file: Path | None = None, overrides: tuple[str, ...] = ()) -> dict[str, Any]:
    """Defaults ← config file ← `--set` overrides, validated (ConfigError on any problem)."""
    config = default_config()
    if config_file is not None:
        _merge(config, load_config_file(config_file), "config")
    for override in overrides:
        _merge(config, parse_override(override), "config")
    return validate(config)
