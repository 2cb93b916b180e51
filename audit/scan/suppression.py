"""Which findings the user has chosen not to see: select/ignore, per-file-ignores, noqa, confidence.

`# noqa` (every rule) and `# noqa: HYP001, HYP002` (those rules) work as in ruff/flake8,
on any line the flagged expression spans; only real comments count, never a string's
text. Baselines are handled separately (`vaeaudit.scan.baseline`) because they compare
runs, not lines.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from vaeaudit.scan.findings import Finding
from vaeaudit.scan.globs import any_match
from vaeaudit.scan.rules import selected
from vaeaudit.scan.settings import CONFIDENCE_LEVELS, Settings

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*))?", re.IGNORECASE)


def noqa_lines(text: str) -> dict[int, frozenset[str] | None]:
    """Line number -> suppressed codes (None: all codes) for every `# noqa` comment.

    Only comment tokens count: `"# noqa"` inside a string literal (a docstring, a SQL
    query, a test fixture) is text, and must not hide a real finding on its line.
    """
    found: dict[int, frozenset[str] | None] = {}
    if "noqa" not in text.lower():
        return found
    for number, comment in _comments(text):
        match = _NOQA.search(comment)
        if match is None:
            continue
        codes = match.group("codes")
        found[number] = None if codes is None else frozenset(code.upper() for code in re.split(r"[\s,]+", codes) if code)
    return found


def _comments(text: str) -> list[tuple[int, str]]:
    """(line, text) of each comment. Text that parsed but that this Python's tokenizer
    rejects (newer syntax) falls back to "from the first `#` on", as flake8 did."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        return [(token.start[0], token.string) for token in tokens if token.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        return [(number, line[line.index("#") :]) for number, line in enumerate(text.splitlines(), start=1) if "#" in line]


def rules_ignored_for(path: str, settings: Settings) -> tuple[str, ...]:
    """The rule prefixes `per-file-ignores` turns off for `path`."""
    relative = _relative(path, settings)
    return tuple(code for glob, codes in settings.per_file_ignores if any_match(relative, (glob,)) for code in codes)


def visible(findings: list[Finding], text: str, path: str, settings: Settings) -> list[Finding]:
    """`findings` minus everything the settings and comments suppress."""
    file_ignores = settings.ignore + rules_ignored_for(path, settings)
    minimum = CONFIDENCE_LEVELS.index(settings.min_confidence)
    kept = [
        finding
        for finding in findings
        if selected(finding.rule, settings.select, file_ignores) and CONFIDENCE_LEVELS.index(finding.confidence) >= minimum
    ]
    if not kept:
        return kept
    noqa = noqa_lines(text)
    return [finding for finding in kept if not _suppressed_by_comment(finding, noqa)]


def _suppressed_by_comment(finding: Finding, noqa: dict[int, frozenset[str] | None]) -> bool:
    for line in range(finding.line, finding.end_line + 1):
        if line in noqa:
            codes = noqa[line]
            if codes is None or any(finding.rule.startswith(code) for code in codes):
                return True
    return False


def _relative(path: str, settings: Settings) -> str:
    try:
        return Path(path).resolve().relative_to(settings.project_root.resolve()).as_posix()
    except (ValueError, OSError):
        return Path(path).as_posix()
