"""`code_fingerprint`: equal for edits the analysis cannot see, different for every edit it can.

The property test is the claim the runner's early cutoff rests on: rewrite every comment the
fingerprint leaves out, in every fixture file, and the findings (lines, columns, evidence, fixes)
are those of the original file.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeaudit.scan import scan_source
from vaeaudit.scan.fingerprint import code_fingerprint
from vaeaudit.scan.settings import Settings

FIXTURES = sorted((Path(__file__).parent / "fixtures").rglob("*.py"))
SOURCE = "import torch\n\n\ndef radius(z):  # the radius\n    return torch.norm(\n        z,\n        dim=-1,\n    )\n"


@pytest.mark.parametrize(
    "edited",
    [
        SOURCE.replace("# the radius", "# another note"),
        SOURCE.replace("(z):  # the radius", "(z):"),
        SOURCE + "# a comment at the end\n",
        SOURCE.replace("import torch\n\n", "import torch\n# a note\n"),  # a blank line becomes a comment: nothing moves
        SOURCE + "\n\n",
    ],
    ids=["comment-text", "comment-removed", "comment-appended", "comment-line-instead-of-blank", "blank-lines-appended"],
)
def test_edits_the_analysis_cannot_see_keep_the_fingerprint(edited: str) -> None:
    assert code_fingerprint(edited) == code_fingerprint(SOURCE)


@pytest.mark.parametrize(
    "edited",
    [
        SOURCE.replace("dim=-1", "dim=1"),
        SOURCE.replace("torch.norm(\n", "torch.norm(  # inside the call: part of the expression's text\n"),
        SOURCE.replace("    return torch.norm(", "    return torch.norm(  # noqa: HYP001"),
        SOURCE.replace("# the radius", "# NOQA"),
        SOURCE.replace("\n\n\ndef", "\n\n\n\ndef"),  # every line below moves
        SOURCE.replace("    return", "    # a note\n    return"),
        SOURCE.replace("(z):  # the radius", '(z):  "# the radius"'),
    ],
    ids=["code", "comment-in-brackets", "noqa-added", "noqa-any-case", "blank-line-inserted", "comment-line-inserted", "string"],
)
def test_edits_the_analysis_can_see_change_the_fingerprint(edited: str) -> None:
    assert code_fingerprint(edited) != code_fingerprint(SOURCE)


def test_text_the_tokenizer_rejects_has_no_fingerprint() -> None:
    assert code_fingerprint("x = (1,\n") is None
    assert code_fingerprint("x = '''\n") is None


def _unread_comments(text: str) -> list[tuple[int, int, int]]:
    """(line, start column, end column) of each comment the fingerprint leaves out."""
    found, depth = [], 0
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.OP:
            depth += token.string in "([{"
            depth -= token.string in ")]}"
        elif token.type == tokenize.COMMENT and depth == 0 and "noqa" not in token.string.lower():
            found.append((token.start[0], token.start[1], token.end[1]))
    return found


def _rewrite(text: str, comments: list[tuple[int, int, int]], words: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    for index, (line, start, end) in enumerate(comments):
        old = lines[line - 1]
        lines[line - 1] = old[:start] + "# " + words[index % len(words)] + old[end:]
    return "".join(lines)


FINDING_FIELDS = ("rule", "message", "line", "col", "end_line", "end_col", "confidence", "evidence", "fix")


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(FIXTURES), st.lists(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30), min_size=1))
def test_comments_left_out_of_the_fingerprint_change_no_finding(path: Path, words: list[str]) -> None:
    text = path.read_text(encoding="utf-8")
    edited = _rewrite(text, _unread_comments(text), [re.sub("noqa", "", word, flags=re.IGNORECASE) for word in words])
    assert code_fingerprint(edited) == code_fingerprint(text)
    config = Settings(project_root=path.parent)

    def seen(source: str) -> list[tuple]:
        return [tuple(getattr(finding, name) for name in FINDING_FIELDS) for finding in scan_source(source.encode(), str(path), config)]

    assert seen(edited) == seen(text)
