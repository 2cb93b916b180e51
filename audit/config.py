"""Find and read vaeaudit's configuration file, as ruff finds its own.

A folder configures vaeaudit when it holds `.vaeaudit.toml` or `vaeaudit.toml` (the whole
file is the table) or a `pyproject.toml` with a `[tool.vaeaudit]` table; the first of
these, in that order, wins within one folder. The closest configuring folder at or above
a file applies to it: a nearer `pyproject.toml` *without* the table (a sub-package's
metadata in a monorepo) never shadows the real configuration above it.

Only finding and reading live here; each feature validates its own keys (`vaeaudit.scan`
the scan/fix keys, `vaeaudit.checkpoints` the `checkpoints` sub-table, passed through
untouched), so the schema of a setting sits next to the code that uses it. Unknown keys
are errors that name the key, the file and the allowed keys: a typo must never be
silently ignored.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

CONFIG_NAMES = (".vaeaudit.toml", "vaeaudit.toml", "pyproject.toml")


class ConfigError(Exception):
    """A configuration problem the user must fix; the message names the key and the file."""


def find_config(start: str | Path) -> Path | None:
    """The configuration file that applies to `start` (a file or folder), or None."""
    here = Path(start).resolve()
    if not here.is_dir():
        here = here.parent
    return next((config for folder in (here, *here.parents) if (config := config_in(folder))), None)


def config_in(folder: Path) -> Path | None:
    """The configuration file in `folder` itself, or None."""
    for name in CONFIG_NAMES:
        candidate = folder / name
        if candidate.is_file() and (name != "pyproject.toml" or "vaeaudit" in _read(candidate).get("tool", {})):
            return candidate
    return None


def read_config(path: str | Path) -> dict[str, Any]:
    """The vaeaudit table of one configuration file (`--config PATH`, or what find_config found)."""
    path = Path(path)
    document = _read(path)
    if path.name != "pyproject.toml":
        return document
    table = document.get("tool", {}).get("vaeaudit", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.vaeaudit] must be a table")
    return table


def read_tool_table(start: str | Path) -> tuple[dict[str, Any], Path | None]:
    """The vaeaudit table that applies to `start` and the file it came from; ({}, None) when none does."""
    path = find_config(start)
    return (read_config(path), path) if path is not None else ({}, None)


def table_name(path: Path | None) -> str:
    """How messages name the table: `[tool.vaeaudit]` in a pyproject.toml, the file itself otherwise."""
    if path is None:
        return "command line"
    return f"{path}: [tool.vaeaudit]" if path.name == "pyproject.toml" else str(path)


def reject_unknown_keys(table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Raise ConfigError naming the first key of `table` not in `allowed` (and the likely intended one)."""
    allowed = sorted(allowed)
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key.replace("_", "-"), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{where}: unknown key {key!r}{hint} (allowed keys: {', '.join(allowed)})")


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
