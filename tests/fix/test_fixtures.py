"""Fixture pairs through the real scanner and file pipeline: <case>.in.py -> <case>.out.py.

Cases named `unsafe_*` hold a fix that is only applied with --unsafe-fixes: they are
checked both ways (unchanged without the flag, rewritten with it). Every case is also
fixed a second time to prove idempotence.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vaeaudit.scan.settings import load_settings
from vaeaudit.codemods.file_fixer import fix_paths
from vaeaudit.codemods.options import FixOptions
from vaeaudit.codemods.outcome import FIXED

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(path.name.removesuffix(".in.py") for path in FIXTURES.glob("*.in.py"))


def fix(path: Path, *, unsafe: bool) -> list:
    settings = load_settings(path.parent, cache=False)
    options = FixOptions.from_settings(settings, unsafe_fixes=unsafe)
    reports = list(fix_paths([path], settings, options, apply=True))
    assert [report.error for report in reports if report.error] == []
    return [outcome for report in reports for outcome in report.outcomes]


def test_there_are_enough_cases():
    assert len(CASES) >= 25
    assert all((FIXTURES / f"{case}.out.py").is_file() for case in CASES)


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str, tmp_path: Path) -> None:
    unsafe = case.startswith("unsafe_")
    target = tmp_path / f"{case}.py"
    source = (FIXTURES / f"{case}.in.py").read_bytes()
    target.write_bytes(source)
    if unsafe:
        outcomes = fix(target, unsafe=False)
        assert target.read_bytes() == source, "an unsafe fix was applied without --unsafe-fixes"
        assert outcomes and all(outcome.status != FIXED for outcome in outcomes)
    fix(target, unsafe=unsafe)
    assert target.read_bytes() == (FIXTURES / f"{case}.out.py").read_bytes()
    second = fix(target, unsafe=unsafe)
    assert target.read_bytes() == (FIXTURES / f"{case}.out.py").read_bytes()
    assert all(outcome.status != FIXED for outcome in second), "a second run found more to fix"
