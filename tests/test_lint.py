"""The package passes its own linters: ruff (lint and format) and mypy.

mypy cannot follow setuptools' editable finder (folders mapped onto `vaeaudit.*`), so
the test builds the installed layout as a tree of symlinks and checks `-p vaeaudit`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PACKAGE_FOLDERS = ["audit", "codemods", "ternary_vae", "templates"]
RUFF_FOLDERS = [*PACKAGE_FOLDERS, "bench"]  # the bench scripts print the figures the issues quote


def run(*command: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True)


def test_ruff_lint_is_clean():
    result = run(str(BIN / "ruff"), "check", *RUFF_FOLDERS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = run(str(BIN / "ruff"), "format", "--check", *RUFF_FOLDERS)
    assert result.returncode == 0, result.stdout + result.stderr


def installed_layout(root: Path) -> Path:
    """`vaeaudit/` as the wheel lays it out, made of symlinks into the checkout."""
    package = root / "vaeaudit"
    package.mkdir(parents=True)
    for entry in (REPO / "audit").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for folder in ("codemods", "ternary_vae", "templates"):
        (package / folder).symlink_to(REPO / folder)
    return root


def test_mypy_is_clean(tmp_path):
    root = installed_layout(tmp_path / "layout")
    result = run(
        str(BIN / "mypy"), "--config-file", str(REPO / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache"), "-p", "vaeaudit",
        cwd=root,
    )
    assert result.returncode == 0, result.stdout + result.stderr
