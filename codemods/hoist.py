"""Evaluate an operand once: move it into a local just before the statement that uses it.

The radius rewrite names its operand twice (`poincare_distance(x, torch.zeros_like(x))`);
when `x` is a call or arithmetic, running it twice costs time and may repeat side
effects, so it is hoisted into a fresh local. That is only possible where the operand
is evaluated exactly once per run of a plain statement: not inside a lambda, a
comprehension, a conditional expression, the right side of `and`/`or`, a compound
statement's header, or a class body (a local there becomes a class attribute).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import libcst as cst

TEMP_NAME = "hyperbolic_point"

_CONDITIONAL_OR_DEFERRED = (
    cst.Lambda,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
    cst.IfExp,
    cst.BaseCompoundStatement,
)

Site = tuple[cst.SimpleStatementLine | cst.SimpleStatementSuite, int]


def hoist_site(node: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> Site | None:
    """The statement line and the index of the small statement `node` can be hoisted above, or None."""
    current = node
    while True:
        parent = parents.get(current)
        if parent is None or isinstance(parent, _CONDITIONAL_OR_DEFERRED):
            return None
        if isinstance(parent, cst.BooleanOperation) and parent.right is current:
            return None
        if isinstance(parent, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            if isinstance(parent, cst.SimpleStatementLine) and isinstance(parents.get(parents.get(parent)), cst.ClassDef):
                return None
            index = next(i for i, small in enumerate(parent.body) if small is current)
            return parent, index
        current = parent


def fresh_names(module: cst.Module) -> Iterator[str]:
    """hyperbolic_point, hyperbolic_point_2, ... skipping every name the module already uses."""
    collector = _Names()
    module.visit(collector)
    counter = 1
    while True:
        name = TEMP_NAME if counter == 1 else f"{TEMP_NAME}_{counter}"
        counter += 1
        if name not in collector.names:
            yield name


def assignment(name: str, value: cst.BaseExpression) -> cst.Assign:
    """`name = value`, parenthesising a multi-line value that was only valid inside call brackets."""
    if "\n" in cst.Module(body=[]).code_for_node(value) and not value.lpar:
        value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.Assign(targets=[cst.AssignTarget(target=cst.Name(name))], value=value)


def insert_hoisted(
    line: cst.SimpleStatementLine | cst.SimpleStatementSuite, hoisted: list[tuple[int, cst.Assign]]
) -> cst.SimpleStatementLine | cst.SimpleStatementSuite | cst.FlattenSentinel:
    """`line` with each hoisted assignment placed before the small statement at its index.

    A one-statement line gets the assignments as lines of their own above it (taking its
    leading comments along, so they still introduce the code); otherwise they are joined
    into the line with semicolons, keeping everything else where it was.
    """
    if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
        new_lines = [cst.SimpleStatementLine(body=[assign]) for _, assign in hoisted]
        new_lines[0] = new_lines[0].with_changes(leading_lines=line.leading_lines)
        return cst.FlattenSentinel([*new_lines, line.with_changes(leading_lines=())])
    body = list(line.body)
    semicolon = cst.Semicolon(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(" "))
    for index, assign in reversed(sorted(hoisted, key=lambda item: item[0])):  # keeps equal-index order
        body.insert(index, assign.with_changes(semicolon=semicolon))
    return line.with_changes(body=body)


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)
