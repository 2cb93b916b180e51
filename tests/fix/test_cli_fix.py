"""`vaeaudit fix` through its real entry point: every flag, every exit code, every guarantee."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from vaeaudit.cli import main
from vaeaudit.scan import scan_source
from vaeaudit.scan.settings import load_settings

VAEAUDIT = Path(sys.executable).with_name("vaeaudit")

RADIUS = """import torch

from vaeaudit.geometry import exp_map_zero


def radii(mu, curvature):
    z = exp_map_zero(mu, c=curvature)
    return torch.norm(z, dim=-1)
"""
RADIUS_FIXED = """from vaeaudit.geometry import exp_map_zero, poincare_radius


def radii(mu, curvature):
    z = exp_map_zero(mu, c=curvature)
    return poincare_radius(z, c=curvature)
"""
DISTANCE = """import torch

from vaeaudit.geometry import exp_map_zero


def pairs(mu, curvature):
    z = exp_map_zero(mu, c=curvature)
    return torch.cdist(z, z)
"""
# No curvature in scope (the producer's source, and so its default curvature, is not at hand): the fix exists but is unsafe.
UNSAFE = """import torch

from hyperlib.maps import exp_map_zero


def radii(mu):
    z = exp_map_zero(mu)
    return torch.norm(z, dim=-1)
"""


def fix(*args: str):
    return CliRunner().invoke(main, ["fix", *args])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "radius.py").write_text(RADIUS)
    (tmp_path / "distance.py").write_text(DISTANCE)
    return tmp_path


def test_default_prints_a_diff_and_writes_nothing(project: Path) -> None:
    result = fix(str(project))
    assert result.exit_code == 1
    assert f"--- {project / 'radius.py'}\n+++ {project / 'radius.py'}\n" in result.stdout
    assert "+    return poincare_radius(z, c=curvature)" in result.stdout
    assert "+    return poincare_distance_matrix(z, z, c=curvature)" in result.stdout
    assert "Would fix 2 finding(s), 0 remaining." in result.stderr
    assert (project / "radius.py").read_text() == RADIUS


def test_relative_diff_applies_with_git_apply(project: Path, monkeypatch) -> None:
    monkeypatch.chdir(project)
    diff = fix("radius.py").stdout
    assert diff.startswith("--- a/radius.py\n+++ b/radius.py\n")
    subprocess.run(["git", "apply", "-"], input=diff, text=True, check=True, cwd=project)
    assert (project / "radius.py").read_text() == RADIUS_FIXED


def test_apply_writes_keeps_the_mode_and_exits_0(project: Path) -> None:
    os.chmod(project / "radius.py", 0o751)
    result = fix("--apply", str(project))
    assert result.exit_code == 0, result.stderr
    assert (project / "radius.py").read_text() == RADIUS_FIXED
    assert "poincare_distance_matrix(z, z, c=curvature)" in (project / "distance.py").read_text()
    assert stat.S_IMODE((project / "radius.py").stat().st_mode) == 0o751
    assert sorted(p.name for p in project.iterdir()) == ["distance.py", "radius.py"]  # no temp files left
    assert "Fixed 2 finding(s), 0 remaining." in result.stderr


def test_second_apply_changes_nothing_and_scan_finds_nothing(project: Path) -> None:
    fix("--apply", str(project))
    before = {p: p.read_bytes() for p in project.iterdir()}
    result = fix("--apply", str(project))
    assert result.exit_code == 0 and {p: p.read_bytes() for p in project.iterdir()} == before
    settings = load_settings(project)
    assert all(scan_source(p.read_bytes(), str(p), settings) == [] for p in project.iterdir())


def test_unsafe_fix_is_listed_and_only_applied_with_the_flag(tmp_path: Path) -> None:
    target = tmp_path / "unsafe.py"
    target.write_text(UNSAFE)
    result = fix("--apply", str(target))
    assert result.exit_code == 1
    assert target.read_text() == UNSAFE
    assert "HYP001 unsafe fix not applied: no curvature in scope" in result.stderr
    assert "rerun with --unsafe-fixes" in result.stderr
    result = fix("--apply", "--unsafe-fixes", str(target))
    assert result.exit_code == 0
    assert "poincare_radius(z, c=1.0)" in target.read_text()
    assert "HYP001 fixed (unsafe): no curvature in scope" in result.stderr


@pytest.mark.parametrize("flags", [["--select", "HYP002"], ["--ignore", "hyp001"], ["--select", "HYP002,hyp003"]])
def test_select_and_ignore_choose_the_rules(project: Path, flags: list[str]) -> None:
    result = fix("--apply", *flags, str(project))
    assert result.exit_code == 0, result.stderr
    assert (project / "radius.py").read_text() == RADIUS
    assert "poincare_distance_matrix" in (project / "distance.py").read_text()


def test_bad_rule_code_is_a_usage_error_without_traceback(project: Path) -> None:
    result = fix("--select", "hyp-1", str(project))
    assert result.exit_code == 2 and "'HYP-1' is not a rule code" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("flags", [["--select", "E501"], ["--ignore", "HYP1"]])
def test_a_selector_that_matches_no_rule_is_a_usage_error_as_in_scan(project: Path, flags: list[str]) -> None:
    result = fix("--apply", *flags, str(project))
    assert result.exit_code == 2 and f"unknown rule selector {flags[1]!r}" in result.stderr
    assert (project / "distance.py").read_text() == DISTANCE


def test_poincare_import_must_be_a_module_name(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.vaeaudit]\npoincare-import = "src/geometry.py"\n')
    result = fix("--apply", "--unsafe-fixes", str(project))
    assert result.exit_code == 2 and "must be a dotted module name like 'src.geometry', got 'src/geometry.py'" in result.stderr
    assert (project / "radius.py").read_text() == RADIUS


def test_missing_path_is_exit_2_and_the_rest_is_still_fixed(project: Path) -> None:
    result = fix("--apply", str(project / "nope.py"), str(project / "radius.py"))
    assert result.exit_code == 2
    assert f"{project / 'nope.py'}: no such file or folder" in result.stderr
    assert (project / "radius.py").read_text() == RADIUS_FIXED


def test_syntax_error_file_is_untouched_and_exit_2(project: Path) -> None:
    broken = project / "broken.py"
    broken.write_bytes(b"def f(:\n    z = exp_map_zero(mu)\n    return torch.norm(z)\n")
    result = fix("--apply", str(project))
    assert result.exit_code == 2
    assert "broken.py: syntax error" in result.stderr and "left untouched" in result.stderr
    assert broken.read_bytes() == b"def f(:\n    z = exp_map_zero(mu)\n    return torch.norm(z)\n"
    assert (project / "radius.py").read_text() == RADIUS_FIXED


def test_a_fix_that_does_not_parse_leaves_the_file_untouched(project: Path, monkeypatch) -> None:
    import vaeaudit.codemods.rewrite
    from vaeaudit.codemods.outcome import FIXED, Outcome

    def broken_rewrite(module, findings, options):
        return SimpleNamespace(module=SimpleNamespace(code="def broken(:\n"), changed=True, outcomes=[Outcome(f, FIXED) for f in findings])

    monkeypatch.setattr(vaeaudit.codemods.rewrite, "rewrite_module", broken_rewrite)
    result = fix("--apply", str(project / "radius.py"))
    assert result.exit_code == 2
    assert "the fixed text does not parse" in result.stderr and "file left untouched" in result.stderr
    assert "HYP001 not fixable: the rewritten file did not parse" in result.stderr
    assert (project / "radius.py").read_text() == RADIUS


def test_write_failure_is_exit_2_without_traceback(project: Path, monkeypatch) -> None:
    import vaeaudit.codemods.file_fixer

    def refuse(destination, data, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(vaeaudit.codemods.file_fixer, "atomic_write_bytes", refuse)
    result = fix("--apply", str(project))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "radius.py: cannot write: Permission denied; file left untouched" in result.stderr
    assert "HYP001 not fixable: writing the fixed file failed; nothing was written" in result.stderr
    assert (project / "radius.py").read_text() == RADIUS


def test_config_error_is_exit_2_naming_the_key(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.vaeaudit]\npoincare-imports = "x"\n')
    result = fix(str(project))
    assert result.exit_code == 2 and "unknown key 'poincare-imports'" in result.stderr
    assert "Traceback" not in result.output


def test_configured_import_and_stated_curvature(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.vaeaudit]\npoincare-import = "src.geometry"\ncurvature-expressions = ["self.kappa"]\ndefault-curvature = 0.5\n'
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "geometry.py").write_text("")
    (tmp_path / "radius.py").write_text(UNSAFE)
    monkeypatch.chdir(tmp_path)
    # No PATHS: the project's `src` ("."); default-curvature set in the file is the user's statement: safe.
    result = fix("--apply", "--show-fixes")
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "radius.py").read_text()
    assert "from src.geometry import poincare_radius\n" in text
    assert "poincare_radius(z, c=0.5)" in text
    assert "c=0.5 from default-curvature in pyproject.toml" in result.stderr


def test_show_fixes_says_where_the_curvature_came_from(project: Path) -> None:
    result = fix("--apply", "--show-fixes", str(project / "radius.py"))
    assert result.exit_code == 0, result.stderr
    assert "HYP001 fixed: c from `curvature`, the curvature given to `exp_map_zero`" in result.stderr


@pytest.fixture
def link_out(tmp_path: Path) -> tuple[Path, Path]:
    """tree/link.py -> outside/target.py, a file with a fixable finding outside the tree."""
    outside, tree = tmp_path / "outside", tmp_path / "tree"
    outside.mkdir()
    tree.mkdir()
    (outside / "target.py").write_text(RADIUS)
    (tree / "link.py").symlink_to(outside / "target.py")
    return outside, tree


def test_symlink_out_of_the_tree_is_not_followed(link_out: tuple[Path, Path]) -> None:
    outside, tree = link_out
    (tree / "own.py").write_text(RADIUS)
    (tree / "inner_link.py").symlink_to(tree / "own.py")
    result = fix("--apply", str(tree))
    assert result.exit_code == 0, result.stderr
    assert (outside / "target.py").read_text() == RADIUS
    assert (tree / "own.py").read_text() == RADIUS_FIXED
    assert (tree / "inner_link.py").is_symlink()  # written through to its target, not replaced


def test_named_symlink_to_a_file_outside_is_not_written_through(link_out: tuple[Path, Path]) -> None:
    outside, tree = link_out
    result = fix("--apply", str(tree / "link.py"))
    assert result.exit_code == 2
    assert "outside the given paths" in result.stderr
    assert (outside / "target.py").read_text() == RADIUS
    assert (tree / "link.py").is_symlink()


def test_help_names_every_option() -> None:
    result = CliRunner().invoke(main, ["fix", "--help"])
    assert result.exit_code == 0
    for option in ("--apply", "--unsafe-fixes", "--select", "--ignore"):
        assert option in result.output


def test_installed_entry_point_applies_and_exits_0(project: Path) -> None:
    result = subprocess.run([str(VAEAUDIT), "fix", "--apply", str(project)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (project / "radius.py").read_text() == RADIUS_FIXED


def test_installed_entry_point_diff_mode_exits_1(project: Path) -> None:
    result = subprocess.run([str(VAEAUDIT), "fix", str(project)], capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout.startswith(f"--- {project}")
    assert (project / "radius.py").read_text() == RADIUS


def test_many_files_go_through_the_scan_pool_with_jobs(tmp_path: Path) -> None:
    for index in range(70):  # above the scanner's pool threshold
        (tmp_path / f"m{index}.py").write_text(RADIUS if index % 2 else DISTANCE)
    (tmp_path / "plain.py").write_text("x = 1\n")
    result = fix("--apply", "--jobs", "2", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert "Fixed 70 finding(s), 0 remaining." in result.stderr
    assert (tmp_path / "m1.py").read_text() == RADIUS_FIXED


def test_scan_fix_and_diff_are_ruffs_interface_to_the_same_fixer(project: Path) -> None:
    diff = CliRunner().invoke(main, ["scan", "--diff", "--isolated", str(project / "radius.py")])
    assert diff.exit_code == 1 and "+    return poincare_radius(z, c=curvature)" in diff.stdout
    assert (project / "radius.py").read_text() == RADIUS
    applied = CliRunner().invoke(main, ["scan", "--fix", "--show-fixes", "--isolated", str(project)])
    assert applied.exit_code == 0, applied.stderr
    assert (project / "radius.py").read_text() == RADIUS_FIXED
    assert "HYP001 fixed: c from `curvature`" in applied.stderr
