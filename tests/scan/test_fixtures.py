"""Fixture files annotated with what the scanner must report.

`# expect: HYP001 HYP002` on a line: exactly those findings start on that line.
`# ok: <reason>` on a line: a norm/distance that must NOT be reported (a true negative).
Every other line must be silent too. `tp_*.py`/`tn_*.py` are each scanned alone;
every `project_*/` folder is scanned as one project (findings that need another file).
Both go through `scan_files`, the CLI's pipeline, prefilter and project fixpoint included.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from vaeaudit.scan import scan_source
from vaeaudit.scan.rules import RULES
from vaeaudit.scan.runner import scan_files
from vaeaudit.scan.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(path for path in FIXTURES.glob("t[pn]_*.py"))
PROJECTS = sorted(path for path in FIXTURES.glob("project_*") if path.is_dir())
PROJECT_FILES = sorted(path for project in PROJECTS for path in project.rglob("*.py"))
_EXPECT = re.compile(r"#\s*expect:\s*((?:HYP\d{3}\s*)+)")


def expected(path: Path) -> Counter:
    found: Counter = Counter()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            for code in match.group(1).split():
                found[(number, code)] += 1
    return found


def scanned(paths: list[Path], root: Path, **settings) -> list:
    return scan_files(paths, Settings(project_root=root, cache=False, **settings), jobs=1).findings


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_fixture_findings_match_annotations(path: Path) -> None:
    reported = Counter((f.line, f.rule) for f in scanned([path], FIXTURES, preview=True))
    assert reported == expected(path)


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_project_fixture_findings_match_annotations(project: Path) -> None:
    files = sorted(project.rglob("*.py"))
    findings = scanned(files, project, preview=True)
    for path in files:
        reported = Counter((f.line, f.rule) for f in findings if Path(f.path) == path)
        assert reported == expected(path), path.name


def test_fixture_suite_has_enough_positive_and_negative_cases() -> None:
    positives = sum(sum(expected(path).values()) for path in CASES + PROJECT_FILES)
    negatives = sum(path.read_text(encoding="utf-8").count("# ok:") for path in CASES + PROJECT_FILES)
    assert positives >= 40
    assert negatives >= 40


def test_every_finding_carries_evidence_and_a_confidence() -> None:
    for path in CASES:
        for finding in scan_source(path.read_bytes(), str(path), Settings(project_root=FIXTURES)):
            assert finding.evidence, finding
            assert all("line " in step or "name says" in step for step in finding.evidence)
            assert finding.confidence in ("low", "medium", "high")


def test_evidence_names_the_reaching_definition() -> None:
    path = FIXTURES / "tp_sources.py"
    findings = {f.line: f for f in scan_source(path.read_bytes(), str(path), Settings(project_root=FIXTURES))}
    key_read = findings[53]
    assert key_read.evidence == ("z_A <- outputs[\"z_A_hyp\"] (line 52)",)
    assert findings[12].confidence == "high"
    assert findings[67].confidence == "medium"  # only the name says so


def test_a_call_named_for_the_ball_is_evidence_by_name() -> None:
    """`to_poincare_ball(x)` says what it returns by its name only (medium); `exp_map_zero(x)` is known (high)."""
    path = FIXTURES / "tp_sources.py"
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(number for number, text in enumerate(lines, start=1) if "torch.cdist(c, c), d.norm(dim=-1)" in text)
    found = [f for f in scan_source(path.read_bytes(), str(path), Settings(project_root=FIXTURES)) if f.line == line]
    assert [f.confidence for f in found] == ["medium"] * 4


def test_the_norm_of_a_euclidean_mean_is_at_most_medium() -> None:
    """A mean of ball points (pattern D) is a ball point, but its norm is as often a centring diagnostic as a radius."""
    path = FIXTURES / "tp_inference.py"
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(number for number, text in enumerate(lines, start=1) if "return center.norm()" in text)
    (finding,) = [f for f in scan_source(path.read_bytes(), str(path), Settings(project_root=FIXTURES)) if f.line == line]
    assert finding.confidence == "medium"
    assert any("a Euclidean mean of ball points stays in the ball" in step for step in finding.evidence)


@pytest.mark.parametrize("code", sorted(RULES))
def test_each_rule_page_example_is_reported_and_its_fix_is_clean(code: str) -> None:
    """The documented example (Fixit's INVALID) is a finding of that rule on its marked line; the fixed one (VALID) is silent."""
    rule = RULES[code]
    imports = "import torch\nimport torch.nn.functional as F\nfrom vaeaudit.geometry import exp_map_zero, poincare_distance\n"
    example = imports + rule.example
    marked = [number for number, line in enumerate(example.splitlines(), start=1) if line.endswith(f"# {code}")]
    settings = Settings(project_root=FIXTURES, preview=rule.preview)
    findings = scan_source(example.encode(), "example.py", settings)
    assert [(f.line, f.rule) for f in findings] == [(line, code) for line in marked] and marked
    assert scan_source((imports + rule.fixed_example).encode(), "fixed.py", settings) == []


@pytest.mark.parametrize("code", sorted(code for code, rule in RULES.items() if rule.preview))
def test_preview_rules_are_silent_without_preview(code: str) -> None:
    rule = RULES[code]
    example = "import torch\nfrom vaeaudit.geometry import exp_map_zero, poincare_distance\n" + rule.example
    assert scan_source(example.encode(), "example.py", Settings(project_root=FIXTURES)) == []
