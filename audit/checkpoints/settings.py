"""The `[tool.vaeaudit.checkpoints]` settings: where runs live and how to judge them.

Keys are kebab-case, like the rest of `[tool.vaeaudit]`. Example (every key optional):

    [tool.vaeaudit.checkpoints]
    root = "runs"                       # what `vaeaudit train` writes (its --save-dir default)
    stale-after-hours = 24
    q-tolerance = 0.002
    file-time-budget = 20               # seconds per file before "too expensive to inspect"
    allowed-globals = ["mypkg.config.RunConfig"]   # extras for the weights-only allowlist
    categories = [                      # replaces the default rules, in order
      { category = "PRODUCTION", pattern = "v5_\\d+(_\\d+)?", full-match = true },
      { category = "SWEEP_TEST", pattern = "sweep" },
    ]

    [tool.vaeaudit.checkpoints.metric-aliases]   # replaces rows of the alias table
    hierarchy_B = ["hier_b", "hierarchy_B"]

The snake_case spellings of an earlier version (`stale_after_hours`, `q_tolerance`,
`full_match`) are still read, each with a deprecation message naming the new key;
giving both spellings of one key is an error. Unknown keys and malformed values are
ConfigErrors that name the key and the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaeaudit.checkpoints.categories import DEFAULT_RULES, CategoryRule
from vaeaudit.checkpoints.import_policy import ImportPolicy, is_dangerous
from vaeaudit.checkpoints.metric_names import DEFAULT_ALIASES, alias_table
from vaeaudit.config import ConfigError, read_tool_table, reject_unknown_keys

DEFAULT_ROOT = "runs"
ALLOWED_KEYS = ("root", "stale-after-hours", "q-tolerance", "file-time-budget", "allowed-globals", "categories", "metric-aliases")
RULE_KEYS = ("category", "pattern", "full-match")
DEPRECATED = {"stale_after_hours": "stale-after-hours", "q_tolerance": "q-tolerance", "full_match": "full-match"}
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


@dataclass(frozen=True)
class CheckpointSettings:
    """`root` is resolved against the pyproject.toml's folder when it came from there.

    `stale_after_hours`: a partial run untouched this long, short of its configured
    epochs, is counted as crashed. `q_tolerance`: allowed |stored Q − recomputed Q|.
    `file_time_budget`: seconds one file may take before it is "too expensive to inspect".
    `deprecations`: messages about old key spellings, for the command to print.
    """

    root: Path = Path(DEFAULT_ROOT)
    stale_after_hours: float = 24.0
    q_tolerance: float = 2e-3
    file_time_budget: float = 20.0
    policy: ImportPolicy = ImportPolicy()
    rules: tuple[CategoryRule, ...] = DEFAULT_RULES
    aliases: dict[str, tuple[str, ...]] = field(default_factory=alias_table)
    deprecations: tuple[str, ...] = ()


def load_settings(start: Path) -> CheckpointSettings:
    """Settings from the pyproject.toml nearest to `start` (defaults where absent)."""
    table, pyproject = read_tool_table(start)
    section = table.get("checkpoints", {})
    where = f"{pyproject}: [tool.vaeaudit.checkpoints]"
    if not isinstance(section, dict):
        raise ConfigError(f"{where} must be a table")
    deprecations: list[str] = []
    section = _modern_keys(section, where, deprecations)
    reject_unknown_keys(section, ALLOWED_KEYS, where)
    defaults = CheckpointSettings()
    base = pyproject.parent if pyproject else Path(".")
    root = Path(_typed(section, "root", str, DEFAULT_ROOT, where))
    return CheckpointSettings(
        root=root if "root" not in section or root.is_absolute() else base / root,
        stale_after_hours=_positive(section, "stale-after-hours", defaults.stale_after_hours, where),
        q_tolerance=_positive(section, "q-tolerance", defaults.q_tolerance, where),
        file_time_budget=_positive(section, "file-time-budget", defaults.file_time_budget, where),
        policy=ImportPolicy(frozenset(_allowed_globals(section.get("allowed-globals", []), where))),
        rules=_rules(section["categories"], where, deprecations) if "categories" in section else defaults.rules,
        aliases=alias_table(_aliases(section.get("metric-aliases", {}), where)),
        deprecations=tuple(deprecations),
    )


def _modern_keys(section: dict[str, Any], where: str, deprecations: list[str]) -> dict[str, Any]:
    """`section` with deprecated snake_case keys renamed, one message per renamed key."""
    renamed = dict(section)
    for old, new in DEPRECATED.items():
        if old in section:
            if new in section:
                raise ConfigError(f"{where}: both {old!r} and {new!r} are set; keep only {new!r}")
            deprecations.append(f"{where}: {old!r} is deprecated, write {new!r}")
            renamed[new] = renamed.pop(old)
    return renamed


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


def _string_list(value: Any, key: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"{where}: {key} must be an array of non-empty strings, got {value!r}")
    return value


def _allowed_globals(value: Any, where: str) -> list[str]:
    """Extras for the allowlist: dotted names, and never one of the dangerous set."""
    names = _string_list(value, "allowed-globals", where)
    for name in names:
        if not _DOTTED_NAME.fullmatch(name):
            raise ConfigError(f"{where}: allowed-globals entry {name!r} is not a dotted name like 'package.module.Class'")
        if is_dangerous(name):
            raise ConfigError(f"{where}: allowed-globals entry {name!r} is in the dangerous set and cannot be allowed")
    return names


def _aliases(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: metric-aliases must be a table of metric = [stored keys]")
    reject_unknown_keys(value, DEFAULT_ALIASES, f"{where} metric-aliases")
    return {name: tuple(_string_list(keys, f"metric-aliases.{name}", where)) for name, keys in value.items()}


def _rules(entries: Any, where: str, deprecations: list[str]) -> tuple[CategoryRule, ...]:
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: categories must be a non-empty array of tables")
    rules = []
    for index, entry in enumerate(entries):
        here = f"{where} categories[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{here} must be a table with keys {', '.join(RULE_KEYS)}")
        entry = _modern_keys(entry, here, deprecations)
        reject_unknown_keys(entry, RULE_KEYS, here)
        category = _typed(entry, "category", str, None, here)
        pattern = _typed(entry, "pattern", str, None, here)
        try:
            re.compile(pattern)
        except re.error as error:
            raise ConfigError(f"{here}: pattern {pattern!r} is not a valid regex: {error}") from None
        rules.append(CategoryRule(category, pattern, _typed(entry, "full-match", bool, False, here)))
    return tuple(rules)
