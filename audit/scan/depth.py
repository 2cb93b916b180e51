"""Statements too deep for libcst, set aside before parsing so no input hits the recursion limit.

libcst builds and prints trees recursively: a 1,500-call chain or a 3,000-term sum takes
seconds to parse and then raises RecursionError when any part of it is printed, and the
time grows faster than the size. Generated code has such lines, hand-written code never
does. A cheap byte scan finds files with a suspiciously long line; only those are
tokenized, and every logical line with more than `LIMIT` operators, calls or lambdas is
replaced by `pass` (a block header by `if True:`), keeping every other line where it was,
so positions and `# noqa` comments stay right. The caller reports which lines were skipped.
"""

from __future__ import annotations

import io
import re
import tokenize

LIMIT = 100
_LONG_LINE = re.compile(r"[^\n]{1000,}")
_NESTING = frozenset("+ - * / // % @ ** . ( [ { | & ^ << >> and or not lambda if".split())


def may_mask(text: str) -> bool:
    """Whether `text` has a line long enough to be looked at for deep statements (a comment's line too)."""
    return _LONG_LINE.search(text) is not None


def mask_deep_statements(text: str) -> tuple[str, list[int]]:
    """(text with over-deep logical lines masked, their first line numbers)."""
    if not may_mask(text):
        return text, []
    lines = io.StringIO(text).readlines()  # the lines the tokenizer counts: `splitlines` also splits at \f or \u2028
    masked: list[int] = []
    start, weight, last = None, 0, ""
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.OP, tokenize.NAME):
                if start is None:
                    start = token.start[0]
                weight += token.string in _NESTING
                last = token.string
            elif token.type == tokenize.NEWLINE and start is not None:
                if weight > LIMIT:
                    _blank(lines, start, token.end[0], header=last == ":")
                    masked.append(start)
                start, weight, last = None, 0, ""
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text, []  # the parser reports the syntax error itself
    return "".join(lines), masked


def _blank(lines: list[str], first: int, last: int, header: bool) -> None:
    """Replace lines first..last (1-based) by one statement with the first line's indentation."""
    line = lines[first - 1]
    indent = line[: len(line) - len(line.lstrip())]
    ending = "\r\n" if line.endswith("\r\n") else "\n"
    lines[first - 1] = indent + ("if True:" if header else "pass") + ending
    for number in range(first, min(last, len(lines))):
        lines[number] = ending
