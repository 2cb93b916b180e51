"""The codemods are real libcst CodemodCommands: `python -m libcst.tool codemod -x ...` runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def codemod(folder: Path, command: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "libcst.tool", "codemod", "--no-format", "-x", f"vaeaudit.codemods.commands.{command}", *flags, "."],
        cwd=folder,
        capture_output=True,
        text=True,
    )


def test_libcst_tool_runs_each_command_with_its_rules_and_flags(tmp_path: Path) -> None:
    cases = ["torch_norm_radius", "cdist_to_matrix", "unsafe_curvature_default"]
    for case in cases:
        (tmp_path / f"{case}.py").write_bytes((FIXTURES / f"{case}.in.py").read_bytes())

    result = codemod(tmp_path, "FixRadiusCommand")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "torch_norm_radius.py").read_bytes() == (FIXTURES / "torch_norm_radius.out.py").read_bytes()
    assert (tmp_path / "cdist_to_matrix.py").read_bytes() == (FIXTURES / "cdist_to_matrix.in.py").read_bytes()
    assert "HYP001 at 8:12 unsafe: no curvature in scope" in result.stderr

    result = codemod(tmp_path, "FixDistanceCommand")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cdist_to_matrix.py").read_bytes() == (FIXTURES / "cdist_to_matrix.out.py").read_bytes()

    result = codemod(tmp_path, "FixAllCommand", "--unsafe-fixes")
    assert result.returncode == 0, result.stderr
    for case in cases:
        assert (tmp_path / f"{case}.py").read_bytes() == (FIXTURES / f"{case}.out.py").read_bytes()


def test_a_config_error_skips_the_file_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.vaeaudit]\nbogus = 1\n")
    source = (FIXTURES / "torch_norm_radius.in.py").read_bytes()
    (tmp_path / "model.py").write_bytes(source)
    result = codemod(tmp_path, "FixAllCommand")
    assert "unknown key 'bogus'" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "model.py").read_bytes() == source
