"""`.pre-commit-hooks.yaml` is what the rule registry generates, and pre-commit accepts it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from vaeaudit.precommit import hooks_yaml
from vaeaudit.scan.rules import RULES

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / ".pre-commit-hooks.yaml"


def test_manifest_is_generated_from_the_registry():
    assert MANIFEST.read_text(encoding="utf-8") == hooks_yaml(), "stale: run python -m vaeaudit.precommit > .pre-commit-hooks.yaml"


def test_every_rule_is_described_and_every_hook_force_excludes():
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert [hook["id"] for hook in hooks] == ["vaeaudit-check", "vaeaudit-fix"]
    for hook in hooks:
        assert "--force-exclude" in hook["entry"].split()
        for code in (code for code, rule in RULES.items() if not rule.preview):  # hooks run without --preview
            assert code in hook["description"]


def test_pre_commit_validates_the_manifest():
    pre_commit = Path(sys.executable).with_name("pre-commit")
    result = subprocess.run([str(pre_commit), "validate-manifest", str(MANIFEST)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
