"""Find the CST node a finding points at, by its span.

Findings carry 1-based lines and columns (as ruff prints them); libcst positions have
0-based columns. Both end-column conventions (pointing at the last character or just
past it) are accepted, so the scanner and the codemods cannot drift apart silently.
"""

from __future__ import annotations

from collections.abc import Mapping

import libcst as cst
from libcst.metadata import CodeRange

from vaeaudit.scan.findings import Finding


def node_index(positions: Mapping[cst.CSTNode, CodeRange]) -> dict[tuple[int, int, int, int], cst.CSTNode]:
    """(start line, start col, end line, end col) -> expression; calls win over other nodes on the same span."""
    index: dict[tuple[int, int, int, int], cst.CSTNode] = {}
    for node, where in positions.items():
        if not isinstance(node, cst.BaseExpression):
            continue
        key = (where.start.line, where.start.column, where.end.line, where.end.column)
        if key not in index or isinstance(node, cst.Call):
            index[key] = node
    return index


def locate(finding: Finding, index: Mapping[tuple[int, int, int, int], cst.CSTNode]) -> cst.CSTNode | None:
    """The expression spanning exactly what `finding` flags, or None."""
    start = (finding.line, finding.col - 1)
    for end_column in (finding.end_col - 1, finding.end_col):
        node = index.get((*start, finding.end_line, end_column))
        if node is not None:
            return node
    return None
