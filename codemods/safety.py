"""Why a rewrite might change program meaning beyond the geometry correction (ruff's unsafe).

A fix is safe only when the new value means what the author meant all along. These
checks return human-readable reasons; any reason makes the fix unsafe (applied only with
`--unsafe-fixes`, and always listed). They look at the call's arguments and at how its
result is used, never at runtime values.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from vaeaudit.scan.names import dotted, last_name

# Argument spellings that mean "the last dimension" / "the Euclidean norm".
LAST_DIM = {"-1", "(-1,)", "[-1]"}
EUCLIDEAN_P = {"2", "2.0", "'fro'", '"fro"', "None"}
# Names that mark a Euclidean ball boundary: comparing a hyperbolic distance with them is wrong.
BOUNDARY_WORDS = ("max_norm", "max_radius", "boundary")
CLAMP_FUNCTIONS = {"clamp", "clamp_", "clamp_max", "clamp_min", "clip", "clip_"}
# Comparisons and Euclidean-scale arithmetic spelled as calls (`torch.lt(r, 0.5)`, `r.le(t)`,
# `torch.minimum(r, m)`, `torch.sub(0.5, r)`, `torch.isclose(d, 0, atol=1e-3)`): the same meaning as
# `<`, `min` and `-`, whose other operand is in Euclidean units; never converted, so never safe.
COMPARING_CALLS = {
    *"lt le gt ge eq ne lt_ le_ gt_ ge_ eq_ ne_ less less_equal greater greater_equal equal not_equal".split(),
    *"isclose allclose minimum maximum fmin fmax sub sub_ subtract rsub add add_".split(),
}

# Keywords whose meaning the rewrite carries over (operands, dim, keepdim, p) or makes moot
# (eps of pairwise_distance, compute_mode of cdist: poincare_distance_matrix is exact).
CARRIED_KEYWORDS = {
    "input",
    "x",
    "x1",
    "x2",
    "u",
    "v",
    "XA",
    "XB",
    "dim",
    "axis",
    "keepdim",
    "keepdims",
    "p",
    "ord",
    "eps",
    "compute_mode",
    "metric",
}

_EMPTY_MODULE = cst.Module(body=[])


def moved_dim(dim: str | None) -> str | None:
    """The dim to move last when a norm reduces one integer dim other than the last, else None."""
    if dim is None:
        return None
    squashed = _squash(dim).strip("()[],")
    if squashed in {"-1"} or not squashed.lstrip("-").isdigit():
        return None
    return squashed


def is_true(text: str) -> bool:
    return _squash(text) in {"True", "1"}


def is_false(text: str) -> bool:
    return _squash(text) in {"False", "0"}


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


# Methods whose result holds the same values elementwise, so a monotone threshold conversion still holds.
ELEMENTWISE_METHODS = {
    "cpu",
    "cuda",
    "detach",
    "item",
    "float",
    "double",
    "clone",
    "to",
    "numpy",
    "tolist",
    "squeeze",
    "unsqueeze",
    "view",
    "reshape",
    "flatten",
    "contiguous",
    "requires_grad_",
}


@dataclass
class Usage:
    """How a fixed value is used: thresholds that can be converted, and reasons the fix is unsafe."""

    convertible: list[cst.BaseExpression] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


class UseIndex:
    """Reads of each name, per function (or module), collected in one walk per scope.

    Built lazily and kept for the whole module, so N findings in one function cost one walk,
    not N (a per-finding walk made 1,000 findings in one function take minutes).
    """

    def __init__(self, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> None:
        self._parents = parents
        self._by_scope: dict[cst.CSTNode, dict[str, list[cst.CSTNode]]] = {}

    def reads(self, scope: cst.CSTNode, name: str) -> list[cst.CSTNode]:
        if scope not in self._by_scope:
            collector = _NameReads()
            scope.visit(collector)
            self._by_scope[scope] = collector.reads
        return self._by_scope[scope].get(name, [])

    def scope_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        scope = self._parents.get(node)
        while scope is not None and not isinstance(scope, (cst.FunctionDef, cst.Module)):
            scope = self._parents.get(scope)
        return scope


def classify_uses(
    call: cst.CSTNode,
    parents: Mapping[cst.CSTNode, cst.CSTNode],
    lines: Mapping[cst.CSTNode, object],
    uses: UseIndex,
) -> Usage:
    """Where the result goes: a comparison with a Euclidean threshold (convertible when the
    value reaches it elementwise), a clamp, arithmetic with Euclidean-scale numbers (unsafe).

    Follows one assignment (`r = z.norm(dim=-1).cpu()` ... `r < 0.99` in the same function),
    because that is exactly how the original audit's fix changed meaning silently.
    """
    usage = Usage()
    _classify_site(call, parents, lines, usage)
    end = _derived_values(call, parents)[-1]
    assign = parents.get(end)
    if not isinstance(assign, (cst.Assign, cst.AnnAssign)) or assign.value is not end:
        return usage
    targets = [t.target for t in assign.targets] if isinstance(assign, cst.Assign) else [assign.target]
    names = [name for name in (dotted(target) for target in targets) if name is not None]
    if len(names) != len(targets):
        return usage
    scope = uses.scope_of(assign)
    if scope is None:
        return usage
    skip = {id(target) for target in targets}
    for name in names:
        reads = [read for read in uses.reads(scope, name) if id(read) not in skip]
        if any(_is_written(read, parents) for read in reads):
            probe = Usage()
            for read in reads:
                if not _is_written(read, parents):
                    _classify_site(read, parents, lines, probe)
            if probe.reasons or probe.convertible:
                usage.reasons.append(f"`{name}` is assigned more than once here; its comparisons cannot be converted safely")
            continue
        for read in reads:
            _classify_site(read, parents, lines, usage)
    return usage


def _classify_site(
    value: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode], lines: Mapping[cst.CSTNode, object], usage: Usage
) -> None:
    chain = _derived_values(value, parents)
    elementwise = all(
        isinstance(link, cst.Subscript) or (isinstance(link, cst.Call) and last_name(link.func) in ELEMENTWISE_METHODS)
        for link in chain[1:]
    )
    for link in chain[1:]:
        if isinstance(link, cst.Call) and last_name(link.func) in CLAMP_FUNCTIONS:
            usage.reasons.extend(_threshold_message(bound, lines) for bound in _risky(arg.value for arg in link.args))
        elif isinstance(link, cst.Call) and last_name(link.func) in COMPARING_CALLS:  # `r.le(0.5)`
            usage.reasons.extend(_threshold_message(arg.value, lines) for arg in link.args)
    current = chain[-1]
    parent = parents.get(current)
    if isinstance(parent, cst.NamedExpr):
        usage.reasons.append("the result is bound by `:=`; the fix does not follow its uses")
    if isinstance(parent, cst.ComparisonTarget):
        parent = parents.get(parent)
    if isinstance(parent, cst.Comparison):
        operands = [parent.left, *(target.comparator for target in parent.comparisons)]
        for operand in operands:
            if operand is current:
                continue
            if elementwise and (_is_number(operand) or _names_boundary(operand)):
                usage.convertible.append(operand)
            else:
                usage.reasons.append(_threshold_message(operand, lines))
    elif isinstance(parent, cst.Arg):
        call = parents.get(parent)
        if isinstance(call, cst.Call) and last_name(call.func) in CLAMP_FUNCTIONS:
            usage.reasons.extend(_threshold_message(bound, lines) for bound in _risky(arg.value for arg in call.args if arg is not parent))
        elif isinstance(call, cst.Call) and (
            last_name(call.func) in COMPARING_CALLS or (isinstance(call.func, cst.Name) and call.func.value in ("min", "max"))
        ):  # `torch.lt(r, 0.5)`, `min(r, 0.9)`
            usage.reasons.extend(_threshold_message(arg.value, lines) for arg in call.args if arg is not parent)
    arithmetic = _euclidean_arithmetic(current, parents)
    if arithmetic is not None:
        usage.reasons.append(
            f"result meets `{_code(arithmetic)}` (line {_line(lines, arithmetic)}): adding or subtracting "
            "Euclidean-scale quantities would change the objective"
        )


def _euclidean_arithmetic(value: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> cst.CSTNode | None:
    """The `+`/`-` the value (possibly scaled or powered first) takes part in, e.g. `(r - target) ** 2`, `max_norm - r`."""
    current = value
    parent = parents.get(current)
    while isinstance(parent, (cst.BinaryOperation, cst.UnaryOperation)):
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, (cst.Add, cst.Subtract)):
            return parent
        current, parent = parent, parents.get(parent)
    return None


def _has_threshold(read: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> bool:
    parent = parents.get(_derived_values(read, parents)[-1])
    return isinstance(parent, (cst.ComparisonTarget, cst.Comparison))


def _is_written(node: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> bool:
    """Is this Name/Attribute the target of an assignment, a loop, a with, an augmented assignment or a walrus?"""
    parent = parents.get(node)
    if isinstance(parent, (cst.AssignTarget, cst.AugAssign, cst.NamedExpr, cst.For, cst.WithItem, cst.CompFor)):
        return getattr(parent, "target", None) is node or (isinstance(parent, cst.WithItem) and parent.asname is not None)
    if isinstance(parent, cst.AnnAssign):
        return parent.target is node
    if isinstance(parent, cst.Element):
        container = parents.get(parent)  # tuple/list unpacking
        return container is not None and _is_written(container, parents)
    return isinstance(parent, (cst.Tuple, cst.List)) and _is_written(parent, parents)


def _threshold_message(bound: cst.BaseExpression, lines: Mapping[cst.CSTNode, object]) -> str:
    line = _line(lines, bound)
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


class _NameReads(cst.CSTVisitor):
    """Every Name and dotted Attribute in a scope, by its spelling."""

    def __init__(self) -> None:
        self.reads: dict[str, list[cst.CSTNode]] = {}

    def visit_Name(self, node: cst.Name) -> None:
        self.reads.setdefault(node.value, []).append(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        """`r.mean()` reads `r.mean` and `r` (a use of the fixed value through a method); the attribute's
        own name (`mean`) is not a read of a variable."""
        spelling = dotted(node)
        if spelling is None:
            return True
        self.reads.setdefault(spelling, []).append(node)
        node.value.visit(self)
        return False


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


def _is_number(expr: cst.BaseExpression) -> bool:
    """A numeric literal, possibly negated: a threshold the conversion maps exactly."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        expr = expr.expression
    return isinstance(expr, (cst.Integer, cst.Float))


def _names_boundary(expr: cst.BaseExpression) -> bool:
    name = last_name(expr)
    return name is not None and any(word in name.lower() for word in BOUNDARY_WORDS)


def _line(lines: Mapping[cst.CSTNode, Any], node: cst.CSTNode) -> int:
    """The 1-based line `node` starts on (lines: libcst's PositionProvider)."""
    return lines[node].start.line


def _squash(text: str) -> str:
    return "".join(text.split())


def _code(node: cst.CSTNode) -> str:
    return _EMPTY_MODULE.code_for_node(node)
