"""Is rewritten text still Python? Asked of libcst and of CPython's own parser.

libcst accepts a few things CPython rejects (and code generation from a hand-built tree
could, in principle, emit anything), so both must agree before a fix is written.
"""

from __future__ import annotations

import ast


def parse_problem(source: bytes, name: str) -> str | None:
    """Why `source` does not parse (first line of the error), or None when it does."""
    import libcst as cst

    try:
        cst.parse_module(source)
        ast.parse(source, filename=name)
    except (cst.ParserSyntaxError, SyntaxError, ValueError) as error:
        return str(error).strip().splitlines()[0]
    return None
