"""Find the curvature a rewritten call should pass, and say where it came from.

A wrong curvature changes every distance, so only a binding that *is* a curvature counts:
a positive number, a parameter or config key named (or annotated) as curvature, or a
Poincaré-ball manifold's `c` (a κ-stereographic manifold's `k` with its sign: c = −k).
A name that merely reads `c` (a loop index, a colour, a pytest fixture, `self.c =
channels`) does not. Tried in order: the producer of the operand (`exp_map_zero(mu,
c=k)` → k), a manifold the class holds (it owns the learnable curvature, so a plain
`self.c` beside it may be stale), then the configured expressions. When nothing
qualifies the caller falls back to the configured default and marks the fix unsafe.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Literal, NamedTuple

import libcst as cst
from libcst.metadata import Assignment, ClassScope, Scope

from vaeaudit.scan.names import dotted, last_name

CURVATURE_WORDS = ("curvature", "curv")
# A parameter named `c` is the curvature when typed as a real number (a pytest fixture or a channel count is not).
CURVATURE_TYPES = {"float", "Tensor", "Curvature"}
# Manifold classes whose `.c` is the (positive) curvature parameter c of the ball.
BALL_CLASSES = {"PoincareBall", "PoincareBallExact"}
# κ-stereographic classes: the ball of curvature c has k = −c.
STEREOGRAPHIC_CLASSES = {"Stereographic", "StereographicExact"}
# Producers of ball points whose curvature keyword tells the operand's curvature.
PRODUCER_KEYWORDS = ("c", "curvature", "k")
# Callee names of ball-point producers: exp maps, projections, Möbius operations, the ball's own methods.
PRODUCER_WORDS = ("exp", "proj", "mobius", "poincare", "hyp", "ball", "retr")
# Where research code keeps the curvature besides the configured expressions: the key names it.
WHERE_CONFIGS_KEEP_IT = (
    "self.config.curvature",
    "self.cfg.curvature",
    "self.args.curvature",
    "self.model.curvature",
    "config.curvature",
    "cfg.curvature",
    "args.curvature",
    "model.curvature",
)
TENSOR_WRAPPERS = {"Parameter", "tensor", "as_tensor", "float", "Tensor", "full", "ones"}


class Meta(NamedTuple):
    """The module's metadata the search reads."""

    parents: Mapping[cst.CSTNode, cst.CSTNode]
    scopes: Mapping[cst.CSTNode, Scope | None]
    named: dict[Scope, list[str]]  # per scope: its names that say curvature (filled on demand)


@dataclass(frozen=True)
class Found:
    """A curvature expression valid at the call, and a phrase saying where it came from."""

    expression: str
    source: str


def find_curvature(
    call: cst.CSTNode,
    operand: cst.BaseExpression,
    expressions: tuple[str, ...],
    meta: Meta,
) -> Found | None:
    """The curvature to pass at `call` whose point is `operand`, or None when none is certain."""
    found = _from_producer(operand, meta)
    if found is False:
        return None
    if found is not None:
        return found
    klass = _enclosing_class(call, meta.parents)
    if klass is not None:
        found = _from_manifold(klass)
        if found is not None:
            return found
    for expression in chain(expressions, WHERE_CONFIGS_KEEP_IT, _named_curvatures(call, meta)):
        found = _from_expression(call, expression, klass, meta)
        if found is not None:
            return found
    return None


def _named_curvatures(call: cst.CSTNode, meta: Meta) -> Iterator[str]:
    """Names visible at the call that say they hold a curvature (curvature_value, CURVATURE ...), innermost first.

    Computed lazily and once per scope: a function with a thousand findings is read once.
    """
    scope = meta.scopes.get(call)
    while scope is not None:
        if not isinstance(scope, ClassScope):  # a class body's names are not visible in its methods
            if scope not in meta.named:
                meta.named[scope] = sorted({a.name for a in scope.assignments if isinstance(a, Assignment) and _names_curvature(a.name)})
            yield from meta.named[scope]
        scope = None if scope is scope.globals else scope.parent


def _from_producer(operand: cst.BaseExpression, meta: Meta) -> Found | None | Literal[False]:
    """`z = exp_map_zero(mu, c=k)` ... `z.norm()` (or the call inline): k, when z has that single
    binding and k is still k. False when the point comes from a producer that does not say its
    curvature (`exp_map_zero(mu)` uses the producer's own default, which no other binding tells)."""
    producer: cst.BaseExpression | None = operand
    shown = _code(operand)
    if isinstance(operand, cst.Name):
        shown = operand.value
        binding = _single_binding(operand, operand.value, meta)
        if binding is None:
            return None
        assign = meta.parents.get(binding.node) if isinstance(binding.node, cst.Name) else None
        assign = meta.parents.get(assign) if isinstance(assign, cst.AssignTarget) else assign
        producer = assign.value if isinstance(assign, (cst.Assign, cst.AnnAssign)) else None
    if not isinstance(producer, cst.Call):
        return None
    name = (last_name(producer.func) or "").lower()
    if not any(word in name for word in PRODUCER_WORDS):
        return None  # `c=` of an unrelated call (a layer's channels) says nothing about the curvature
    for arg in producer.args:
        if arg.keyword is not None and arg.keyword.value in PRODUCER_KEYWORDS and arg.star == "":
            value = arg.value
            sign = "-" if arg.keyword.value == "k" else ""
            if _is_positive_number(value) and not sign:
                return Found(_code(value), f"the curvature of `{last_name(producer.func)}` that made `{shown}`")
            spelled = dotted(value)
            if spelled is not None and _single_binding(operand, spelled.partition(".")[0], meta) is not None:
                return Found(sign + spelled, f"`{spelled}`, the curvature given to `{last_name(producer.func)}`")
            return False
    is_method = isinstance(producer.func, cst.Attribute)  # `ball.expmap0(u)`: the manifold knows its c
    return None if is_method else False


def _from_manifold(klass: cst.ClassDef) -> Found | None:
    """`self.ball = PoincareBall(c=...)`: `self.ball.c` is the curvature, learnable or not."""
    for attribute, value in _self_assignments(klass):
        if not isinstance(value, cst.Call):
            continue
        name = last_name(value.func)
        if name in BALL_CLASSES:
            return Found(f"self.{attribute}.c", f"self.{attribute}.c, the {name}'s curvature")
        if name in STEREOGRAPHIC_CLASSES:
            return Found(f"-self.{attribute}.k", f"-self.{attribute}.k, the {name}'s curvature (k = -c)")
    return None


def _from_expression(call: cst.CSTNode, expression: str, klass: cst.ClassDef | None, meta: Meta) -> Found | None:
    root, _, rest = expression.partition(".")
    if root == "self":
        if klass is None or not _in_method(call, meta):
            return None
        attribute, _, tail = rest.partition(".")
        verdicts = [_is_curvature_value(v, meta) for name, v in _self_assignments(klass) if name == attribute]
        verdicts += _class_level_verdicts(klass, attribute, meta)
        if tail:  # self.config.curvature: the key names a curvature; self.config must be set
            if verdicts and _names_curvature(tail.rpartition(".")[2]):
                return Found(expression, f"{expression}, the configured curvature")
            return None
        if not verdicts or not all(verdicts):
            return None
        return Found(expression, f"{expression}, set from a curvature in the class")
    bindings = _visible_bindings(call, root, meta)
    if not bindings:
        return None
    if rest:  # model.curvature, config.curvature: the key says it is the curvature
        if _names_curvature(rest.rpartition(".")[2]):
            return Found(expression, f"{expression}, the configured curvature")
        return None
    if all(_binding_is_curvature(binding, meta) for binding in bindings):
        return Found(expression, f"`{root}`, {_describe(bindings[0])}")
    return None


def _visible_bindings(node: cst.CSTNode, name: str, meta: Meta) -> list[Assignment]:
    scope = meta.scopes.get(node)
    if scope is None:
        return []
    return [a for a in scope[name] if isinstance(a, Assignment)]


def _single_binding(node: cst.CSTNode, name: str, meta: Meta) -> Assignment | None:
    bindings = _visible_bindings(node, name, meta)
    return bindings[0] if len(bindings) == 1 else None


def _binding_is_curvature(binding: Assignment, meta: Meta) -> bool:
    """A parameter named/annotated as curvature (or with a positive default), or `name = <curvature value>`."""
    node = binding.node
    if isinstance(node, cst.Param):
        annotation = _code(node.annotation.annotation) if node.annotation else ""
        return (
            _names_curvature(node.name.value)
            or _names_curvature(annotation)
            or (node.name.value == "c" and annotation.rpartition(".")[2] in CURVATURE_TYPES)
            or (node.default is not None and _is_positive_number(node.default))
        )
    if isinstance(node, cst.Name):
        return _is_curvature_value(_assigned_value(binding, meta.parents), meta)
    return False  # a def, a class, an import, a loop target, a with-target ...


def _assigned_value(binding: Assignment, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> cst.BaseExpression | None:
    """The right side of a plain `name = value` binding, else None (loops, unpacking, walrus ...)."""
    target = parents.get(binding.node)
    if isinstance(target, cst.AssignTarget):
        statement = parents.get(target)
        if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
            return statement.value
    if isinstance(target, cst.AnnAssign) and target.target is binding.node:
        return target.value
    return None


def _is_curvature_value(value: cst.BaseExpression | None, meta: Meta) -> bool:
    """A positive number, a key/attribute named as curvature, a curvature parameter, or one wrapped in a tensor."""
    if value is None:
        return False
    if _is_positive_number(value):
        return True
    if isinstance(value, cst.Call) and last_name(value.func) in TENSOR_WRAPPERS and value.args:
        return _is_curvature_value(value.args[0].value, meta)
    if isinstance(value, cst.Subscript) and len(value.slice) == 1 and isinstance(value.slice[0].slice, cst.Index):
        key = value.slice[0].slice.value
        return isinstance(key, cst.SimpleString) and _names_curvature(str(key.evaluated_value))
    if isinstance(value, cst.Attribute):
        return _names_curvature(value.attr.value)
    if isinstance(value, cst.Name):
        bindings = _visible_bindings(value, value.value, meta)
        return bool(bindings) and all(isinstance(b.node, cst.Param) and _binding_is_curvature(b, meta) for b in bindings)
    return False


def _is_positive_number(value: cst.BaseExpression) -> bool:
    if isinstance(value, (cst.Integer, cst.Float)):
        number = ast.literal_eval(value.value)
        return 0 < number < float("inf")
    return False


def _names_curvature(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in CURVATURE_WORDS)


def _self_assignments(klass: cst.ClassDef) -> list[tuple[str, cst.BaseExpression | None]]:
    """(attribute, value) for every `self.attribute = value` in the class's methods."""
    collector = _SelfAssignments()
    klass.visit(collector)
    return collector.found


def _class_level_verdicts(klass: cst.ClassDef, attribute: str, meta: Meta) -> list[bool]:
    """For each class-body binding of `attribute`: is it a curvature? A property counts when its name says so."""
    verdicts: list[bool] = []
    for statement in klass.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == attribute:
            verdicts.append(_names_curvature(attribute))
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == attribute for t in small.targets):
                verdicts.append(_is_curvature_value(small.value, meta))
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.target.value == attribute:
                verdicts.append(_is_curvature_value(small.value, meta))
    return verdicts


def _enclosing_class(node: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> cst.ClassDef | None:
    current = parents.get(node)
    while current is not None and not isinstance(current, cst.ClassDef):
        current = parents.get(current)
    return current


def _in_method(call: cst.CSTNode, meta: Meta) -> bool:
    """`self` is the first parameter of the function around the call (not rebound)."""
    bindings = _visible_bindings(call, "self", meta)
    return len(bindings) == 1 and isinstance(bindings[0].node, cst.Param)


def _describe(binding: Assignment) -> str:
    return "a curvature parameter" if isinstance(binding.node, cst.Param) else "a curvature constant"


class _SelfAssignments(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[str, cst.BaseExpression | None]] = []

    def _add(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Attribute) and dotted(target.value) == "self":
            # Anything but a plain `self.x = value` (augmented, unpacked) makes the value unknown.
            self.found.append((target.attr.value, value))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, (cst.Tuple, cst.List)):
                for element in target.target.elements:
                    self._add(element.value, None)
            else:
                self._add(target.target, node.value if len(node.targets) == 1 else None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._add(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(node.target, None)


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)
