"""The scanner's (and the codemod's) settings: built-in defaults, `[tool.vaeaudit]`, CLI flags.

Precedence is defaults < pyproject.toml < command line. Every top-level key of
`[tool.vaeaudit]` is validated here (the `checkpoints` sub-table belongs to the
checkpoint auditor and is only checked to be a table); a wrong key or type is a
`ConfigError` naming the key and the file, never a silently ignored typo.

List-valued *source knowledge* (producers, sanitizers, projection classes) extends the
built-in lists, because the defaults are facts about libraries; the patterns, excludes and
rule selection replace the defaults, because a team may find them too broad.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaeaudit.config import ConfigError, read_tool_table, reject_unknown_keys

CONFIDENCE_LEVELS = ("low", "medium", "high")

# Calls whose result is a point on the Poincaré ball (matched on the called name's last part).
DEFAULT_PRODUCERS = (
    "exp_map_zero",
    "exp_map",
    "expmap0",
    "expmap",
    "projx",
    "mobius_add",
    "mobius_matvec",
    "mobius_scalar_mul",
    "project_to_ball",
    "project_to_poincare",
    "to_poincare",
    "to_hyperbolic",
    "poincare_project",
    "ManifoldParameter",
    "ManifoldTensor",
)
# Calls whose result is Euclidean (a tangent vector), whatever went in.
DEFAULT_SANITIZERS = (
    "log_map_zero",
    "log_map",
    "logmap0",
    "logmap",
    "to_euclidean",
    "to_tangent",
    "poincare_distance",
    "poincare_radius",
    "poincare_distance_matrix",
    "dist0",
)
# nn.Module classes whose forward() returns ball points: `self.proj = HyperbolicProjection(...)`.
DEFAULT_PROJECTION_CLASSES = ("HyperbolicProjection", "PoincareProjection", "PoincareBall", "ExpMapProjection")
# Identifier / string-key patterns (case-insensitive `re.search`, per identifier) naming hyperbolic values.
DEFAULT_NAME_PATTERNS = (r"(?<![a-z])hyp(?![a-z])", r"poincar", r"hyperbolic")
DEFAULT_KEY_PATTERNS = (r"(?<![a-z])hyp(?![a-z])", r"poincar", r"hyperbolic")
# Names that say a value is Euclidean; they win over the name/key patterns above.
DEFAULT_EUCLIDEAN_PATTERNS = (r"(?<![a-z])euc(lid(ean)?)?(?![a-z])", r"(?<![a-z])tangent(?![a-z])")
DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".eggs",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".vaeaudit_cache",
    "build",
    "dist",
    "node_modules",
    "site-packages",
)
DEFAULT_CATEGORIES = {
    "core": ("src/models/**", "src/geometry/**", "src/losses/**", "src/training/**", "ternary_vae/**", "*/models/*"),
    "visualization": ("**/vis*/**", "**/plot*", "**/*plot*.py", "**/*vis*.py", "**/figures/**"),
    "research": ("scripts/**", "research/**", "experiments/**", "notebooks/**", "**/analysis/**", "**/*.py"),
}
DEFAULT_CURVATURE_EXPRESSIONS = ("self.curvature", "self.c", "curvature", "c")


@dataclass(frozen=True)
class Settings:
    """Everything that changes what `scan` reports or how `fix` rewrites it.

    `project_root` is the folder of the pyproject.toml the settings came from (or the
    start folder when there is none); relative globs and the cache live under it.
    """

    project_root: Path = field(default_factory=Path.cwd)
    config_path: Path | None = None
    src: tuple[str, ...] = (".",)
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    select: tuple[str, ...] = ("HYP",)
    ignore: tuple[str, ...] = ()
    min_confidence: str = "low"
    producers: tuple[str, ...] = DEFAULT_PRODUCERS
    sanitizers: tuple[str, ...] = DEFAULT_SANITIZERS
    projection_classes: tuple[str, ...] = DEFAULT_PROJECTION_CLASSES
    name_patterns: tuple[str, ...] = DEFAULT_NAME_PATTERNS
    key_patterns: tuple[str, ...] = DEFAULT_KEY_PATTERNS
    euclidean_patterns: tuple[str, ...] = DEFAULT_EUCLIDEAN_PATTERNS
    categories: tuple[tuple[str, tuple[str, ...]], ...] = tuple(DEFAULT_CATEGORIES.items())
    cache: bool = True
    max_file_size: int = 2_000_000
    cache_dir: str = ".vaeaudit_cache"
    poincare_import: str = "vaeaudit.geometry"
    curvature_expressions: tuple[str, ...] = DEFAULT_CURVATURE_EXPRESSIONS
    default_curvature: float = 1.0
    # Opt in to preview-tier rules (the scanner decides which rules are preview).
    preview: bool = False

    def fingerprint(self) -> str:
        """A stable text of every field that changes findings (the cache key uses it)."""
        # max_file_size stays in: it decides whether a file's syntax is checked, so it changes results.
        skip = {"project_root", "config_path", "src", "exclude", "extend_exclude", "respect_gitignore", "cache", "cache_dir"}
        parts = [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.name not in skip]
        return "\n".join(parts)


# key in pyproject -> (field name, kind). Kinds drive validation and conversion.
_KEYS: dict[str, tuple[str, str]] = {
    "src": ("src", "strings"),
    "exclude": ("exclude", "strings"),
    "extend-exclude": ("extend_exclude", "strings"),
    "respect-gitignore": ("respect_gitignore", "bool"),
    "per-file-ignores": ("per_file_ignores", "globs-to-codes"),
    "select": ("select", "strings"),
    "ignore": ("ignore", "strings"),
    "min-confidence": ("min_confidence", "confidence"),
    "producers": ("producers", "extend-strings"),
    "sanitizers": ("sanitizers", "extend-strings"),
    "projection-classes": ("projection_classes", "extend-strings"),
    "name-patterns": ("name_patterns", "patterns"),
    "key-patterns": ("key_patterns", "patterns"),
    "euclidean-patterns": ("euclidean_patterns", "patterns"),
    "categories": ("categories", "globs-to-codes"),
    "cache": ("cache", "bool"),
    "cache-dir": ("cache_dir", "string"),
    "max-file-size": ("max_file_size", "int"),
    "poincare-import": ("poincare_import", "module"),
    "curvature-expressions": ("curvature_expressions", "strings"),
    "default-curvature": ("default_curvature", "float"),
    "preview": ("preview", "bool"),
}
# Sub-tables other features own and validate themselves.
_FOREIGN_TABLES = ("checkpoints",)


def load_settings(start: Path, **cli_overrides: Any) -> Settings:
    """Settings for files under `start`: defaults, then `[tool.vaeaudit]`, then `cli_overrides`.

    `cli_overrides` uses field names (`select=("HYP001",)`, `cache=False`); None values
    mean "flag not given" and are skipped. Raises ConfigError on any invalid setting.
    """
    table, pyproject = read_tool_table(start)
    where = str(pyproject) if pyproject else "command line"
    reject_unknown_keys(table, [*_KEYS, *_FOREIGN_TABLES], f"{where}: [tool.vaeaudit]")
    for name in _FOREIGN_TABLES:
        if name in table and not isinstance(table[name], dict):
            raise ConfigError(f"{where}: [tool.vaeaudit] key {name!r} must be a table")
    start = Path(start).resolve()
    root = pyproject.parent if pyproject else (start if start.is_dir() else start.parent)
    values: dict[str, Any] = {"project_root": root, "config_path": pyproject}
    defaults = Settings(project_root=root)
    for key, (name, kind) in _KEYS.items():
        if key in table:
            values[name] = _convert(table[key], kind, getattr(defaults, name), f"{where}: [tool.vaeaudit] key {key!r}")
    fields = {f.name for f in dataclasses.fields(Settings)}
    for name, value in cli_overrides.items():
        if name not in fields:
            raise TypeError(f"load_settings: unknown override {name!r}")
        if value is not None:
            values[name] = tuple(value) if isinstance(value, list) else value
    settings = Settings(**values)
    _check(settings, where)
    return settings


def _convert(value: Any, kind: str, default: Any, where: str) -> Any:
    """Check one raw TOML value against its kind and return the field value."""
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(f"{where} must be a positive integer, got {value!r}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"{where} must be a positive number, got {value!r}")
        return float(value)
    if kind in ("string", "confidence"):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} must be a non-empty string, got {value!r}")
        return value
    if kind == "module":  # written into `from <module> import poincare_distance`
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", value):
            raise ConfigError(f"{where} must be a dotted module name like 'src.geometry', got {value!r}")
        return value
    if kind == "globs-to-codes":
        if not isinstance(value, dict) or not all(_is_strings(v) for v in value.values()):
            raise ConfigError(f"{where} must be a table of glob = [strings], got {value!r}")
        return tuple((glob, tuple(items)) for glob, items in value.items())
    if not _is_strings(value):
        raise ConfigError(f"{where} must be a list of strings, got {value!r}")
    if kind == "patterns":
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ConfigError(f"{where}: bad regular expression {pattern!r}: {error}") from None
    if kind == "extend-strings":
        return tuple(dict.fromkeys([*default, *value]))
    return tuple(value)


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _check(settings: Settings, where: str) -> None:
    """Cross-field checks that also cover values given on the command line."""
    if settings.min_confidence not in CONFIDENCE_LEVELS:
        raise ConfigError(f"{where}: min-confidence must be one of {', '.join(CONFIDENCE_LEVELS)}, got {settings.min_confidence!r}")
    for code in (*settings.select, *settings.ignore, *(c for _, codes in settings.per_file_ignores for c in codes)):
        if not re.fullmatch(r"[A-Z]+[0-9]*", code):
            raise ConfigError(f"{where}: {code!r} is not a rule code or prefix (e.g. HYP or HYP001)")

