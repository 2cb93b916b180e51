"""One pipeline: `vaeaudit fix` rewrites the scanner's own parse, with the scanner's project-wide findings.

A finding that needs another file's evidence is fixed (the old fixer re-scanned each file
alone and never saw it), each file is parsed by the fix exactly as often as by the scan,
and `vaeaudit scan --fix/--diff` is the same fixer as `vaeaudit fix` (same output, same exit codes).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaeaudit.cli import main
from vaeaudit.codemods.file_fixer import finish_file
from vaeaudit.scan.runner import FileResult

VAEAUDIT = Path(sys.executable).with_name("vaeaudit")

GEOMETRY = """import torch


def exp_map_zero(v, c=1.0):
    sqrt_c = c**0.5
    n = v.norm(dim=-1, keepdim=True).clamp_min(1e-15)
    return torch.tanh(sqrt_c * n) * v / (sqrt_c * n)
"""
# The helper alone shows no ball point: only the caller in model.py does.
HELPERS = """def radius_of(points, curvature: float):
    return points.norm(dim=-1)
"""
HELPERS_FIXED = """from vaeaudit.geometry import poincare_radius
def radius_of(points, curvature: float):
    return poincare_radius(points, c=curvature)
"""
MODEL = """from geo import exp_map_zero
from helpers import radius_of


def encode(mu, curvature: float = 1.0):
    z = exp_map_zero(mu, c=curvature)
    return radius_of(z, curvature)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "geo.py").write_text(GEOMETRY)
    (tmp_path / "helpers.py").write_text(HELPERS)
    (tmp_path / "model.py").write_text(MODEL)
    return tmp_path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(VAEAUDIT), *args], capture_output=True, text=True)


def test_a_finding_that_needs_another_files_evidence_is_fixed(project: Path) -> None:
    scanned = run("scan", "--isolated", str(project))
    assert scanned.returncode == 1 and "helpers.py:2:12: HYP001" in scanned.stdout
    fixed = run("fix", "--apply", "--isolated", str(project))
    assert fixed.returncode == 0, fixed.stderr
    assert "Fixed 1 finding(s), 0 remaining." in fixed.stderr
    assert (project / "helpers.py").read_text() == HELPERS_FIXED
    assert (project / "model.py").read_text() == MODEL
    again = run("scan", "--isolated", str(project))
    assert again.returncode == 0, again.stdout


def test_scan_fix_fixes_it_too_and_scan_diff_shows_it(project: Path) -> None:
    diff = run("scan", "--diff", "--isolated", str(project))
    assert diff.returncode == 1 and "+    return poincare_radius(points, c=curvature)" in diff.stdout
    assert (project / "helpers.py").read_text() == HELPERS
    applied = run("scan", "--fix", "--show-fixes", "--isolated", str(project))
    assert applied.returncode == 0, applied.stderr
    assert "helpers.py:2:12: HYP001 fixed: c from `curvature`" in applied.stderr
    assert (project / "helpers.py").read_text() == HELPERS_FIXED


def test_through_the_process_pool_too(tmp_path: Path) -> None:
    (tmp_path / "geo.py").write_text(GEOMETRY)
    (tmp_path / "helpers.py").write_text(HELPERS)
    for index in range(70):  # above the scanner's pool threshold: the fixer is pickled to the workers
        (tmp_path / f"model{index}.py").write_text(MODEL)
    result = run("fix", "--apply", "--jobs", "2", "--isolated", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "helpers.py").read_text() == HELPERS_FIXED


def test_fix_parses_each_file_as_often_as_scan_does(project: Path, monkeypatch) -> None:
    import vaeaudit.scan.analyzer as analyzer

    parsed: list[str] = []
    original = analyzer.parse

    def counting(text, source):
        parsed.append(text)
        return original(text, source)

    monkeypatch.setattr(analyzer, "parse", counting)
    assert CliRunner().invoke(main, ["scan", "--isolated", "--no-cache", str(project)]).exit_code == 1
    scan_parses, parsed[:] = sorted(parsed), []
    assert CliRunner().invoke(main, ["fix", "--apply", "--isolated", str(project)]).exit_code == 0
    assert sorted(parsed) == scan_parses  # the scanner's parses, and no other
    assert (project / "helpers.py").read_text() == HELPERS_FIXED


@pytest.mark.parametrize(
    ("scan_args", "fix_args", "code"),
    [
        (["--diff"], [], 1),
        (["--fix"], ["--apply"], 1),  # the unsafe fix remains
        (["--fix", "--unsafe-fixes"], ["--apply", "--unsafe-fixes"], 0),
        (["--diff", "--unsafe-fixes"], ["--unsafe-fixes"], 1),
    ],
)
def test_scan_fix_and_fix_give_the_same_output_and_exit_code(tmp_path: Path, scan_args, fix_args, code) -> None:
    unsafe = "import torch\nfrom hyperlib.maps import exp_map_zero\n\n\ndef radii(mu):\n    return torch.norm(exp_map_zero(mu), dim=-1)\n"
    results = []
    for name, args in (("scan", ["scan", *scan_args]), ("fix", ["fix", *fix_args])):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "m.py").write_text(unsafe)
        result = run(*args, "--isolated", str(folder))
        results.append(
            (
                result.returncode,
                result.stdout.replace(str(folder), "X"),
                result.stderr.replace(str(folder), "X"),
                (folder / "m.py").read_text(),
            )
        )
    assert results[0] == results[1]
    assert results[0][0] == code


def test_exit_zero_with_fix_exits_0_while_findings_remain(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "import torch\nfrom hyperlib.maps import exp_map_zero\n\n\ndef radii(mu):\n    return torch.norm(exp_map_zero(mu), dim=-1)\n"
    )
    result = run("scan", "--fix", "--exit-zero", "--isolated", str(tmp_path))
    assert result.returncode == 0 and "1 remaining" in result.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--output-format", "json"], "--output-format json"),
        (["--statistics"], "--statistics"),
        (["--report", "r.md"], "--report"),
    ],
)
def test_report_options_that_fix_does_not_print_are_usage_errors(project: Path, args: list[str], named: str) -> None:
    result = run("scan", "--fix", *args, "--isolated", str(project))
    assert result.returncode == 2 and f"{named} cannot be combined with --fix or --diff" in result.stderr
    assert (project / "helpers.py").read_text() == HELPERS


def test_extend_exclude_and_min_confidence_apply_to_scan_fix(project: Path) -> None:
    result = run("scan", "--fix", "--extend-exclude", "helpers.py", "--isolated", str(project))
    assert result.returncode == 0 and (project / "helpers.py").read_text() == HELPERS


def test_a_file_changed_since_it_was_scanned_is_left_untouched(project: Path) -> None:
    from vaeaudit.codemods.file_fixer import Rewritten
    from vaeaudit.codemods.outcome import FIXED, Outcome
    from vaeaudit.scan import scan_source
    from vaeaudit.scan.settings import Settings

    path = project / "model.py"
    finding = scan_source(
        b"import torch\nfrom vaeaudit.geometry import exp_map_zero\nz = exp_map_zero(1)\nr = torch.norm(z, dim=-1)\n", str(path), Settings()
    )[0]
    result = FileResult(str(path), [finding], fixed=Rewritten([Outcome(finding, FIXED)], b"new\n"), source=b"what was scanned\n")
    report = finish_file(path, result, [project.resolve()], apply=True)
    assert report.error == "changed on disk while it was being fixed; file left untouched"
    assert [outcome.status for outcome in report.outcomes] == ["refused"]
    assert path.read_text() == MODEL


def test_a_file_the_scanner_analysed_masked_is_not_rewritten(tmp_path: Path) -> None:
    """Over-deep generated lines are masked before parsing: that module is not the file, so it is never written back."""
    deep = "table = " + " + ".join(["1"] * 600) + "\n"
    body = "import torch\nfrom vaeaudit.geometry import exp_map_zero\n\n\ndef radii(mu, c: float):\n"
    source = deep + body + "    return torch.norm(exp_map_zero(mu, c=c), dim=-1)\n"
    (tmp_path / "generated.py").write_text(source)
    result = run("fix", "--apply", "--isolated", str(tmp_path))
    assert (tmp_path / "generated.py").read_text() == source
    assert result.returncode == 1, result.stderr
    assert "not analysed" in result.stderr and "file left untouched" in result.stderr
    assert "HYP001 not fixable: the scanner did not parse the whole file" in result.stderr
