"""The line of a node, found in the file's text instead of libcst's PositionProvider.

Evidence chains name the line of every step, and a file's summary renders its chains
whether or not anything is reported. PositionProvider generates the code of the whole
module while recording every node's position: about twice the cost of the parse. A
node's code is a piece of the file's text, so a text search usually finds its line: at
once when that code occurs once in the file, else inside its narrowest enclosing
expression or statement whose code does (`x` in `y = f(x)`), when every occurrence there
lies on one line. Only what neither finds (a statement repeated verbatim), and a finding's
columns, need positions: those of its top-level statement alone (`Positions`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from itertools import islice
from typing import cast

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from vaeaudit.scan.tree import children

Code = Callable[[cst.CSTNode], str]


def remembered_code(module: cst.Module) -> Code:
    """`module.code_for_node`, remembered by node (libcst nodes compare and hash by identity): the analysis of
    a module asks again for half the code it generates (evidence, exemptions, lines)."""
    known: dict[cst.CSTNode, str] = {}

    def code(node: cst.CSTNode) -> str:
        text = known.get(node)
        if text is None:
            text = known[node] = module.code_for_node(node)
        return text

    return code


# Nodes whose code is a verbatim piece of the text; a compound statement's code is not
# (libcst writes its body without the indentation of the blocks around it).
_VERBATIM = (cst.BaseExpression, cst.BaseSmallStatement, cst.Param)


def line_by_text(text: str, module: cst.Module, node: cst.CSTNode, code: Code | None = None) -> int | None:
    """The 1-based line where `node` starts, when the text alone proves it; else None. `code`: the module's
    `code_for_node`, maybe `remembered_code`."""
    code = code or module.code_for_node
    if text.count("\r") != text.count("\r\n"):
        return None  # lines ended by a lone CR are counted by PositionProvider
    piece = _first_line(code, node)
    if not piece:
        return None
    first = text.find(piece)
    if first >= 0 and text.find(piece, first + 1) < 0:
        return text.count("\n", 0, first) + 1
    for ancestor in reversed(_ancestors(module, node) or ()):
        outer = _verbatim_code(module, code, ancestor)
        if not outer:
            continue
        start = text.find(outer)
        if start < 0 or text.find(outer, start + 1) >= 0:
            continue
        line = _only_line(outer, piece)
        return None if line is None else text.count("\n", 0, start) + 1 + line
    return None


def _only_line(text: str, piece: str) -> int | None:
    """The 0-based line of `text` on which every occurrence of `piece` lies; None when they lie on several.
    Newlines are counted between one occurrence and the next: a name read 6,000 times in one function
    would count the function's text 6,000 times over."""
    line, last, found = 0, 0, None
    for offset in _occurrences(text, piece):
        line += text.count("\n", last, offset)
        last = offset
        if found is not None and line != found:
            return None
        found = line
    return found


def _first_line(code: Code, node: cst.CSTNode) -> str | None:
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
    return code(node).strip().partition("\n")[0]


def _verbatim_code(module: cst.Module, code: Code, node: cst.CSTNode) -> str | None:
    """`node`'s code when it is a verbatim piece of the text: a statement of the module's body,
    or a one-line expression or small statement anywhere."""
    if any(node is statement for statement in module.body):
        return code(node).strip()
    if isinstance(node, _VERBATIM):
        text = code(node).strip()
        return text if "\n" not in text else None
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


class Positions:
    """`node` -> its `CodeRange`, as PositionProvider gives it, computed one top-level statement at a time.

    PositionProvider generates the code of the whole module while recording every node's position (about
    twice the parse), for the one finding or evidence step the text alone cannot place. A node's range
    inside its top-level statement is the same in a module that holds that statement alone (it starts at
    column 0 either way, and the module's indentation and newline are kept), so only that statement's
    code is generated; the line it starts on comes from `ast` (~10x faster than libcst), whose top-level
    statements are libcst's (a line of `;`-separated statements being one libcst statement). Anything
    this cannot place (no text, lone CR line ends, syntax `ast` does not know) falls back to
    PositionProvider over the whole module.
    """

    def __init__(self, module: cst.Module, text: str | None) -> None:
        self.module, self.text = module, text
        self._starts: list[int] | None = None  # the line each statement of the module's body starts on
        self._owner: dict[int, int] = {}  # id(node) -> index of the body statement holding it
        self._walked = 0  # body statements whose nodes `_owner` holds
        self._ranges: dict[int, tuple[Mapping[cst.CSTNode, CodeRange], int]] = {}  # index -> (ranges, line offset)
        self._whole: Mapping[cst.CSTNode, CodeRange] | None = None

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        index = self._statement_of(node) if self._whole is None and self._statement_starts() else None
        if index is None or index not in self._ranges and len(self._ranges) >= _STATEMENTS_APART:
            return self._module_ranges()[node]
        ranges, offset = self._statement_ranges(index)
        found = ranges[node]
        if not offset:
            return found
        return CodeRange((found.start.line + offset, found.start.column), (found.end.line + offset, found.end.column))

    def _statement_starts(self) -> list[int] | None:
        if self._starts is None:
            self._starts = _statement_starts(self.module, self.text) or []
        return self._starts or None

    def _statement_of(self, node: cst.CSTNode) -> int | None:
        """The index of the body statement holding `node`, walking the body once, no further than needed."""
        body = self.module.body
        while id(node) not in self._owner and self._walked < len(body):
            index, stack = self._walked, [cast("cst.CSTNode", body[self._walked])]
            while stack:
                inner = stack.pop()
                self._owner[id(inner)] = index
                stack.extend(children(inner))
            self._walked += 1
        return self._owner.get(id(node))

    def _statement_ranges(self, index: int) -> tuple[Mapping[cst.CSTNode, CodeRange], int]:
        if index not in self._ranges:
            statement = self.module.body[index]
            alone = self.module.with_changes(header=(), body=(statement,), footer=())
            ranges = MetadataWrapper(alone, unsafe_skip_copy=True).resolve(PositionProvider)
            starts = cast("list[int]", self._starts)
            self._ranges[index] = (ranges, starts[index] - ranges[statement].start.line)
        return self._ranges[index]

    def _module_ranges(self) -> Mapping[cst.CSTNode, CodeRange]:
        if self._whole is None:
            self._whole = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._whole


# Positions of this many statements apart cost more than those of the whole module at once (a file of 8,000
# functions, each with a finding: 19 s apart, 15 s at once); after them, the whole module answers.
_STATEMENTS_APART = 16


def _statement_starts(module: cst.Module, text: str | None) -> list[int] | None:
    """The line each statement of `module.body` starts on (where PositionProvider starts it: a decorated
    definition at `def`/`class`, as `ast` does), from `ast`; None when the two parses do not line up."""
    if text is None or text.count("\r") != text.count("\r\n"):
        return None  # lines ended by a lone CR: counted apart by the two parsers
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # syntax newer than this interpreter's, say
    statements = iter(tree.body)
    starts = []
    for statement in module.body:
        small = len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        lines = [node.lineno for node in islice(statements, small)]
        if len(lines) != small:
            return None
        starts.append(lines[0])
    return starts if next(statements, None) is None else None
