"""Guarantees per file that libcst alone would not give: line endings, parser limits, linear cost."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from vaeaudit.codemods import safety
from vaeaudit.codemods.file_fixer import fix_paths, line_ending_change
from vaeaudit.codemods.options import FixOptions
from vaeaudit.codemods.outcome import FIXED, REFUSED
from vaeaudit.codemods.rewrite import rewrite_module
from vaeaudit.scan.settings import load_settings

RADIUS_LINES = [
    b"import torch",
    b"",
    b"from vaeaudit.geometry import exp_map_zero",
    b"",
    b"",
    b"def radii(mu, curvature):",
    b"    z = exp_map_zero(mu, c=curvature)",
    b"    return torch.norm(z, dim=-1)",
]


def reports(path: Path, **options):
    settings = load_settings(path.parent, cache=False)
    return list(fix_paths([path], settings, FixOptions.from_settings(settings, **options), apply=True))


def test_lone_cr_file_is_refused_rather_than_losing_its_last_line_ending(tmp_path: Path) -> None:
    target = tmp_path / "lone_cr.py"
    source = b"\r".join(RADIUS_LINES) + b"\r"
    target.write_bytes(source)
    [report] = reports(target, unsafe_fixes=True)
    assert target.read_bytes() == source
    assert report.error is None and [o.status for o in report.outcomes] == [REFUSED]
    assert "line ending" in report.outcomes[0].reasons[0]


def test_crlf_file_keeps_every_line_ending(tmp_path: Path) -> None:
    target = tmp_path / "crlf.py"
    target.write_bytes(b"\r\n".join(RADIUS_LINES) + b"\r\n")
    [report] = reports(target, unsafe_fixes=False)
    assert [o.status for o in report.outcomes] == [FIXED]
    fixed = target.read_bytes()
    assert fixed.count(b"\r\n") == fixed.count(b"\n") and fixed.endswith(b"poincare_radius(z, c=curvature)\r\n")


def test_line_ending_change_compares_unchanged_lines_and_the_last() -> None:
    assert line_ending_change(b"a\r\nb\r\n", b"a\r\nc\r\n") is None
    assert line_ending_change(b"a\r\nb\r\n", b"a\nc\r\n") == "line 1 ends with b'\\r\\n'"
    assert line_ending_change(b"a\rb\r", b"a\rc") == "the last line ends with b'\\r'"


def test_valid_python_libcst_cannot_parse_is_a_limitation_not_an_error(tmp_path: Path) -> None:
    target = tmp_path / "annotated_parens.py"
    source = b"import torch\n(n): int = 3\n\n\ndef radii(z_hyp):\n    return torch.norm(z_hyp, dim=-1)\n"
    target.write_bytes(source)
    [report] = reports(target, unsafe_fixes=True)
    assert report.error is None and "libcst cannot parse this valid Python" in report.limitation
    assert target.read_bytes() == source


def test_a_thousand_findings_in_one_function_walk_it_once(monkeypatch, finding_at) -> None:
    walks = []
    original = safety._NameReads.__init__

    def counting(self) -> None:
        walks.append(1)
        original(self)

    monkeypatch.setattr(safety._NameReads, "__init__", counting)
    body = "".join(f"    r{i} = torch.norm(z, dim=-1)\n    m{i} = r{i} < 0.5\n" for i in range(1000))
    source = f"import torch\ndef f(z, c: float):\n{body}"
    findings = [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1", occurrence=i) for i in range(1000)]
    result = rewrite_module(cst.parse_module(source), findings, FixOptions())
    assert all(outcome.status == FIXED for outcome in result.outcomes)
    assert len(walks) == 1
    assert "m999 = r999 < euclidean_to_hyperbolic_radius(0.5, c=c)\n" in result.module.code
