"""Helpers for the fix tests: hand-made findings, so the engine is tested apart from the scanner."""

from __future__ import annotations

import pytest

from vaeaudit.scan.findings import Finding, FixHint


def _finding_at(source: str, needle: str, rule: str = "HYP001", occurrence: int = 0, **hint) -> Finding:
    """A finding whose span is the `occurrence`-th appearance of `needle` (on one line) in `source`."""
    seen = 0
    for number, line in enumerate(source.splitlines(), start=1):
        column = line.find(needle)
        while column >= 0:
            if seen == occurrence:
                return Finding(
                    path="case.py",
                    rule=rule,
                    message="test",
                    line=number,
                    col=column + 1,
                    end_line=number,
                    end_col=column + len(needle) + 1,
                    confidence="high",
                    fix=FixHint(**hint),
                )
            seen += 1
            column = line.find(needle, column + 1)
    raise AssertionError(f"{needle!r} not in source")


@pytest.fixture
def finding_at():
    return _finding_at
