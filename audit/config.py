"""Find and read the `[tool.vaeaudit]` table of the nearest pyproject.toml.

Only the reading and the error type live here; each feature validates its own keys
(`vaeaudit.scan` the scan/fix keys, `vaeaudit.checkpoints` the `checkpoints` sub-table), so
the schema of a setting sits next to the code that uses it. Unknown keys are errors that
name the key, the file and the allowed keys: a typo must never be silently ignored.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A configuration problem the user must fix; the message names the key and the file."""


def find_pyproject(start: str | Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` (a file or folder), or None."""
    here = Path(start).resolve()
    if not here.is_dir():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_tool_table(start: str | Path) -> tuple[dict[str, Any], Path | None]:
    """The raw `[tool.vaeaudit]` table nearest to `start` and the file it came from.

    Returns ({}, None) when there is no pyproject.toml, and ({}, path) when it has no
    `[tool.vaeaudit]` table. A pyproject.toml that is not valid TOML is a ConfigError.
    """
    pyproject = find_pyproject(start)
    if pyproject is None:
        return {}, None
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{pyproject}: cannot read: {error}") from None
    table = document.get("tool", {}).get("vaeaudit", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.vaeaudit] must be a table")
    return table, pyproject


def reject_unknown_keys(table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Raise ConfigError naming the first key of `table` not in `allowed`."""
    allowed = sorted(allowed)
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r}; allowed keys: {', '.join(allowed)}")
