"""Whatever a run is called, the report's tables keep their shape and carry no markup."""

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vaeaudit.checkpoints.records import Problem, RunRecord
from vaeaudit.checkpoints.report import render_markdown
from vaeaudit.checkpoints.tree_audit import TreeAudit


def tables(text: str) -> list[list[str]]:
    """Consecutive table lines; Markdown ends lines only at \\n (and \\r, which escaping removes)."""
    groups, current = [], []
    for line in text.split("\n"):
        if line.startswith("|"):
            current.append(line)
        elif current:
            groups.append(current)
            current = []
    return groups


def unescaped_pipes(line: str) -> int:
    return line.replace("\\|", "").count("|")


@settings(max_examples=30)
@given(name=st.text(min_size=1, max_size=25), reason=st.text(max_size=25))
def test_hostile_names_and_reasons_stay_inside_their_cells(name, reason):
    run = RunRecord(name=name, path=Path("/runs") / "x", category="OTHER", rule="no rule matched", status="crashed", status_reason=reason)
    run.problems.append(Problem("duplicate", reason))
    text = render_markdown(TreeAudit(Path("/runs"), [run]))
    found = tables(text)
    assert len(found) >= 2  # the trouble table and the OTHER category table
    for table in found:
        assert len({unescaped_pipes(line) for line in table}) == 1, table
    prose = re.sub(r"(`+).*?\1", "", text)  # code spans are literal: markup inside them is inert
    assert "<" not in prose.replace("\\<", "")
    assert "](" not in prose.replace("\\]\\(", "").replace("](#runs-to-look-at", "")
