"""Escaping of outside strings in generated Markdown."""

from hypothesis import given
from hypothesis import strategies as st

from vaeaudit.render import escape_markdown, inline_code

HOSTILE = "| <script>alert(1)</script> [x](y) **b** `c`\nnext"


def test_escape_neutralises_table_pipes_html_links_and_newlines():
    escaped = escape_markdown(HOSTILE)
    assert "\n" not in escaped
    assert "<script>" not in escaped
    assert "[x](y)" not in escaped
    # every pipe is escaped, so a table row keeps its column count
    assert escaped.count("|") == escaped.count("\\|")


@given(st.text())
def test_escaped_text_never_has_bare_pipes_or_newlines(text):
    escaped = escape_markdown(text)
    assert not any(line_break in escaped for line_break in "\n\r\x0b\x0c\u2028\u2029")
    bare_pipes = escaped.replace("\\|", "")
    assert "|" not in bare_pipes


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_inline_code_cannot_be_closed_from_inside(text):
    span = inline_code(text)
    fence_length = len(span) - len(span.lstrip("`"))
    body = span[fence_length:-fence_length]
    assert "`" * fence_length not in body
    assert "\n" not in span


def test_none_renders_empty():
    assert escape_markdown(None) == ""
