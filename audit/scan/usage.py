"""Norms of ball points that are correct: decided by what the result is used for.

A Euclidean norm of a ball point is fine, and reporting it would be noise, when it:
- feeds hyperbolic math (`artanh`, `tanh`, `asinh`, ... or the conformal factor `1 - c‖x‖²`):
  the code implements the geometry;
- is compared with the boundary, `max_norm`/`max_radius`, or 1 (projection, clamping,
  ball-membership checks), or with a tolerance (convergence checks);
- divides the very tensor it measured (`z / z.norm()`: a direction);
- is clamped against the boundary (`clamp(norm, max=max_norm)`).
Wrappers that keep the meaning (`.clamp_min(eps)`, `+ eps`, `.unsqueeze(-1)`, `.max()`, ...)
are looked through; a result stored in a name is judged by every later use of that name.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import libcst as cst

from vaeaudit.scan.names import last_name
from vaeaudit.scan.tree import Ancestors

_HYPERBOLIC_MATH = frozenset(
    "tanh artanh atanh arctanh asinh arcsinh arsinh acosh arccosh arcosh sinh cosh".split()
)
_TRANSPARENT = frozenset(
    "clamp clamp_min clamp_max clamp_ clamp_min_ clip clip_ unsqueeze squeeze detach item float double view "
    "reshape expand expand_as add add_ to cpu max min amax amin all any maximum minimum".split()
)
_BOUNDARY = re.compile(r"max_?norm|max_?rad|radius_?max|max_?r\b|boundary|\bball|bound|maxnorm|limit|^\(?\s*1(\.0*)?\s*[-+]", re.IGNORECASE)
_TOLERANCE = re.compile(r"tol|eps|thresh|converge|delta", re.IGNORECASE)
_MAX_NAME_DEPTH = 2
_HYPERBOLIC_MATH_REASON = "implements hyperbolic math"
# Uses that read only the shape of a value, never its magnitude.
_SHAPE_ONLY_CALLS = frozenset("ones_like zeros_like empty_like full_like rand_like randn_like".split())
_SHAPE_ONLY_ATTRIBUTES = frozenset("shape dtype device ndim size dim".split())

UsesOf = Callable[[str], list[tuple[cst.Name, Ancestors]]]


class UsageJudge:
    """Answers "is this norm's result used in a way that makes it correct?"."""

    def __init__(self, code: Callable[[cst.CSTNode], str], uses_of: UsesOf) -> None:
        self.code = code
        self.uses_of = uses_of

    def exemption(self, node: cst.CSTNode, ancestors: Ancestors, measured: str, depth: int = 0) -> str | None:
        """Why the value at `node` (the norm of `measured`) is not a finding, or None."""
        for ancestor in ancestors:
            if isinstance(ancestor, cst.Call) and last_name(ancestor.func) in _HYPERBOLIC_MATH:
                return f"feeds {last_name(ancestor.func)}(): {_HYPERBOLIC_MATH_REASON}"
            if isinstance(ancestor, cst.BinaryOperation) and isinstance(ancestor.operator, cst.Subtract) and _number(self.code(ancestor.left)) == 1.0:
                return f"feeds 1 - ...: the conformal factor, {_HYPERBOLIC_MATH_REASON}"
        current = node
        for parent in reversed(ancestors):
            if isinstance(parent, (cst.Arg, cst.Element)):
                continue  # look at the call or container that holds the argument
            step = self._through_wrapper(parent, current)
            if step is True:
                current = parent
                continue
            if isinstance(step, str):
                return step
            return self._consumer(parent, current, ancestors, measured, depth)
        return None

    def _through_wrapper(self, parent: cst.CSTNode, current: cst.CSTNode) -> bool | str | None:
        """True to keep climbing, a reason string when the wrapper itself exempts, else None."""
        if isinstance(parent, cst.Attribute) and parent.value is current:
            return True  # judged at the method call that follows
        if isinstance(parent, cst.Call) and last_name(parent.func) in _TRANSPARENT:
            arguments = " ".join(self.code(argument) for argument in parent.args)
            if last_name(parent.func).startswith(("clamp", "clip", "min", "amin", "minimum")) and _BOUNDARY.search(arguments):
                return "clamped against the boundary: a projection"
            return True
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Add):
            other = parent.right if parent.left is current else parent.left
            if _number(self.code(other)) is not None or _TOLERANCE.search(self.code(other)):
                return True
        if isinstance(parent, cst.BinaryOperation) and (
            isinstance(parent.operator, cst.Multiply) or (isinstance(parent.operator, cst.Divide) and parent.left is current)
        ):
            return True  # scaling (`norm * sqrt(c)`) keeps what the value is compared with
        return None

    def _consumer(self, parent: cst.CSTNode, current: cst.CSTNode, ancestors: Ancestors, measured: str, depth: int) -> str | None:
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Divide) and parent.right is current:
            numerator = _bare(self.code(parent.left))
            if numerator == _bare(measured):
                return "divides the tensor it measures: direction normalisation"
            if _BOUNDARY.search(numerator):
                return "scales against the boundary: a projection"
            return None
        if isinstance(parent, cst.Comparison):
            return self._comparison(parent, current)
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is current and depth < _MAX_NAME_DEPTH:
            targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
            if len(targets) == 1 and isinstance(targets[0], cst.Name):
                return self._every_use(targets[0], measured, depth)
        return None

    def _comparison(self, comparison: cst.Comparison, current: cst.CSTNode) -> str | None:
        sides = [comparison.left, *(target.comparator for target in comparison.comparisons)]
        for side in sides:
            if side is current:
                continue
            text = self.code(side)
            value = _number(text)
            if value is not None and 0.9 <= value <= 1.0 or _BOUNDARY.search(text):
                return "compared with the ball's boundary: a membership/projection check"
            if value is not None and value <= 1e-2 or _TOLERANCE.search(text):
                return "compared with a tolerance: a convergence check"
        return None

    def _every_use(self, target: cst.Name, measured: str, depth: int) -> str | None:
        """Exempt when one use implements hyperbolic math, or every use is exempt by itself."""
        uses = [(use, above) for use, above in self.uses_of(target.value) if use is not target and not _shape_only(use, above)]
        if not uses:
            return None
        reasons = [self.exemption(use, above, measured, depth + 1) for use, above in uses]
        for reason in reasons:
            if reason is not None and _HYPERBOLIC_MATH_REASON in reason:
                return f"{target.value} {reason}"
        return None if None in reasons else f"{target.value} {reasons[0]}"


def _shape_only(use: cst.Name, ancestors: Ancestors) -> bool:
    parent = ancestors[-1] if ancestors else None
    if isinstance(parent, cst.Attribute) and parent.value is use:
        return parent.attr.value in _SHAPE_ONLY_ATTRIBUTES
    if isinstance(parent, cst.Arg) and len(ancestors) > 1 and isinstance(ancestors[-2], cst.Call):
        return last_name(ancestors[-2].func) in _SHAPE_ONLY_CALLS
    return False


def _number(text: str) -> float | None:
    try:
        return float(text.strip().strip("()"))
    except ValueError:
        return None


def _bare(text: str) -> str:
    return "".join(text.split()).strip("()")
