"""Recognise Euclidean norm and distance expressions, whatever import style or spelling.

A match says which library operation it is (the canonical names of `FixHint`), which
operands it measures and the source of its `dim`/`keepdim`/`p` arguments; whether the
operands are hyperbolic is the taint analysis' question, not this module's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import libcst as cst

from vaeaudit.scan.names import ImportMap

# canonical name -> the positional parameters after the operand(s): p/ord, dim/axis, keepdim(s)
_NORMS = {
    "torch.norm": ("p", "dim", "keepdim"),
    "torch.Tensor.norm": ("p", "dim", "keepdim"),
    "torch.linalg.norm": ("ord", "dim", "keepdim"),
    "torch.linalg.vector_norm": ("ord", "dim", "keepdim"),
    "numpy.linalg.norm": ("ord", "axis", "keepdims"),
}
_DISTANCES = {
    "torch.dist": ("p",),
    "torch.cdist": ("p",),
    "torch.nn.functional.pairwise_distance": ("p", "eps", "keepdim"),
    "scipy.spatial.distance.euclidean": ("w",),
    "scipy.spatial.distance.cdist": ("metric",),
    "math.dist": (),  # two points as sequences of floats (`.tolist()`/`.item()` coordinates)
}
# Pairwise distances within one set: no FixHint canonical name, so reported without a fix.
_SELF_DISTANCES = {"torch.pdist": ("p",), "scipy.spatial.distance.pdist": ("metric",)}
# scikit-learn: within X, or between X and Y when Y is given; reported without a fix.
_OPTIONAL_SECOND = {
    "sklearn.metrics.pairwise_distances": ("metric",),
    "sklearn.metrics.pairwise.pairwise_distances": ("metric",),
    "sklearn.metrics.pairwise.euclidean_distances": ("squared",),
    "sklearn.metrics.euclidean_distances": ("squared",),
}
_EVERY_DISTANCE = {**_DISTANCES, **_SELF_DISTANCES, **_OPTIONAL_SECOND}
_ALIASES = {
    "torch.functional.norm": "torch.norm",
    "torch.pairwise_distance": "torch.nn.functional.pairwise_distance",
    "torch.nn.functional.pdist": "torch.pdist",
}
_OPERAND_KEYWORDS = ("input", "x", "x1", "A", "a", "u", "XA", "X")
_SECOND_KEYWORDS = ("other", "y", "x2", "v", "XB", "Y")
_EUCLIDEAN_P = {None, "2", "2.0", "'fro'", '"fro"', "None", "'euclidean'", '"euclidean"'}
_SQUARE_FUNCTIONS = {"torch.square", "numpy.square", "torch.pow", "numpy.power"}
_SUMMING = frozenset({"torch.Tensor.sum", "torch.sum", "numpy.sum"})
_AVERAGING = frozenset({"torch.Tensor.mean", "torch.mean", "numpy.mean"})
_MEAN_SQUARED_ERRORS = frozenset({"torch.nn.functional.mse_loss"})
_SQRT_FUNCTIONS = {"torch.sqrt", "numpy.sqrt", "math.sqrt"}


@dataclass(frozen=True)
class EuclideanOp:
    """One recognised Euclidean measurement at `node`.

    `kind` is "norm" (of `x`), "distance" (between `x` and `y`; a norm of `a - b` is a
    distance too) or "squared" (a squared distance or mean squared error). `function` uses
    the FixHint canonical names; `fixable` is False where no canonical rewrite exists
    (pdist, squared forms). `covers` is an inner node that is part of this operation (the
    sum under a square root), so it is not reported a second time.
    """

    node: cst.BaseExpression
    kind: str
    function: str
    x: cst.BaseExpression
    y: cst.BaseExpression | None
    dim: cst.BaseExpression | None
    keepdim: cst.BaseExpression | None
    p: cst.BaseExpression | None
    backend: str
    fixable: bool = True
    covers: cst.CSTNode | None = None


def match_euclidean(node: cst.CSTNode, imports: ImportMap, code: Callable[[cst.CSTNode], str]) -> EuclideanOp | None:
    """The Euclidean operation `node` performs, or None. `code` renders a node as source."""
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, cst.Power) and code(node.right).strip() in ("0.5", ".5"):
            return _sqrt_of_sum_of_squares(node, node.left, False, imports, code)
        return None
    if not isinstance(node, cst.Call):
        return None
    name = _callee(node, imports)
    if name in _SQRT_FUNCTIONS and node.args:
        return _sqrt_of_sum_of_squares(node, node.args[0].value, name.startswith("numpy"), imports, code)
    if name == "torch.Tensor.sqrt":
        return _sqrt_of_sum_of_squares(node, cast(cst.Attribute, node.func).value, False, imports, code)
    if name in _NORMS:
        return _norm(node, name, imports, code)
    if name in _EVERY_DISTANCE:
        return _distance(node, name, code)
    if name in _SUMMING or name in _AVERAGING:
        return _squared_difference(node, imports, code)
    if name in _MEAN_SQUARED_ERRORS:
        arguments = _arguments(node, ("input", "target"))
        if "input" in arguments and "target" in arguments:
            return EuclideanOp(node, "squared", name, arguments["input"], arguments["target"], None, None, None, "torch", fixable=False)
    return None


def match_loss_module_call(call: cst.Call) -> EuclideanOp | None:
    """`criterion(a, b)` once the caller knows `criterion` holds an `nn.MSELoss`: HYP003, as `F.mse_loss`."""
    arguments = _arguments(call, ("input", "target"))
    if "input" not in arguments or "target" not in arguments:
        return None
    return EuclideanOp(
        call, "squared", "torch.nn.MSELoss", arguments["input"], arguments["target"], None, None, None, "torch", fixable=False
    )


def _callee(call: cst.Call, imports: ImportMap) -> str | None:
    """Canonical name of what `call` calls; Tensor methods become `torch.Tensor.<method>`."""
    qualified = imports.qualify(call.func)
    if qualified is not None:
        return _ALIASES.get(qualified, qualified)
    if isinstance(call.func, cst.Attribute) and call.func.attr.value in ("norm", "sqrt", "sum", "mean", "pow", "square"):
        return f"torch.Tensor.{call.func.attr.value}"
    return None


def _arguments(call: cst.Call, positional_names: tuple[str, ...]) -> dict[str, cst.BaseExpression]:
    """Map the call's arguments onto `positional_names`, keywords by their own name."""
    values: dict[str, cst.BaseExpression] = {}
    position = 0
    for argument in call.args:
        if argument.star:
            continue
        if argument.keyword is not None:
            values[argument.keyword.value] = argument.value
        elif position < len(positional_names):
            values[positional_names[position]] = argument.value
            position += 1
    return values


def _norm(call: cst.Call, name: str, imports: ImportMap, code) -> EuclideanOp | None:
    options = _NORMS[name]
    operand: cst.BaseExpression | None
    if name == "torch.Tensor.norm":
        arguments = _arguments(call, options)
        operand = cast(cst.Attribute, call.func).value
    else:
        arguments = _arguments(call, ("__operand__", *options))
        operand = arguments.get("__operand__") or _first_keyword(arguments, _OPERAND_KEYWORDS)
    if operand is None:
        return None
    p = arguments.get(options[0])
    if p is not None and code(p).strip() not in _EUCLIDEAN_P:
        return None
    backend = "numpy" if name.startswith("numpy") else "torch"
    dim, keepdim = arguments.get(options[1]), arguments.get(options[2])
    left_right = _difference(operand)
    if left_right is not None:
        return EuclideanOp(call, "distance", name, *left_right, dim, keepdim, p, backend)
    return EuclideanOp(call, "norm", name, operand, None, dim, keepdim, p, backend)


def _distance(call: cst.Call, name: str, code) -> EuclideanOp | None:
    options = _EVERY_DISTANCE[name]
    pairwise_within = name in _SELF_DISTANCES
    operands = ("__x__",) if pairwise_within else ("__x__", "__y__")
    arguments = _arguments(call, (*operands, *options))
    x = arguments.get("__x__") or _first_keyword(arguments, _OPERAND_KEYWORDS)
    y = None if pairwise_within else arguments.get("__y__") or _first_keyword(arguments, _SECOND_KEYWORDS)
    if name in _OPTIONAL_SECOND:
        pairwise_within = y is None or code(y).strip() == "None"
        y = None if pairwise_within else y
    if x is None or (y is None and not pairwise_within):
        return None
    metric_or_p = arguments.get(options[0]) if options else None
    if metric_or_p is not None and code(metric_or_p).strip() not in _EUCLIDEAN_P:
        return None
    backend = "numpy" if name.startswith(("scipy", "sklearn", "math")) else "torch"
    p = metric_or_p if options and options[0] == "p" else None
    keepdim = arguments.get("keepdim")
    # no rewrite of plain Python sequences (`math.dist`) into a tensor function
    fixable = not pairwise_within and name not in _OPTIONAL_SECOND and name != "math.dist"
    return EuclideanOp(call, "distance", name, x, y, None, keepdim, p, backend, fixable=fixable)


def _sqrt_of_sum_of_squares(node, inner: cst.BaseExpression, numpy_sqrt: bool, imports: ImportMap, code) -> EuclideanOp | None:
    """`sqrt((x**2).sum(-1))`, `x.pow(2).sum(-1).sqrt()`, `torch.sum(x*x, dim=1) ** 0.5`, ..."""
    summed = _sum_of_squares(inner, imports, code, _SUMMING)
    if summed is None:
        return None
    operand, dim, keepdim, numpy_sum, _ = summed
    backend = "numpy" if numpy_sqrt or numpy_sum else "torch"
    left_right = _difference(operand)
    if left_right is not None:
        return EuclideanOp(node, "distance", "sqrt-sum-of-squares", *left_right, dim, keepdim, None, backend, covers=inner)
    return EuclideanOp(node, "norm", "sqrt-sum-of-squares", operand, None, dim, keepdim, None, backend, covers=inner)


def _squared_difference(call: cst.Call, imports: ImportMap, code) -> EuclideanOp | None:
    """`((a - b) ** 2).sum(-1)`, `(a - b).pow(2).mean()`: a squared distance, no square root."""
    summed = _sum_of_squares(call, imports, code, _SUMMING | _AVERAGING)
    if summed is None:
        return None
    operand, dim, keepdim, numpy_sum, _ = summed
    left_right = _difference(operand)
    if left_right is None:
        return None  # a squared radius: the conformal factor's ingredient, not a metric
    # A sum over the coordinates is a squared distance per point (fixable: the distance squared); a mean is not.
    summing = _callee(call, imports) in _SUMMING
    name = "sum-of-squared-differences" if summing else "mean-of-squared-differences"
    return EuclideanOp(call, "squared", name, *left_right, dim, keepdim, None, "numpy" if numpy_sum else "torch", fixable=summing)


def _sum_of_squares(node: cst.BaseExpression, imports: ImportMap, code, reductions: frozenset[str]):
    """(x, dim, keepdim, is_numpy, squared node) when `node` reduces the squares of x with one of `reductions`."""
    if not isinstance(node, cst.Call):
        return None
    name = _callee(node, imports)
    if name not in reductions:
        return None
    if name.startswith("torch.Tensor."):
        squared, arguments = cast(cst.Attribute, node.func).value, _arguments(node, ("dim", "keepdim"))
    elif node.args:
        squared = node.args[0].value
        arguments = _arguments(node, ("__operand__", "dim", "keepdim"))
        if name.startswith("numpy"):
            arguments = cast(
                "dict[str, cst.BaseExpression]",
                {"dim": arguments.get("axis", arguments.get("dim")), "keepdim": arguments.get("keepdims")},
            )  # a missing option stays None, as `.get` gives it below
    else:
        return None
    operand = _squared_operand(squared, imports, code)
    if operand is None:
        return None
    return operand, arguments.get("dim"), arguments.get("keepdim"), name.startswith("numpy"), squared


def _squared_operand(node: cst.BaseExpression, imports: ImportMap, code) -> cst.BaseExpression | None:
    """`x` when `node` squares it: `x**2`, `x*x`, `x.pow(2)`, `x.square()`, `torch.square(x)`, `torch.pow(x, 2)`."""
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, cst.Power) and code(node.right).strip() in ("2", "2.0"):
            return node.left
        if isinstance(node.operator, cst.Multiply) and code(node.left).strip() == code(node.right).strip():
            return node.left
        return None
    if not isinstance(node, cst.Call):
        return None
    name = _callee(node, imports)
    if name == "torch.Tensor.square" and not node.args:
        return cast(cst.Attribute, node.func).value
    if name == "torch.Tensor.pow" and len(node.args) == 1 and code(node.args[0].value).strip() in ("2", "2.0"):
        return cast(cst.Attribute, node.func).value
    if name in _SQUARE_FUNCTIONS and node.args:
        if name.endswith("square") and len(node.args) == 1:
            return node.args[0].value
        if len(node.args) == 2 and code(node.args[1].value).strip() in ("2", "2.0"):
            return node.args[0].value
    return None


def _difference(node: cst.BaseExpression) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Subtract):
        return node.left, node.right
    return None


def _first_keyword(arguments: dict[str, cst.BaseExpression], names: tuple[str, ...]) -> cst.BaseExpression | None:
    for name in names:
        if name in arguments:
            return arguments[name]
    return None


def operand_code(op: EuclideanOp, code: Callable[[cst.CSTNode], str]) -> tuple[str, str | None]:
    """Source of the measured operand(s), without surrounding parentheses."""
    return _strip_parentheses(code(op.x)), (_strip_parentheses(code(op.y)) if op.y is not None else None)


def _strip_parentheses(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if depth < 0:
            return False
    return depth == 0
