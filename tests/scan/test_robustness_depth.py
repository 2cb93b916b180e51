"""Generated code must not hang the scanner or hit the recursion limit (issue 9's stress shapes)."""

from __future__ import annotations

import pytest

from vaeaudit.scan.runner import scan_bytes
from vaeaudit.scan.settings import Settings

AFTER = "\ndef later(v):\n    z = exp_map_zero(v)\n    return z.norm(dim=-1)\n"
HEADER = "from vaeaudit.geometry import exp_map_zero\nz_hyp = exp_map_zero(v)\n"


@pytest.mark.parametrize(
    "deep",
    [
        "y = z_hyp" + ".detach()" * 1500 + ".norm()",
        "y = " + " + ".join(["z_hyp.norm()"] * 3000),
        "f = " + "lambda x: " * 150 + "x.norm()",
    ],
    ids=["1500-call chain", "3000-term sum", "150 nested lambdas"],
)
def test_over_deep_statements_are_set_aside_and_the_rest_is_analysed(deep: str) -> None:
    source = HEADER + deep + "\n" + AFTER
    result = scan_bytes("gen.py", source.encode(), Settings())
    assert result.severity == "warning" and "not analysed (line 3)" in result.error
    assert [(f.rule, f.line) for f in result.findings] == [("HYP001", 7)]  # lines kept in place


def test_many_assignments_in_one_scope_are_analysed_in_order() -> None:
    body = "".join(f"    a{i} = z.norm(dim=-1) + {i}\n" for i in range(3000))
    source = "from vaeaudit.geometry import exp_map_zero\ndef f(v):\n    z = exp_map_zero(v)\n" + body + "    z = v\n    return z.norm()\n"
    result = scan_bytes("gen.py", source.encode(), Settings())
    assert result.error is None and len(result.findings) == 3000


def test_a_form_feed_in_a_comment_moves_no_masked_line() -> None:
    """`str.splitlines` also splits at a form feed, the tokenizer does not: the masked lines must be the tokenizer's."""
    from vaeaudit.scan.depth import mask_deep_statements

    deep = "y = " + " + ".join(["z"] * 400) + "\n"
    text = "# page one\x0cpage two\n" + deep + "x = 1\n"
    masked, lines = mask_deep_statements(text)
    assert lines == [2]
    assert masked == "# page one\x0cpage two\npass\nx = 1\n"
