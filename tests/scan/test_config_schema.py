"""The JSON Schema of the configuration is generated from the settings definitions and shipped up to date."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

from vaeaudit.scan.config_schema import schema, schema_text
from vaeaudit.scan.settings import KEYS

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_schema_is_up_to_date() -> None:
    shipped = resources.files("vaeaudit").joinpath("vaeaudit.schema.json").read_text(encoding="utf-8")
    assert shipped == schema_text(), "regenerate it: python -m vaeaudit.scan.config_schema"
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    assert "vaeaudit.schema.json" in package_data["vaeaudit"]


def test_the_schema_covers_every_key_in_kebab_case_and_rejects_others() -> None:
    document = schema()
    assert set(document["properties"]) == {*KEYS, "checkpoints"}
    assert all(key == key.lower() and "_" not in key for key in document["properties"])
    assert document["additionalProperties"] is False
    assert document["properties"]["per-file-ignores"]["additionalProperties"]["items"]["pattern"] == "^[A-Z]+[0-9]*$"
    assert document["properties"]["min-confidence"]["enum"] == ["low", "medium", "high"]
    assert document["properties"]["preview"] == {"description": "Enable preview-tier rules.", "type": "boolean", "default": False}
    json.dumps(document)  # plain JSON all the way down
