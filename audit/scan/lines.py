"""The line of a node, found in the file's text instead of libcst's PositionProvider.

Evidence chains name the line of every step, and a file's summary renders its chains
whether or not anything is reported. PositionProvider generates the code of the whole
module while recording every node's position: about twice the cost of the parse. A
node's code is a piece of the file's text, so a text search usually finds its line: at
once when that code occurs once in the file, else inside its narrowest enclosing
expression or statement whose code does (`x` in `y = f(x)`), when every occurrence there
lies on one line. Only what neither finds (a statement repeated verbatim) needs positions.
"""

from __future__ import annotations

import libcst as cst

from vaeaudit.scan.tree import children

# Nodes whose code is a verbatim piece of the text; a compound statement's code is not
# (libcst writes its body without the indentation of the blocks around it).
_VERBATIM = (cst.BaseExpression, cst.BaseSmallStatement, cst.Param)


def line_by_text(text: str, module: cst.Module, node: cst.CSTNode) -> int | None:
    """The 1-based line where `node` starts, when the text alone proves it; else None."""
    if text.count("\r") != text.count("\r\n"):
        return None  # lines ended by a lone CR are counted by PositionProvider
    piece = _first_line(module, node)
    if not piece:
        return None
    first = text.find(piece)
    if first >= 0 and text.find(piece, first + 1) < 0:
        return text.count("\n", 0, first) + 1
    for ancestor in reversed(_ancestors(module, node) or ()):
        outer = _verbatim_code(module, ancestor)
        if not outer:
            continue
        start = text.find(outer)
        if start < 0 or text.find(outer, start + 1) >= 0:
            continue
        lines = {outer.count("\n", 0, offset) for offset in _occurrences(outer, piece)}
        return text.count("\n", 0, start) + 1 + lines.pop() if len(lines) == 1 else None
    return None


def _first_line(module: cst.Module, node: cst.CSTNode) -> str | None:
    """The first line of `node`'s code, which is verbatim in the text (libcst writes the continuation
    lines of a bracketed expression, and a block's body, with the indentation of the block around
    the node, not the file's); for a compound statement its header's (`if x:`, `def f(`: where
    PositionProvider starts it, after comments and decorators)."""
    if isinstance(node, cst.BaseCompoundStatement):
        bare = {"leading_lines": ()}
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            bare.update(decorators=(), lines_after_decorators=())
        node = node.with_changes(**bare)
    elif not isinstance(node, _VERBATIM):
        return None
    return module.code_for_node(node).strip().partition("\n")[0]


def _verbatim_code(module: cst.Module, node: cst.CSTNode) -> str | None:
    """`node`'s code when it is a verbatim piece of the text: a statement of the module's body,
    or a one-line expression or small statement anywhere."""
    if any(node is statement for statement in module.body):
        return module.code_for_node(node).strip()
    if isinstance(node, _VERBATIM):
        code = module.code_for_node(node).strip()
        return code if "\n" not in code else None
    return None


def _occurrences(text: str, piece: str) -> list[int]:
    found, offset = [], text.find(piece)
    while offset >= 0:
        found.append(offset)
        offset = text.find(piece, offset + 1)
    return found


def _ancestors(module: cst.Module, target: cst.CSTNode) -> list[cst.CSTNode] | None:
    """The nodes from `module` down to `target`'s parent (every scope entered), or None if absent."""
    stack: list[tuple[cst.CSTNode, list[cst.CSTNode]]] = [(module, [])]
    while stack:
        node, above = stack.pop()
        if node is target:
            return above
        below = above + [node]
        stack.extend((child, below) for child in children(node))
    return None
