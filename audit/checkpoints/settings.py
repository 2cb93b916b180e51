"""The `[tool.vaeaudit.checkpoints]` settings: where runs live and how to judge them.

Example:

    [tool.vaeaudit.checkpoints]
    root = "sandbox-training/checkpoints"
    stale_after_hours = 24
    q_tolerance = 0.002
    categories = [                      # replaces the default rules, in order
      { category = "PRODUCTION", pattern = "v5_\\d+(_\\d+)?", full_match = true },
      { category = "SWEEP_TEST", pattern = "sweep" },
    ]

Unknown keys and malformed values are ConfigErrors that name the key and the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaeaudit.checkpoints.categories import DEFAULT_RULES, CategoryRule
from vaeaudit.config import ConfigError, read_tool_table, reject_unknown_keys

DEFAULT_ROOT = "sandbox-training/checkpoints"
ALLOWED_KEYS = ("root", "stale_after_hours", "q_tolerance", "categories")
RULE_KEYS = ("category", "pattern", "full_match")


@dataclass(frozen=True)
class CheckpointSettings:
    """`root` is resolved against the pyproject.toml's folder when it came from there.

    `stale_after_hours`: a partial run untouched this long, short of its configured
    epochs, is counted as crashed. `q_tolerance`: allowed |stored Q − recomputed Q|.
    """

    root: Path = Path(DEFAULT_ROOT)
    stale_after_hours: float = 24.0
    q_tolerance: float = 2e-3
    rules: tuple[CategoryRule, ...] = DEFAULT_RULES


def load_settings(start: Path) -> CheckpointSettings:
    """Settings from the pyproject.toml nearest to `start` (defaults where absent)."""
    table, pyproject = read_tool_table(start)
    section = table.get("checkpoints", {})
    where = f"{pyproject}: [tool.vaeaudit.checkpoints]"
    if not isinstance(section, dict):
        raise ConfigError(f"{where} must be a table")
    reject_unknown_keys(section, ALLOWED_KEYS, where)
    settings = CheckpointSettings()
    base = pyproject.parent if pyproject else Path(".")
    root = Path(_typed(section, "root", str, DEFAULT_ROOT, where))
    return CheckpointSettings(
        root=root if "root" not in section or root.is_absolute() else base / root,
        stale_after_hours=_positive(section, "stale_after_hours", settings.stale_after_hours, where),
        q_tolerance=_positive(section, "q_tolerance", settings.q_tolerance, where),
        rules=_rules(section["categories"], where) if "categories" in section else settings.rules,
    )


def _typed(section: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any, where: str) -> Any:
    value = section.get(key, default)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ConfigError(f"{where}: {key} must be a {names}, got {value!r}")
    return value


def _positive(section: dict[str, Any], key: str, default: float, where: str) -> float:
    value = _typed(section, key, (int, float), default, where)
    if value <= 0:
        raise ConfigError(f"{where}: {key} must be > 0, got {value!r}")
    return float(value)


def _rules(entries: Any, where: str) -> tuple[CategoryRule, ...]:
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: categories must be a non-empty array of tables")
    rules = []
    for index, entry in enumerate(entries):
        here = f"{where} categories[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{here} must be a table with keys {', '.join(RULE_KEYS)}")
        reject_unknown_keys(entry, RULE_KEYS, here)
        category = _typed(entry, "category", str, None, here)
        pattern = _typed(entry, "pattern", str, None, here)
        try:
            re.compile(pattern)
        except re.error as error:
            raise ConfigError(f"{here}: pattern {pattern!r} is not a valid regex: {error}") from None
        rules.append(CategoryRule(category, pattern, _typed(entry, "full_match", bool, False, here)))
    return tuple(rules)
