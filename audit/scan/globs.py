"""Path globs as users write them in `exclude`, `per-file-ignores`, `categories` and `.gitignore`.

One matcher for all of them so a pattern means the same thing everywhere: `*` stays inside
one path segment, `**` crosses segments, a pattern without a slash matches a file or
folder name at any depth, a pattern with a slash is anchored at the folder it belongs to.
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str, anchored: bool) -> re.Pattern[str]:
    return re.compile(_regex(pattern, anchored))


@functools.lru_cache(maxsize=256)
def _compile_all(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation for a pattern set: a folder walk tests every entry against all of them."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{_regex(pattern, '/' in pattern.rstrip('/'))})" for pattern in patterns))


def _regex(pattern: str, anchored: bool) -> str:
    body = pattern.strip("/")
    regex = []
    index = 0
    while index < len(body):
        char = body[index]
        if body.startswith("**/", index):
            regex.append("(?:.*/)?")
            index += 3
            continue
        if body.startswith("**", index):
            regex.append(".*")
            index += 2
            continue
        if char == "*":
            regex.append("[^/]*")
        elif char == "?":
            regex.append("[^/]")
        elif char == "[":
            end = body.find("]", index + 1)
            if end == -1:
                regex.append(re.escape(char))
            else:
                regex.append("[" + body[index + 1 : end].replace("!", "^", 1) + "]")
                index = end
        else:
            regex.append(re.escape(char))
        index += 1
    prefix = "" if anchored else "(?:.*/)?"
    # A match on a folder also matches everything below it.
    return prefix + "".join(regex) + "(?:/.*)?"


def glob_match(relative_path: str, pattern: str, anchored: bool | None = None) -> bool:
    """Whether `relative_path` (forward slashes, relative to the pattern's folder) matches.

    `anchored` defaults to "the pattern has a slash before its end" (gitignore's rule).
    """
    if anchored is None:
        anchored = "/" in pattern.rstrip("/")
    return _compile(pattern, anchored).fullmatch(relative_path) is not None


def any_match(relative_path: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """Whether any pattern matches, each with its own anchoring (as `glob_match`)."""
    combined = _compile_all(tuple(patterns))
    return combined is not None and combined.fullmatch(relative_path) is not None
