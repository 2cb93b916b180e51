"""The JSON Schema of vaeaudit's configuration, generated from the settings definitions.

Editors that know the schema (Even Better TOML, taplo, VS Code) complete and check
`[tool.vaeaudit]` and `vaeaudit.toml`. The schema is derived from `settings.KEYS` (kind,
doc) and the `Settings` defaults, so it cannot drift from what the loader accepts; the
copy shipped in the package is kept current by a test. Regenerate it with
`python -m vaeaudit.scan.config_schema`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vaeaudit.scan.settings import CONFIDENCE_LEVELS, KEYS, Settings, config_values

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "vaeaudit.schema.json"

_STRINGS = {"type": "array", "items": {"type": "string"}}
_CODES = {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]+[0-9]*$"}}
_KINDS: dict[str, dict[str, Any]] = {
    "bool": {"type": "boolean"},
    "int": {"type": "integer", "minimum": 1},
    "float": {"type": "number", "exclusiveMinimum": 0},
    "string": {"type": "string", "minLength": 1},
    "confidence": {"type": "string", "enum": list(CONFIDENCE_LEVELS)},
    "module": {"type": "string", "pattern": r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$"},
    "strings": _STRINGS,
    "globs": _STRINGS,
    "extend-strings": _STRINGS,
    "patterns": {"type": "array", "items": {"type": "string", "format": "regex"}},
    "codes": _CODES,
    "globs-to-codes": {"type": "object", "additionalProperties": _CODES},
    "globs-to-globs": {"type": "object", "additionalProperties": _STRINGS},
}


def schema() -> dict[str, Any]:
    """The schema of the vaeaudit table (`[tool.vaeaudit]`, or the whole of `vaeaudit.toml`)."""
    defaults = config_values(Settings(project_root=Path(".")))
    properties: dict[str, Any] = {}
    for key, spec in KEYS.items():
        extends = " Extends the built-in list." if spec.kind == "extend-strings" else ""
        properties[key] = {"description": spec.doc + extends, **_KINDS[spec.kind], "default": defaults[key]}
    properties["checkpoints"] = {"description": "Settings of `vaeaudit checkpoints` (validated by that command).", "type": "object"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "vaeaudit",
        "description": "Configuration of vaeaudit: [tool.vaeaudit] in pyproject.toml, or vaeaudit.toml / .vaeaudit.toml.",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def schema_text() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    from vaeaudit.atomic import atomic_write_text

    atomic_write_text(SCHEMA_FILE, schema_text())
    print(f"Wrote {SCHEMA_FILE}")
