"""`vaeaudit scan` and `vaeaudit rule` through the real entry point: every flag, format and exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaeaudit.cli import main
from vaeaudit.scan.rules import RULES
from vaeaudit.scan.runner import scan_files
from vaeaudit.scan.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
VAEAUDIT = Path(sys.executable).parent / "vaeaudit"

BAD = (
    "import torch\n"
    "from vaeaudit.geometry import exp_map_zero\n"
    "\n"
    "def radii(mu, outputs):\n"
    "    z = exp_map_zero(mu)\n"
    "    z_B = outputs['z_B_hyp']\n"
    "    return z.norm(dim=-1), torch.cdist(z_B, z_B)\n"
)
CLEAN = "import torch\n\ndef f(x):\n    return x.norm(dim=-1)\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n\n[tool.vaeaudit]\nsrc = ['src']\n", encoding="utf-8")
    (tmp_path / "src" / "models").mkdir(parents=True)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "src" / "models" / "encoder.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "src" / "clean.py").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "scripts" / "plot_radii.py").write_text(BAD, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_text_output_and_exit_one(project: Path) -> None:
    result = run("scan", "src")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "src/models/encoder.py:7:12: HYP001 Euclidean norm of ball point `z` used as a radius; use poincare_distance "
        "to the origin [z <- exp_map_zero(mu) (line 5)] (high confidence)"
    )
    assert lines[1].startswith("src/models/encoder.py:7:28: HYP002 ") and "z_B <- outputs['z_B_hyp'] (line 6)" in lines[1]
    assert len(lines) == 2


def test_default_paths_come_from_src_setting(project: Path) -> None:
    result = run("scan")
    assert result.exit_code == 1
    assert {line.split(":")[0] for line in result.stdout.splitlines()} == {"src/models/encoder.py"}


def test_exit_zero_for_clean_code_and_with_exit_zero(project: Path) -> None:
    assert run("scan", "src/clean.py").exit_code == 0
    result = run("scan", "src", "--exit-zero")
    assert result.exit_code == 0 and "HYP001" in result.stdout


def test_exit_two_for_config_errors_unknown_selectors_and_missing_paths(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.vaeaudit]\nsorc = ['src']\n", encoding="utf-8")
    result = run("scan", "src")
    assert result.exit_code == 2 and "unknown key 'sorc'" in result.output and "Traceback" not in result.output
    (project / "pyproject.toml").write_text("[tool.vaeaudit]\n", encoding="utf-8")
    result = run("scan", "src", "--select", "E501")
    assert result.exit_code == 2 and "unknown rule selector 'E501'" in result.output
    result = run("scan", "src", "nowhere")
    assert result.exit_code == 2 and "nowhere: error: no such file or directory" in result.stderr
    assert "HYP001" in result.stdout  # the other path was still scanned


def test_select_ignore_and_min_confidence(project: Path) -> None:
    assert {line.split()[1] for line in run("scan", "src", "--select", "HYP002").stdout.splitlines()} == {"HYP002"}
    assert {line.split()[1] for line in run("scan", "src", "--ignore", "HYP002").stdout.splitlines()} == {"HYP001"}
    assert run("scan", "src", "--select", "HYP", "--ignore", "HYP").exit_code == 0  # a tie goes to ignore
    assert run("scan", "src", "--select", "HYP001", "--ignore", "HYP").exit_code == 1  # the longer prefix wins
    result = run("scan", "src", "--min-confidence", "high")
    assert [line.split()[1] for line in result.stdout.splitlines()] == ["HYP001"]


def test_extend_exclude(project: Path) -> None:
    result = run("scan", ".", "--extend-exclude", "scripts")
    assert {line.split(":")[0] for line in result.stdout.splitlines()} == {"src/models/encoder.py"}


def test_statistics(project: Path) -> None:
    result = run("scan", ".", "--statistics")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["2\tHYP001\teuclidean-norm-as-radius", "2\tHYP002\teuclidean-distance-between-ball-points"]


def test_json_output(project: Path) -> None:
    document = json.loads(run("scan", "src", "--output-format", "json").stdout)
    first = document["findings"][0]
    assert (first["rule"], first["line"], first["col"], first["end_line"], first["end_col"]) == ("HYP001", 7, 12, 7, 26)
    assert first["fix"] == {
        "function": "torch.Tensor.norm",
        "x": "z",
        "y": None,
        "dim": "-1",
        "keepdim": None,
        "p": None,
        "backend": "torch",
        "manifold": None,  # exp_map_zero is a function: no manifold object made the point
        "manifold_kind": None,
        "manifold_origin": None,
        "curvature": None,  # not a parameter's points: no callers to prove it
        "curvature_note": None,
    }
    assert first["confidence"] == "high" and first["evidence"] == ["z <- exp_map_zero(mu) (line 5)"]
    assert document["errors"] == []


def test_sarif_output(project: Path) -> None:
    (project / "src" / "broken.py").write_text("def f(:\n  z_hyp.norm()\n", encoding="utf-8")
    result = run("scan", "src", "--output-format", "sarif")
    assert result.exit_code == 2
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    driver = sarif["runs"][0]["tool"]["driver"]
    assert [rule["id"] for rule in driver["rules"]] == list(RULES)  # the registry, preview rules included
    region = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 7, "startColumn": 12, "endLine": 7, "endColumn": 26}
    invocation = sarif["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/broken.py"


def test_github_output(project: Path) -> None:
    lines = run("scan", "src", "--output-format", "github").stdout.splitlines()
    assert lines[0].startswith(
        "::warning file=src/models/encoder.py,line=7,col=12,endLine=7,endColumn=25,title=HYP001::HYP001 Euclidean norm"
    )
    assert "%2C" not in lines[0].split("::")[2]  # commas are only escaped inside properties


def test_markdown_output_and_report_file(project: Path) -> None:
    markdown = run("scan", ".", "--output-format", "markdown").stdout
    assert "| HYP001 | Euclidean norm of a Poincaré-ball point used as its radius | 2 |" in markdown
    assert "| core | 2 | 1 |" in markdown and "| visualization | 2 | 1 |" in markdown
    assert "z \\<- exp\\_map\\_zero\\(mu\\) \\(line 5\\)" in markdown
    result = run("scan", ".", "--report")
    assert result.exit_code == 1
    assert (project / "reports" / "scan_report.md").read_text(encoding="utf-8") == markdown
    custom = project / "out.md"
    assert run("scan", "src", "--report", str(custom)).exit_code == 1 and "## Findings: core" in custom.read_text(encoding="utf-8")
    result = run("scan", "src", "--report", "missing/dir/r.md")
    assert result.exit_code == 2 and "does not exist" in result.output
    (project / "taken").mkdir()
    result = run("scan", "src", "--report", "taken")
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
    assert "--report taken: cannot write" in result.output and "Is a directory" in result.output
    assert list((project / "taken").iterdir()) == [] and not [p for p in project.iterdir() if p.name.endswith(".tmp")]


def test_categories_are_configurable(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.vaeaudit.categories]\nresearch = ['scripts/**']\ncore = ['src/**']\n", encoding="utf-8")
    markdown = run("scan", ".", "--output-format", "markdown").stdout
    assert "| core | 2 | 1 |" in markdown and "| research | 2 | 1 |" in markdown and "visualization" not in markdown


def test_stdin_filename_without_dash_is_a_usage_error(project: Path) -> None:
    result = run("scan", "src", "--stdin-filename", "src/models/new.py", input=BAD)
    assert result.exit_code == 2
    assert "pass `-`" in result.output


def test_stdin_with_stdin_filename(project: Path) -> None:
    result = run("scan", "-", "--stdin-filename", "src/models/new.py", input=BAD)
    assert result.exit_code == 1
    assert result.stdout.startswith("src/models/new.py:7:12: HYP001")
    (project / "pyproject.toml").write_text("[tool.vaeaudit]\nper-file-ignores = { 'src/models/*' = ['HYP001'] }\n", encoding="utf-8")
    result = run("scan", "-", "--stdin-filename", "src/models/new.py", input=BAD)
    assert [line.split()[1] for line in result.stdout.splitlines()] == ["HYP002"]
    assert run("scan", "-", input=CLEAN).exit_code == 0
    assert run("scan", "-", "src").exit_code == 2


def test_baseline_hides_known_findings_only(project: Path) -> None:
    baseline = project / "baseline.json"
    assert run("scan", "src", "--baseline", str(baseline)).exit_code == 2  # not recorded yet
    result = run("scan", "src", "--baseline", str(baseline), "--write-baseline")
    assert result.exit_code == 0 and "Recorded 2 finding(s)" in result.stderr
    assert run("scan", "src", "--baseline", str(baseline)).exit_code == 0
    encoder = project / "src" / "models" / "encoder.py"
    encoder.write_text("# a comment shifts every line\n" + BAD + "\ndef more(mu):\n    return exp_map_zero(mu).norm()\n", encoding="utf-8")
    result = run("scan", "src", "--baseline", str(baseline))
    assert result.exit_code == 1
    assert [line.split(":")[1] for line in result.stdout.splitlines()] == ["11"]
    assert run("scan", "src", "--write-baseline").exit_code == 2
    baseline.write_text("{}", encoding="utf-8")
    assert "not a vaeaudit baseline" in run("scan", "src", "--baseline", str(baseline)).output


def test_cache_is_used_and_can_be_disabled(project: Path) -> None:
    run("scan", "src", "--no-cache")
    assert not (project / ".vaeaudit_cache").exists()
    run("scan", "src")
    assert list((project / ".vaeaudit_cache").glob("scan-*.json"))
    settings = load_settings(project)
    files = [project / "src" / "models" / "encoder.py", project / "src" / "clean.py"]
    warm = scan_files(files, settings)
    assert (warm.cached, warm.parsed) == (2, 0)
    files[0].write_text(BAD + "\n", encoding="utf-8")
    changed = scan_files(files, settings)
    assert (changed.cached, changed.parsed) == (1, 1)
    assert [f.rule for f in changed.findings] == ["HYP001", "HYP002"]
    result = run("scan", "src", "--cache-dir", "../elsewhere")
    assert result.exit_code == 2 and "outside the project root" in result.output


def test_a_changed_scanner_does_not_reuse_the_old_cache(project: Path, monkeypatch) -> None:
    """Same version, other rules (an editable install after a pull): the old results must not come back."""
    from vaeaudit.scan import cache

    settings = load_settings(project)
    files = [project / "src" / "models" / "encoder.py"]
    scan_files(files, settings)
    assert scan_files(files, settings).cached == 1
    monkeypatch.setattr(cache, "scanner_digest", lambda: "other rules")
    assert (scan_files(files, settings).cached, scan_files(files, settings).cached) == (0, 1)
    assert not (project.parent / "elsewhere").exists()


def test_no_cache_is_written_next_to_loose_files(tmp_path: Path, monkeypatch) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "a.py").write_text(BAD, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert run("scan", "loose/a.py").exit_code == 1
    assert sorted(p.name for p in loose.iterdir()) == ["a.py"]


def test_process_pool_gives_the_same_results(project: Path) -> None:
    many = project / "many"
    many.mkdir()
    for index in range(80):
        (many / f"m{index:02}.py").write_text(BAD if index % 3 == 0 else CLEAN, encoding="utf-8")
    settings = load_settings(project, cache=False)
    files = sorted(many.glob("*.py"))
    serial, pooled = scan_files(files, settings, jobs=1), scan_files(files, settings, jobs=2)
    assert serial.findings == pooled.findings and len(pooled.findings) == 2 * 27
    assert run("scan", "many", "--jobs", "2", "--no-cache", "--statistics").stdout.splitlines()[0].startswith("27\tHYP001")


def test_rule_command_and_generated_docs_are_up_to_date() -> None:
    result = run("rule", "hyp001")
    assert result.exit_code == 0
    assert result.stdout.startswith("HYP001 (euclidean-norm-as-radius)") and "Use instead:" in result.stdout
    assert json.loads(run("rule", "--all", "--output-format", "json").stdout)[1]["code"] == "HYP002"
    assert run("rule", "HYP999").exit_code == 2
    assert run("rule").exit_code == 2
    markdown = run("rule", "--all", "--output-format", "markdown").stdout
    assert markdown == (REPO / "docs" / "rules.md").read_text(encoding="utf-8"), "regenerate docs/rules.md"


def test_installed_entry_point(project: Path) -> None:
    result = subprocess.run([str(VAEAUDIT), "scan", "src", "--no-cache"], capture_output=True, text=True, cwd=project, timeout=120)
    assert result.returncode == 1 and "HYP001" in result.stdout
    piped = subprocess.run(
        [str(VAEAUDIT), "scan", "-", "--stdin-filename", "x.py"], input=CLEAN, capture_output=True, text=True, cwd=project, timeout=120
    )
    assert piped.returncode == 0 and piped.stdout == ""
