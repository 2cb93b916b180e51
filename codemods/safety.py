"""Why a rewrite might change program meaning beyond the geometry correction (ruff's unsafe).

A fix is safe only when the new value means what the author meant all along. These
checks return human-readable reasons; any reason makes the fix unsafe (applied only with
`--unsafe-fixes`, and always listed). They look at the call's arguments and at how its
result is used, never at runtime values.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

import libcst as cst

from vaeaudit.scan.names import last_name

# Argument spellings that mean "the last dimension" / "the Euclidean norm".
LAST_DIM = {"-1", "(-1,)", "[-1]"}
EUCLIDEAN_P = {"2", "2.0", "'fro'", '"fro"', "None"}
# Names that mark a Euclidean ball boundary: comparing a hyperbolic distance with them is wrong.
BOUNDARY_WORDS = ("max_norm", "max_radius", "boundary")
CLAMP_FUNCTIONS = {"clamp", "clamp_", "clamp_max", "clamp_min", "clip", "clip_"}

# Keywords whose meaning the rewrite carries over (operands, dim, keepdim, p) or makes moot
# (eps of pairwise_distance, compute_mode of cdist: poincare_distance_matrix is exact).
CARRIED_KEYWORDS = {
    "input", "x", "x1", "x2", "u", "v", "XA", "XB", "dim", "axis", "keepdim", "keepdims",
    "p", "ord", "eps", "compute_mode", "metric",
}

_EMPTY_MODULE = cst.Module(body=[])


def dim_reason(dim: str | None, what: str) -> str | None:
    """A norm over anything but the last dim is not a per-point norm poincare_distance can replace."""
    if dim is None:
        return f"{what} has no dim: it reduces over all elements (Frobenius), poincare_distance over the last dim only"
    if _squash(dim) not in LAST_DIM:
        return f"dim={dim} may not be the last dim; poincare_distance reduces the last dim"
    return None


def p_reason(p: str | None) -> str | None:
    """Only the L2 norm has a hyperbolic counterpart; p=1 or inf was a deliberate choice."""
    if p is None or _squash(p) in EUCLIDEAN_P:
        return None
    return f"p={p} is not the Euclidean (L2) norm that poincare_distance replaces"


def dropped_keywords(call: cst.CSTNode) -> list[str]:
    """Keyword arguments of the flagged call that the rewrite would silently drop (`dtype=`, `out=`)."""
    if not isinstance(call, cst.Call):
        return []
    return [arg.keyword.value for arg in call.args if arg.keyword is not None and arg.keyword.value not in CARRIED_KEYWORDS]


def is_simple_operand(expr: cst.BaseExpression) -> bool:
    """True when evaluating `expr` twice costs nothing and has no side effect (names, attributes, indexing)."""
    if isinstance(expr, (cst.Name, cst.Integer, cst.Float, cst.SimpleString, cst.Ellipsis)):
        return True
    if isinstance(expr, cst.Attribute):
        return is_simple_operand(expr.value)
    if isinstance(expr, cst.UnaryOperation):
        return is_simple_operand(expr.expression)
    if isinstance(expr, cst.Subscript):
        return is_simple_operand(expr.value) and all(_is_simple_slice(element.slice) for element in expr.slice)
    return False


def threshold_reasons(
    call: cst.CSTNode,
    parents: Mapping[cst.CSTNode, cst.CSTNode],
    lines: Mapping[cst.CSTNode, object],
) -> list[str]:
    """Reasons from how the result is used: compared or clamped against a Euclidean-ball threshold.

    Follows one assignment (`r = z.norm(dim=-1).cpu()` ... `r < 0.99` in the same function),
    because that is exactly how the original audit's fix changed meaning silently.
    """
    reasons = [_threshold_message(bound, lines) for bound in _thresholds_of(call, parents)]
    for use in _uses_of_assigned_name(_derived_values(call, parents)[-1], parents):
        reasons.extend(_threshold_message(bound, lines) for bound in _thresholds_of(use, parents))
    return reasons


def _threshold_message(bound: cst.BaseExpression, lines: Mapping[cst.CSTNode, object]) -> str:
    line = lines[bound].start.line
    return (
        f"result is compared with {_code(bound)} (line {line}): a Euclidean ball radius and a "
        "hyperbolic distance have different units, so the threshold would change meaning"
    )


def _derived_values(expr: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> list[cst.CSTNode]:
    """`expr` and what method calls and indexing compute from it: r, r.mean(), r.mean()[0] ..."""
    chain = [expr]
    while True:
        parent = parents.get(chain[-1])
        if isinstance(parent, cst.Attribute) and parent.value is chain[-1]:
            call = parents.get(parent)
            if not (isinstance(call, cst.Call) and call.func is parent):
                return chain
            chain.append(call)
        elif isinstance(parent, cst.Subscript) and parent.value is chain[-1]:
            chain.append(parent)
        else:
            return chain


def _thresholds_of(expr: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> Iterator[cst.BaseExpression]:
    """Threshold operands that `expr`'s value (or r.mean(), r[0], r.clamp(...) ...) meets."""
    chain = _derived_values(expr, parents)
    for value in chain[1:]:
        if isinstance(value, cst.Call) and last_name(value.func) in CLAMP_FUNCTIONS:
            yield from _risky(arg.value for arg in value.args)
    current = chain[-1]
    parent = parents.get(current)
    if isinstance(parent, cst.ComparisonTarget):
        parent = parents.get(parent)
    if isinstance(parent, cst.Comparison):
        operands = [parent.left, *(target.comparator for target in parent.comparisons)]
        yield from _risky(operand for operand in operands if operand is not current)
    elif isinstance(parent, cst.Arg):
        call = parents.get(parent)
        if isinstance(call, cst.Call) and last_name(call.func) in CLAMP_FUNCTIONS:
            yield from _risky(arg.value for arg in call.args if arg is not parent)


def _uses_of_assigned_name(value: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Reads of the name `value` is assigned to, within the same function (or module)."""
    assign = parents.get(value)
    if not isinstance(assign, (cst.Assign, cst.AnnAssign)) or assign.value is not value:
        return
    targets = [t.target for t in assign.targets] if isinstance(assign, cst.Assign) else [assign.target]
    names = {_code(target) for target in targets if isinstance(target, (cst.Name, cst.Attribute))}
    if not names:
        return
    scope = value
    while scope is not None and not isinstance(scope, (cst.FunctionDef, cst.Module)):
        scope = parents.get(scope)
    if scope is None:
        return
    finder = _NameReads(names, {id(target) for target in targets})
    scope.visit(finder)
    yield from finder.reads


class _NameReads(cst.CSTVisitor):
    """Name/Attribute nodes spelling one of `names`, except the assignment targets themselves."""

    def __init__(self, names: set[str], skip: set[int]) -> None:
        self.names, self.skip, self.reads = names, skip, []

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.names and id(node) not in self.skip:
            self.reads.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if id(node) not in self.skip and _code(node) in self.names:
            self.reads.append(node)
            return False
        return True


def _risky(operands: Iterator[cst.BaseExpression]) -> Iterator[cst.BaseExpression]:
    for operand in operands:
        if _literal_below_one(operand) or _names_boundary(operand):
            yield operand


def _literal_below_one(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        return isinstance(expr.expression, (cst.Integer, cst.Float))
    if isinstance(expr, (cst.Integer, cst.Float)):
        return ast.literal_eval(expr.value) < 1
    return False


def _names_boundary(expr: cst.BaseExpression) -> bool:
    name = last_name(expr)
    return name is not None and any(word in name.lower() for word in BOUNDARY_WORDS)


def _is_simple_slice(part: cst.BaseSlice) -> bool:
    if isinstance(part, cst.Index):
        return is_simple_operand(part.value)
    return all(bound is None or is_simple_operand(bound) for bound in (part.lower, part.upper, part.step))


def _squash(text: str) -> str:
    return "".join(text.split())


def _code(node: cst.CSTNode) -> str:
    return _EMPTY_MODULE.code_for_node(node)
