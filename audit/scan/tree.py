"""Walking libcst trees with the chain of ancestors, without metadata providers.

The rules need a node's parents (how is this norm's result used?) but libcst's
ParentNodeProvider resolves the whole module up front; carrying the ancestor chain
during the one walk the rules do anyway costs nothing extra.

libcst's own `node.children` runs a visitor per call (it is most of the cost of a walk,
about 4x the parse on real files); `children` here reads the node's dataclass fields
directly, once per node type deciding which fields can hold nodes, and never enters
whitespace, commas or parentheses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from operator import attrgetter

import libcst as cst

Ancestors = tuple[cst.CSTNode, ...]
Place = tuple[Sequence[cst.CSTNode], int]  # a block's statements, and the index of one of them
_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
# Leaves and formatting nodes that never contain an expression.
_SKIP = (
    cst.BaseParenthesizableWhitespace,
    cst.Comment,
    cst.Newline,
    cst.EmptyLine,
    cst.TrailingWhitespace,
    cst.BaseBinaryOp,
    cst.BaseBooleanOp,
    cst.BaseCompOp,
    cst.BaseUnaryOp,
    cst.BaseAugOp,
    cst.Name,
    cst.Integer,
    cst.Float,
    cst.SimpleString,
    cst.Imaginary,
)


_FORMATTING_FIELDS = (
    "whitespace",
    "lpar",
    "rpar",
    "leading_lines",
    "lines_after",
    "comma",
    "semicolon",
    "header",
    "footer",
    "lbrace",
    "rbrace",
    "lbracket",
    "rbracket",
    "colon",
    "dot",
    "star",
    "equal",
    "newline",
    "default_indent",
    "default_newline",
    "first_line",
    "operator",
    "arrow",
    "asynchronous",
    "trailing",
)
_FIELDS: dict[type, Callable[[cst.CSTNode], tuple]] = {}
# libcst's node classes are ABCs, and an isinstance check against an ABC is slow; a walk
# makes millions. Each concrete type is judged once (`issubclass`) and remembered.
_KINDS: dict[type, int] = {}
_NODE, _LEAF, _SCOPE = 1, 2, 4
# `walk`'s `stop` types -> node type -> whether a node of that type is one of them (same reason).
_STOPS: dict[tuple[type, ...], dict[type, bool]] = {}


def _kind(kind: type) -> int:
    flags = _KINDS.get(kind)
    if flags is None:
        node = issubclass(kind, cst.CSTNode)
        flags = (_NODE if node else 0) | (_LEAF if node and issubclass(kind, _SKIP) else 0)
        flags |= _SCOPE if node and issubclass(kind, _SCOPES) else 0
        _KINDS[kind] = flags
    return flags


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's children that can hold code, in source order.

    The hottest function of the scanner (millions of calls on a research tree): the values
    are read with one `attrgetter` call, and each value's kind is one dict lookup.
    """
    getter = _FIELDS.get(type(node))
    if getter is None:
        getter = _fields(type(node))
    kinds = _KINDS
    found: list[cst.CSTNode] = []
    for value in getter(node):
        kind = type(value)
        if kind is tuple or kind is list:
            for item in value:
                flags = kinds.get(type(item))
                if (_kind(type(item)) if flags is None else flags) & _NODE:
                    found.append(item)
        else:
            flags = kinds.get(kind)
            if (_kind(kind) if flags is None else flags) & _NODE:
                found.append(value)
    return found


def _fields(kind: type) -> Callable[[cst.CSTNode], tuple]:
    """The getter of a node type's fields that can hold code (all but whitespace and punctuation)."""
    names = [field.name for field in dataclasses.fields(kind) if not field.name.startswith(_FORMATTING_FIELDS)]
    getter: Callable[[cst.CSTNode], tuple]
    if len(names) > 1:
        getter = attrgetter(*names)  # a tuple of the values
    else:
        single = attrgetter(*names) if names else None

        def getter(node: cst.CSTNode) -> tuple:
            return (single(node),) if single is not None else ()

    _FIELDS[kind] = getter
    return getter


def walk(root: cst.CSTNode, ancestors: Ancestors = (), stop: tuple[type, ...] = ()) -> Iterator[tuple[cst.CSTNode, Ancestors]]:
    """Yield `(node, ancestors)` for `root` and every node below it, outermost ancestor first.

    Nested functions, classes and lambdas, and nodes of the `stop` types, are yielded but
    not entered: they are scopes of their own, analysed with their own environment.
    """
    stops = _STOPS.setdefault(stop, {}) if stop else None
    stack: list[tuple[cst.CSTNode, Ancestors]] = [(root, ancestors)]
    while stack:
        node, above = stack.pop()
        yield node, above
        kind = type(node)
        flags = _KINDS.get(kind)
        if flags is None:
            flags = _kind(kind)
        if flags & _LEAF:
            continue
        if node is not root:
            if flags & _SCOPE:
                continue
            if stops is not None:
                stopped = stops.get(kind)
                if stopped is None:
                    stopped = stops[kind] = issubclass(kind, stop)
                if stopped:
                    continue
        found = children(node)
        found.reverse()
        stack.extend(zip(found, repeat(above + (node,))))


def scopes_containing(root: cst.CSTNode, is_candidate) -> tuple[set[int], set[int]]:
    """Scopes (by id) holding a node `is_candidate` accepts: (directly, directly or in a nested scope).

    One cheap pass over the whole tree lets the analysis skip every function without a
    candidate operation, which is most functions of most files.
    """
    direct: set[int] = set()
    enclosing: set[int] = set()
    stack: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = [(root, (root,))]
    while stack:
        node, scopes = stack.pop()
        if is_candidate(node):
            direct.add(id(scopes[-1]))
            enclosing.update(id(scope) for scope in scopes)
        kind = type(node)
        flags = _KINDS.get(kind)
        if (_kind(kind) if flags is None else flags) & _LEAF:
            continue
        inner = scopes + (node,) if (kind is cst.FunctionDef or kind is cst.ClassDef) and node is not root else scopes
        stack.extend((child, inner) for child in children(node))
    return direct, enclosing


def names_within(root: cst.CSTNode, value: str | frozenset[str], ancestors: Ancestors = ()) -> list[tuple[cst.Name, Ancestors]]:
    """Every `Name` spelled `value` (or one of `value`) below `root` with its ancestors, nested scopes included,
    attributes (`x.value`) and keywords (`f(value=...)`) not: what a name is used for wherever a closure might use it.
    A full walk; for the rare question that needs one (who calls a function, who reads a loop's variable)."""
    values = frozenset((value,)) if isinstance(value, str) else value
    found: list[tuple[cst.Name, Ancestors]] = []
    stack: list[tuple[cst.CSTNode, Ancestors]] = [(root, ancestors)]
    while stack:
        node, above = stack.pop()
        if type(node) is cst.Name:
            parent = above[-1] if above else None
            named = isinstance(parent, cst.Attribute) and parent.attr is node or isinstance(parent, cst.Arg) and parent.keyword is node
            if node.value in values and not named:
                found.append((node, above))
            continue
        found_children = children(node)
        found_children.reverse()
        stack.extend(zip(found_children, repeat(above + (node,))))
    return found
