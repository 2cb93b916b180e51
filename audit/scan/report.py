"""The Markdown scan report: counts by rule, by priority category and by file, then every finding.

It is the generated successor of a hand-kept audit's "all norm calls" and "categorized
review" documents. Categories (core / research / visualization by default) come from
path globs in `[tool.vaeaudit] categories`; the first matching category wins, files
matching none are "uncategorized". Rendering is `templates/scan_report.md.j2`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from vaeaudit import __version__
from vaeaudit.render import render
from vaeaudit.scan.findings import Finding
from vaeaudit.scan.formats import location
from vaeaudit.scan.globs import any_match
from vaeaudit.scan.rules import RULES
from vaeaudit.scan.runner import FileResult
from vaeaudit.scan.settings import Settings

UNCATEGORIZED = "uncategorized"
_PRIORITY = ("core", "research", "visualization")


def category_of(path: str, settings: Settings) -> str:
    try:
        relative = Path(path).resolve().relative_to(settings.project_root.resolve()).as_posix()
    except (ValueError, OSError):
        relative = Path(path).as_posix()
    for name, globs in settings.categories:
        if any_match(relative, globs):
            return name
    return UNCATEGORIZED


def _place(finding: Finding) -> tuple[str, int, int, int]:
    return (finding.path, finding.cell or 0, finding.line, finding.col)


def render_report(findings: list[Finding], errors: list[FileResult], files_scanned: int, settings: Settings, paths: list[str]) -> str:
    categories = {f.path: category_of(f.path, settings) for f in findings}
    configured = [name for name, _ in settings.categories]
    order = [name for name in _PRIORITY if name in configured] + [n for n in configured if n not in _PRIORITY] + [UNCATEGORIZED]
    by_file = Counter(f.path for f in findings)
    files = []
    for path, count in sorted(by_file.items(), key=lambda item: (order.index(categories[item[0]]), -item[1], item[0])):
        per_rule = Counter(f.rule for f in findings if f.path == path)
        files.append(
            {
                "path": path,
                "category": categories[path],
                "count": count,
                "rules": ", ".join(f"{r} × {n}" for r, n in sorted(per_rule.items())),
            }
        )
    sections = []
    for name in order:
        members = sorted((f for f in findings if categories[f.path] == name), key=_place)
        if members:
            sections.append({"name": name, "findings": members})
    rule_counts = Counter(f.rule for f in findings)
    return render(
        "scan_report.md.j2",
        version=__version__,
        paths=paths,
        files_scanned=files_scanned,
        total=len(findings),
        confidence=Counter(f.confidence for f in findings),
        by_rule=[{"rule": rule, "count": rule_counts.get(code, 0)} for code, rule in RULES.items()],
        by_category=[
            {
                "name": name,
                "count": sum(1 for f in findings if categories[f.path] == name),
                "files": sum(1 for p in by_file if categories[p] == name),
            }
            for name in order
        ],
        files=files,
        sections=sections,
        errors=errors,
        location=location,
    )
