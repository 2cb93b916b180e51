"""Every `--output-format`, plus `--statistics`: one function per format, text in, text out.

Files that could not be read or parsed are part of every format (they make the exit code
2), so CI annotations and SARIF viewers show them next to the findings. A notebook's
findings say their cell everywhere: `nb.ipynb:cell 3:4:9` in text, `cell` in JSON.
"""

from __future__ import annotations

import json
from collections import Counter

from vaeaudit import __version__
from vaeaudit.scan.cache import finding_to_json
from vaeaudit.scan.findings import Finding
from vaeaudit.scan.rules import RULES
from vaeaudit.scan.runner import FileResult

FORMATS = ("text", "json", "sarif", "github", "markdown")
_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def location(finding: Finding) -> str:
    """`path:line:col`, or in a notebook `path:cell N:line:col` (lines counted within the cell)."""
    cell = f"cell {finding.cell}:" if finding.cell is not None else ""
    return f"{finding.path}:{cell}{finding.line}:{finding.col}"


def text(findings: list[Finding], errors: list[FileResult]) -> str:
    lines = [f"{location(f)}: {f.rule} {f.message} [{'; '.join(f.evidence)}] ({f.confidence} confidence)" for f in findings]
    lines += [problem_line(e) for e in errors]
    return "".join(line + "\n" for line in lines)


def as_json(findings: list[Finding], errors: list[FileResult]) -> str:
    document = {
        "findings": [finding_to_json(finding) for finding in findings],
        "errors": [{"path": e.path, "error": e.error, "severity": e.severity} for e in errors],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def sarif(findings: list[Finding], errors: list[FileResult]) -> str:
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.what},
            "help": {"text": f"{rule.why}\n\nFix: {rule.fix}", "markdown": f"{rule.why}\n\n**Fix:** {rule.fix}"},
            "defaultConfiguration": {"level": "warning"},
        }
        for rule in RULES.values()
    ]
    results = [
        {
            "ruleId": f.rule,
            "level": "warning",
            "message": {"text": f"{_cell_prefix(f)}{f.message} [{'; '.join(f.evidence)}]"},
            "locations": [_sarif_location(f.path, f.line, f.col, f.end_line, f.end_col)],
            "properties": {"confidence": f.confidence, "evidence": list(f.evidence), **({"cell": f.cell} if f.cell is not None else {})},
        }
        for f in findings
    ]
    notifications = [{"level": e.severity, "message": {"text": e.error}, "locations": [_sarif_location(e.path)]} for e in errors]
    document = {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "vaeaudit", "version": __version__, "rules": rules}},
                "results": results,
                "invocations": [
                    {"executionSuccessful": not any(e.severity == "error" for e in errors), "toolExecutionNotifications": notifications}
                ],
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _sarif_location(path: str, line: int = 0, col: int = 0, end_line: int = 0, end_col: int = 0) -> dict:
    physical: dict = {"artifactLocation": {"uri": path.replace("\\", "/")}}
    if line:
        physical["region"] = {"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col}
    return {"physicalLocation": physical}


def github(findings: list[Finding], errors: list[FileResult]) -> str:
    """GitHub Actions workflow commands: annotations on the pull request's diff."""
    lines = []
    for f in findings:
        # GitHub's endColumn is inclusive; ours is exclusive.
        span = f"line={f.line},col={f.col},endLine={f.end_line},endColumn={max(1, f.end_col - 1)}"
        properties = f"file={_property(f.path)},{span},title={_property(f.rule)}"
        message = f"{_cell_prefix(f)}{f.rule} {f.message} [{'; '.join(f.evidence)}]"
        lines.append(f"::warning {properties}::{_data(message)}")
    for e in errors:
        lines.append(f"::{e.severity} file={_property(e.path)},title=vaeaudit::{_data(e.error or '')}")
    return "".join(line + "\n" for line in lines)


def _cell_prefix(finding: Finding) -> str:
    """Formats that address lines of a file only (SARIF, GitHub) name a notebook's cell in the message."""
    return f"cell {finding.cell}: " if finding.cell is not None else ""


def problem_line(problem: FileResult) -> str:
    """`path: error: reason` (or `warning:`), the text form of a file that was not scanned."""
    return f"{problem.path}: {problem.severity}: {problem.error}"


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def statistics(findings: list[Finding]) -> str:
    """ruff-style counts: one line per rule with findings, most frequent first."""
    counts = Counter(f.rule for f in findings)
    width = max((len(str(n)) for n in counts.values()), default=1)
    lines = [
        f"{count:>{width}}\t{code}\t{RULES[code].name}" for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return "".join(line + "\n" for line in lines)
