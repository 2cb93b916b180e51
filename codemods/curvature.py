"""Find the curvature a rewritten call should pass, from what is bound where the call sits.

The configured expressions are tried in order. `self.<attr>` counts when the call is in
a method whose first parameter is `self` and the class sets that attribute (in any
method, as a class attribute, or as a property). Any other expression counts when its
root name is a parameter of an enclosing function or is bound before the call (a local,
a global, an import). When nothing matches, the caller falls back to the configured
default and marks the fix unsafe: a wrong curvature changes every distance.
"""

from __future__ import annotations

from collections.abc import Mapping

import libcst as cst
from libcst.metadata import Assignment, Scope


def find_curvature(
    call: cst.CSTNode,
    expressions: tuple[str, ...],
    parents: Mapping[cst.CSTNode, cst.CSTNode],
    scopes: Mapping[cst.CSTNode, Scope | None],
    lines: Mapping[cst.CSTNode, object],
) -> str | None:
    """The first of `expressions` that is bound at `call`, or None."""
    for expression in expressions:
        root, _, attribute = expression.partition(".")
        if root == "self" and attribute and "." not in attribute:
            if _class_sets_attribute(call, attribute, parents):
                return expression
        elif _bound_before(call, root, scopes, lines):
            return expression
    return None


def _bound_before(
    call: cst.CSTNode, name: str, scopes: Mapping[cst.CSTNode, Scope | None], lines: Mapping[cst.CSTNode, object]
) -> bool:
    scope = scopes.get(call)
    if scope is None:
        return False
    call_line = lines[call].start.line
    for assignment in scope[name]:
        if not isinstance(assignment, Assignment):
            continue  # builtins and other non-source bindings
        if isinstance(assignment.node, cst.Param) or assignment.scope is not scope:
            return True  # parameters, and names from an enclosing scope, are bound before the body runs
        node = assignment.node
        if node in lines and lines[node].start.line < call_line:
            return True
    return False


def _class_sets_attribute(call: cst.CSTNode, attribute: str, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> bool:
    method = _enclosing(call, cst.FunctionDef, parents)
    if method is None or not _first_param_is_self(method):
        return False
    klass = parents.get(parents.get(method))  # FunctionDef -> IndentedBlock -> ClassDef
    if not isinstance(klass, cst.ClassDef):
        return False
    if any(_defines_at_class_level(statement, attribute) for statement in klass.body.body):
        return True
    finder = _SelfAttributeSetter(attribute)
    klass.visit(finder)
    return finder.found


def _defines_at_class_level(statement: cst.CSTNode, attribute: str) -> bool:
    """`attribute = ...`, `attribute: float = ...` or `def attribute` (a property) in the class body."""
    if isinstance(statement, cst.FunctionDef):
        return statement.name.value == attribute
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else []
        if isinstance(small, cst.AnnAssign):
            targets.append(small.target)
        if any(isinstance(target, cst.Name) and target.value == attribute for target in targets):
            return True
    return False


def _enclosing(node: cst.CSTNode, kind: type, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> cst.CSTNode | None:
    current = parents.get(node)
    while current is not None and not isinstance(current, kind):
        current = parents.get(current)
    return current


def _first_param_is_self(function: cst.FunctionDef) -> bool:
    params = function.params.params or function.params.posonly_params
    return bool(params) and params[0].name.value == "self"


class _SelfAttributeSetter(cst.CSTVisitor):
    """Is `self.<attribute>` assigned anywhere in the class?"""

    def __init__(self, attribute: str) -> None:
        self.attribute, self.found = attribute, False

    def _check_target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            self.found |= target.value.value == "self" and target.attr.value == self.attribute

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._check_target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check_target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._check_target(node.target)
