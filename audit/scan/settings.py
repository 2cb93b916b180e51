"""The scanner's (and the codemod's) settings: built-in defaults, the configuration file, CLI flags.

Precedence is defaults < configuration file < command line; which file applies to a
path is `vaeaudit.config.find_config`'s answer (the closest one, as in ruff), and
`SettingsResolver` answers it per scanned path. Every top-level key is validated here
(the `checkpoints` sub-table belongs to the checkpoint auditor and is only checked to be
a table); a wrong key, type or rule code is a `ConfigError` naming the key and the file,
never a silently ignored typo. `KEYS` is also the source of the shipped JSON Schema.

List-valued *source knowledge* (producers, sanitizers, projection classes) extends the
built-in lists, because the defaults are facts about libraries; the patterns, excludes and
rule selection replace the defaults, because a team may find them too broad.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaeaudit.config import ConfigError, config_in, find_config, read_config, reject_unknown_keys, table_name
from vaeaudit.scan.rules import unknown_selectors

CONFIDENCE_LEVELS = ("low", "medium", "high")
LOW, MEDIUM, HIGH = range(len(CONFIDENCE_LEVELS))  # the levels' ranks, as evidence (`taint.Taint`) compares them

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
# Names that say a value is Euclidean; they win over the name/key patterns above. An l2 norm or distance is named
# for the Euclidean metric itself (`manifold_norm_l2` logged beside `manifold_norm_dist0`): whoever writes it knows
# which norm it is (a bare `l2` is as often "loss 2").
DEFAULT_EUCLIDEAN_PATTERNS = (
    r"(?<![a-z])euc(l(id(ean)?)?)?(?![a-z])",
    r"(?<![a-z])tan(g(ent)?)?(?![a-z])",  # `z_tan`, `u_tangent` (not `tanh`)
    r"(?<![a-z0-9])l2_?(norm|dist|radi)|(norm|dist|distance|radius|radii)s?_l2(?![0-9])",
)
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
    "research": ("scripts/**", "research/**", "experiments/**", "notebooks/**", "**/analysis/**", "**/*.py", "**/*.ipynb"),
}
# File names a folder walk scans (globs on the name); files named on the command line always are.
DEFAULT_INCLUDE = ("*.py", "*.ipynb")
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
    include: tuple[str, ...] = DEFAULT_INCLUDE
    extend_include: tuple[str, ...] = ()
    force_exclude: bool = False
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
        skip = {
            "project_root",
            "config_path",
            "src",
            "exclude",
            "extend_exclude",
            "include",
            "extend_include",
            "force_exclude",
            "respect_gitignore",
            "cache",
            "cache_dir",
        }
        parts = [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.name not in skip]
        return "\n".join(parts)


@dataclass(frozen=True)
class Key:
    """One configuration key: the Settings field it sets, its kind (validation and schema), what it does."""

    field: str
    kind: str
    doc: str


KEYS: dict[str, Key] = {
    "src": Key("src", "strings", "Folders scanned when no path is given, relative to the configuration file."),
    "exclude": Key("exclude", "globs", "Paths never scanned in a folder walk (replaces the defaults)."),
    "extend-exclude": Key("extend_exclude", "globs", "Paths never scanned, on top of `exclude`."),
    "include": Key("include", "globs", "File-name globs a folder walk scans (default: Python files and Jupyter notebooks)."),
    "extend-include": Key("extend_include", "globs", "More file-name globs to scan, on top of `include`."),
    "force-exclude": Key("force_exclude", "bool", "Apply `exclude` also to files named on the command line (for pre-commit)."),
    "respect-gitignore": Key("respect_gitignore", "bool", "Skip what .gitignore files ignore."),
    "per-file-ignores": Key("per_file_ignores", "globs-to-codes", "Rule codes or prefixes not reported in files matching a glob."),
    "select": Key("select", "codes", "Rule codes or prefixes to report."),
    "ignore": Key("ignore", "codes", "Rule codes or prefixes not to report."),
    "min-confidence": Key("min_confidence", "confidence", "Hide findings below this confidence."),
    "preview": Key("preview", "bool", "Enable preview-tier rules."),
    "producers": Key("producers", "extend-strings", "More calls whose result is a Poincaré-ball point."),
    "sanitizers": Key("sanitizers", "extend-strings", "More calls whose result is Euclidean (a tangent vector)."),
    "projection-classes": Key("projection_classes", "extend-strings", "More nn.Module classes whose forward() returns ball points."),
    "name-patterns": Key("name_patterns", "patterns", "Regular expressions for identifiers that name hyperbolic values."),
    "key-patterns": Key("key_patterns", "patterns", "Regular expressions for string keys that name hyperbolic values."),
    "euclidean-patterns": Key("euclidean_patterns", "patterns", "Regular expressions for names that say a value is Euclidean."),
    "categories": Key("categories", "globs-to-globs", "Report categories: name = [path globs]; the first match wins."),
    "cache": Key("cache", "bool", "Keep the content-hash cache."),
    "cache-dir": Key("cache_dir", "string", "Cache folder, inside the project root."),
    "max-file-size": Key("max_file_size", "int", "Bytes above which a file is not parsed."),
    "poincare-import": Key("poincare_import", "module", "Module that `fix` imports poincare_distance from."),
    "curvature-expressions": Key("curvature_expressions", "strings", "Expressions `fix` tries as the curvature, in order."),
    "default-curvature": Key("default_curvature", "float", "Curvature `fix` uses when no expression is in scope."),
}
# Sub-tables other features own and validate themselves; passed through untouched.
FOREIGN_TABLES = ("checkpoints",)
_CODE = re.compile(r"[A-Z]+[0-9]*")


def config_values(settings: Settings) -> dict[str, Any]:
    """`settings` as a configuration file writes them: kebab-case keys, lists and tables."""
    return {key: _as_config(getattr(settings, spec.field), spec.kind) for key, spec in KEYS.items()}


def _as_config(value: Any, kind: str) -> Any:
    if kind in ("globs-to-codes", "globs-to-globs"):
        return {name: list(items) for name, items in value}
    return list(value) if isinstance(value, tuple) else value


def load_settings(start: Path, **cli_overrides: Any) -> Settings:
    """Settings for files under `start`: defaults, then its closest configuration file, then `cli_overrides`.

    `cli_overrides` uses field names (`select=("HYP001",)`, `cache=False`); None values
    mean "flag not given" and are skipped. Raises ConfigError on any invalid setting.
    """
    start = Path(start).resolve()
    config = find_config(start)
    return settings_from(config, start if start.is_dir() else start.parent, cli_overrides)


def settings_from(config: Path | None, fallback_root: Path, cli_overrides: dict[str, Any]) -> Settings:
    """Settings from one configuration file (None: defaults rooted at `fallback_root`) and the CLI."""
    table = read_config(config) if config is not None else {}
    where = table_name(config)
    reject_unknown_keys(table, [*KEYS, *FOREIGN_TABLES], where)
    for name in FOREIGN_TABLES:
        if name in table and not isinstance(table[name], dict):
            raise ConfigError(f"{where}: key {name!r} must be a table")
    root = config.parent.resolve() if config is not None else fallback_root.resolve()
    values: dict[str, Any] = {"project_root": root, "config_path": config}
    defaults = Settings(project_root=root)
    for key, spec in KEYS.items():
        if key in table:
            values[spec.field] = _convert(table[key], spec.kind, getattr(defaults, spec.field), f"{where}: key {key!r}")
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    flags = {spec.field: key for key, spec in KEYS.items()}
    for name, value in cli_overrides.items():
        if name not in fields:
            raise TypeError(f"load_settings: unknown override {name!r}")
        if value is None:
            continue
        values[name] = tuple(value) if isinstance(value, list) else value
        if name in ("select", "ignore"):
            _check_codes(values[name], f"--{flags[name]}")
    settings = Settings(**values)
    if settings.min_confidence not in CONFIDENCE_LEVELS:
        raise ConfigError(f"{where}: min-confidence must be one of {', '.join(CONFIDENCE_LEVELS)}, got {settings.min_confidence!r}")
    return settings


class SettingsResolver:
    """The settings for each scanned path, as in ruff: the closest configuration file decides.

    `--config PATH` or `--isolated` fix one set of settings for every path instead. CLI
    overrides apply on top of whichever file applies; `extend_exclude` from the command line
    is added to the file's own. Each configuration file is read once.
    """

    def __init__(
        self, *, config: Path | None = None, isolated: bool = False, extend_exclude: tuple[str, ...] = (), **cli_overrides: Any
    ) -> None:
        if config is not None and isolated:
            raise ConfigError("--config and --isolated exclude each other")
        self._overrides = cli_overrides
        self._extend_exclude = tuple(extend_exclude)
        self._by_config: dict[Path | None, Settings] = {}
        self._by_folder: dict[Path, Settings] = {}
        self._config_in: dict[Path, Path | None] = {}
        self._fixed = self._load(Path(config).resolve()) if config is not None else self._load(None) if isolated else None

    def settings_for(self, path: str | Path) -> Settings:
        """The settings of the file or folder `path`."""
        if self._fixed is not None:
            return self._fixed
        folder = Path(os.path.abspath(path))
        if not folder.is_dir():
            folder = folder.parent
        if folder not in self._by_folder:
            self._by_folder[folder] = self._load(self._config_of(folder.resolve()))
        return self._by_folder[folder]

    def config_for(self, path: str | Path) -> Path | None:
        """The configuration file that governs `path` (None: defaults, `--isolated`, or `--config`'s own)."""
        if self._fixed is not None:
            return None
        folder = Path(os.path.abspath(path))
        return self._config_of((folder if folder.is_dir() else folder.parent).resolve())

    def settings_of_config(self, config: Path | None) -> Settings:
        """The settings `config_for` named: what a cached file list needs instead of a lookup per folder."""
        return self._fixed if self._fixed is not None else self._load(config)

    def consulted_folders(self) -> list[Path]:
        """Every folder searched for a configuration file so far (a file created there changes the answer)."""
        return list(self._config_in)

    def identity(self) -> list:
        """What makes two resolvers answer alike (a cache key): `--config`, `--isolated`, the CLI's settings."""
        fixed = None if self._fixed is None else repr(self._fixed)
        return [fixed, list(self._extend_exclude), sorted((name, repr(value)) for name, value in self._overrides.items())]

    def _config_of(self, folder: Path) -> Path | None:
        """`find_config(folder)`, each folder's files read once for the whole tree."""
        if folder not in self._config_in:
            own = config_in(folder)
            self._config_in[folder] = own if own is not None or folder.parent == folder else self._config_of(folder.parent)
        return self._config_in[folder]

    def _load(self, config: Path | None) -> Settings:
        if config not in self._by_config:
            settings = settings_from(config, Path.cwd(), self._overrides)
            if self._extend_exclude:
                settings = dataclasses.replace(settings, extend_exclude=settings.extend_exclude + self._extend_exclude)
            self._by_config[config] = settings
        return self._by_config[config]


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
    if kind in ("globs-to-codes", "globs-to-globs"):
        if not isinstance(value, dict) or not all(_is_strings(v) for v in value.values()):
            raise ConfigError(f"{where} must be a table of glob = [strings], got {value!r}")
        if kind == "globs-to-codes":
            for glob, codes in value.items():
                _check_codes(codes, f"{where} (glob {glob!r})")
        return tuple((glob, tuple(items)) for glob, items in value.items())
    if not _is_strings(value):
        raise ConfigError(f"{where} must be a list of strings, got {value!r}")
    if kind == "codes":
        _check_codes(value, where)
    if kind == "patterns":
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ConfigError(f"{where}: bad regular expression {pattern!r}: {error}") from None
    if kind == "extend-strings":
        return tuple(dict.fromkeys([*default, *value]))
    return tuple(value)


def _check_codes(codes: Any, where: str) -> None:
    """Every code must be an upper-case rule code or prefix that selects some rule."""
    for code in codes:
        if not _CODE.fullmatch(code):
            raise ConfigError(f"{where}: {code!r} is not a rule code or prefix (e.g. HYP or HYP001)")
        if unknown_selectors((code,)):
            raise ConfigError(f"{where}: unknown rule selector {code!r} (see `vaeaudit rule --all`)")


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
