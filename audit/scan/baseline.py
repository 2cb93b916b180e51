"""Baselines: record today's findings so that only new ones fail (adopting on a legacy repo).

A finding is identified by file, rule and message (the message quotes the operands), not
by line: editing code above a recorded finding must not make it "new". Identical
findings in one file are counted, so a second copy of a known mistake is still reported.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from vaeaudit.atomic import atomic_write_text
from vaeaudit.scan.findings import Finding

_VERSION = 1


class BaselineError(Exception):
    """The baseline file is missing or malformed; the message names it."""


def _key(finding: Finding) -> tuple[str, str, str]:
    return (Path(finding.path).as_posix(), finding.rule, finding.message)


def write_baseline(path: Path, findings: list[Finding]) -> None:
    entries = sorted(Counter(_key(finding) for finding in findings).items())
    document = {
        "version": _VERSION,
        "findings": [{"path": p, "rule": r, "message": m, "count": n} for (p, r, m), n in entries],
    }
    atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def read_baseline(path: Path) -> Counter:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline)") from None
    except (OSError, ValueError) as error:
        raise BaselineError(f"{path}: cannot read baseline: {error}") from None
    if not isinstance(document, dict) or document.get("version") != _VERSION or not isinstance(document.get("findings"), list):
        raise BaselineError(f"{path}: not a vaeaudit baseline (expected version {_VERSION} with a 'findings' list)")
    known: Counter = Counter()
    for entry in document["findings"]:
        try:
            known[(entry["path"], entry["rule"], entry["message"])] += int(entry.get("count", 1))
        except (KeyError, TypeError, ValueError):
            raise BaselineError(f"{path}: malformed baseline entry {entry!r}") from None
    return known


def new_findings(findings: list[Finding], known: Counter) -> list[Finding]:
    """`findings` minus those the baseline accounts for."""
    remaining = Counter(known)
    fresh = []
    for finding in findings:
        key = _key(finding)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            fresh.append(finding)
    return fresh
