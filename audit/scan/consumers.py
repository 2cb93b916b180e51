"""Calls that only make sense on ball points: their arguments are evidence.

`poincare_distance(x, y)`, `mobius_add(x, y)`, `log_map_zero(z)`, `manifold.dist(x, y)`
take Poincaré-ball points; whoever passes a name to one of them says that name holds
ball points (consumer evidence), so a Euclidean norm of the same binding elsewhere in
the function is a radius taken the wrong way. Generic method names (`dist`, `expmap`,
`logmap`) count only on a receiver named like a manifold, never on torch/numpy/scipy.
"""

from __future__ import annotations

import re

import libcst as cst

from vaeaudit.scan.names import ImportMap, last_name
from vaeaudit.scan.vocabulary import MANIFOLD_RECEIVER

# last name -> positions of the arguments that must be ball points
_ALWAYS = {
    "poincare_distance": (0, 1),
    "poincare_distance_matrix": (0, 1),
    "poincare_radius": (0,),
    "dist0": (0,),
    "mobius_add": (0, 1),
    "mobius_scalar_mul": (1,),
    "mobius_matvec": (1,),
    "log_map_zero": (0,),
    "logmap0": (0,),
    "lambda_x": (0,),
    "gyration": (0, 1),
}
# A function so named defines that operation (a project's own `poincare_distance_matrix`): its norms are its formula.
DEFINED_OPERATIONS = frozenset(_ALWAYS)
_ON_MANIFOLD = {
    "dist": (0, 1),
    "sqdist": (0, 1),
    "dist2": (0, 1),
    "log_map": (0, 1),
    "logmap": (0, 1),
    "exp_map": (0,),
    "expmap": (0,),
    "egrad2rgrad": (0,),
    "geodesic": (1, 2),  # geodesic(t, x, y)
    "transp": (0, 1),  # transp(x, y, v)
}
# Tensors declared to lie on a manifold (geoopt, hypll): the data given are the points' coordinates.
DECLARING = frozenset({"ManifoldTensor", "ManifoldParameter"})
_MANIFOLD_RECEIVER = re.compile(MANIFOLD_RECEIVER, re.IGNORECASE)
_LIBRARIES = ("torch.", "numpy.", "scipy.", "sklearn.")


def is_manifold(receiver: cst.BaseExpression) -> bool:
    """`manifold`, `self.ball`, `sball`: an object named like a manifold."""
    receiver_name = last_name(receiver) if isinstance(receiver, (cst.Name, cst.Attribute)) else None
    return receiver_name is not None and _MANIFOLD_RECEIVER.search(receiver_name) is not None


def consumed_arguments(call: cst.Call, imports: ImportMap) -> list[tuple[cst.BaseExpression, str]]:
    """(argument, callee text) for each argument of `call` that must be a ball point."""
    name = imports.called_name(call.func)
    if name is None:
        return []  # no callee name: in neither table
    positions = _ALWAYS.get(name)
    if name in DECLARING and _declares_a_ball(call, imports):
        positions = (0,)
    if positions is None and name in _ON_MANIFOLD and isinstance(call.func, cst.Attribute) and is_manifold(call.func.value):
        positions = _ON_MANIFOLD[name]
    if positions is None:
        return []
    qualified = imports.qualify(call.func)
    if qualified is not None and qualified.startswith(_LIBRARIES):
        return []
    positional = [argument.value for argument in call.args if argument.keyword is None and not argument.star]
    return [(positional[index], name) for index in positions if index < len(positional)]


# Exp maps at the origin take a tangent vector (`expmap0(v)`, `exp_map_zero(v)`, hyper-rl's `manifold.expmap_0(v)`):
# a name passed there is Euclidean. One also passed to a ball consumer is the code's own confusion (hyper-rl's
# `get_delta(embedding, manifold)` beside `manifold.expmap_0(embedding)`): that evidence proves nothing.
_EXP_MAP_AT_ORIGIN = re.compile(r"exp_?map_?(0|zero)", re.IGNORECASE)


def tangent_arguments(call: cst.Call, imports: ImportMap) -> list[cst.BaseExpression]:
    """The argument of `call` that an exp map at the origin takes as a tangent vector (none for torch/numpy calls)."""
    name = imports.called_name(call.func)
    if name is None or not _EXP_MAP_AT_ORIGIN.fullmatch(name):
        return []
    qualified = imports.qualify(call.func)
    if qualified is not None and qualified.startswith(_LIBRARIES):
        return []
    positional = [argument.value for argument in call.args if argument.keyword is None and not argument.star]
    return positional[:1]


def _declares_a_ball(call: cst.Call, imports: ImportMap) -> bool:
    """`ManifoldTensor(x, manifold=ball)` (hypll also takes the manifold second): x holds the ball's points
    when the manifold is named like one or built as one here (`geoopt.PoincareBall()`)."""
    declared = declared_manifold(call, imports)
    if isinstance(declared, cst.Call):
        return (last_name(declared.func) or "") in _BALLS
    return declared is not None and is_manifold(declared)


_BALLS = frozenset({"PoincareBall", "PoincareBallExact"})


def declared_manifold(call: cst.Call, imports: ImportMap) -> cst.BaseExpression | None:
    """The manifold a `ManifoldTensor(...)`/`ManifoldParameter(...)` call declares, or None."""
    if imports.called_name(call.func) not in DECLARING:
        return None
    positional = [argument.value for argument in call.args if argument.keyword is None and not argument.star]
    declared = next(
        (argument.value for argument in call.args if argument.keyword is not None and argument.keyword.value == "manifold"), None
    )
    return positional[1] if declared is None and len(positional) > 1 else declared
