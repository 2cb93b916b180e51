"""HYP004 (preview): a Euclidean mean of ball points used as a centroid."""

from __future__ import annotations

import re

from vaeaudit.scan.rules import Rule

_CENTROID_NAME = re.compile(r"centroid|cent(er|re)|proto|barycent|anchor|cluster|mean_point|midpoint", re.IGNORECASE)
_MEAN_FUNCTIONS = frozenset({"mean", "average", "nanmean"})
_DISTANCE_CALLS = frozenset({"poincare_distance", "poincare_distance_matrix", "dist", "sqdist", "cdist", "mobius_add", "logmap", "log_map"})


def centroid_operand(call, ancestors, code):
    """The averaged operand when `call` is a mean used as a centroid, else None.

    A centroid use: stored under a centroid-like name (`centroid = z.mean(0)`), measured
    against (`poincare_distance(x, z.mean(0))`), or subtracted from points (`z - z.mean(0)`).
    """
    import libcst as cst

    from vaeaudit.scan.names import last_name

    name = last_name(call.func)
    if name not in _MEAN_FUNCTIONS:
        return None
    if (
        isinstance(call.func, cst.Attribute)
        and name == "mean"
        and not (isinstance(call.func.value, cst.Name) and call.func.value.value in ("np", "numpy", "torch"))
    ):
        operand = call.func.value
    elif call.args:
        operand = call.args[0].value
    else:
        return None
    current = call
    for parent in reversed(ancestors):
        if isinstance(parent, (cst.Arg, cst.Element)):
            continue
        if isinstance(parent, cst.Call) and last_name(parent.func) in _DISTANCE_CALLS:
            return operand
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Subtract):
            return operand
        if isinstance(parent, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
            return operand if any(_CENTROID_NAME.search(code(target)) for target in targets) else None
        if isinstance(parent, cst.Call) and last_name(parent.func) in ("unsqueeze", "view", "reshape", "detach", "to"):
            current = parent
            continue
        if isinstance(parent, cst.Attribute) and parent.value is current:
            continue
        return None
    return None


RULE = Rule(
    code="HYP004",
    name="euclidean-mean-as-centroid",
    summary="Euclidean mean of Poincaré-ball points used as a centroid or prototype",
    what=(
        "A Euclidean average (`z.mean(dim=0)`, `torch.mean(z, 0)`, `np.mean(z, axis=0)`) of tensors that hold "
        "Poincaré-ball points, used as a centre: stored under a name like `centroid`/`center`/`prototype`, "
        "subtracted from points, or measured against with a distance."
    ),
    why=(
        "The Euclidean mean of ball points stays inside the ball, but it is not their hyperbolic centre: it is "
        "pulled towards the origin, the more the nearer the points lie to the boundary, so it is not the point "
        "that minimises hyperbolic distances to them (the tests of `poincare_midpoint` show the gap exceeds 0.1 for "
        "two points at dist0 ≈ 6). Prototypes, cluster centres and centring computed this way carry that bias into "
        "every distance measured from them."
    ),
    example=("z = exp_map_zero(mu)\ncentroid = z.mean(dim=0)  # HYP004\n"),
    fix="Use the hyperbolic midpoint `poincare_midpoint(z, dim=0, c=...)` (the Einstein midpoint, optionally weighted).",
    fixed_example=(
        "from vaeaudit.geometry import poincare_midpoint\n\nz = exp_map_zero(mu)\ncentroid = poincare_midpoint(z, dim=0, c=curvature)\n"
    ),
    fix_safety="No automatic fix yet: the midpoint takes a curvature and, for weighted means, weights the rewrite cannot always see.",
    options="Preview rule: enable with `preview = true` or `--preview`. Ball points are recognised as for HYP001.",
    trigger_words=(b"mean", b"average"),
    preview=True,
    message=lambda x, **_: f"Euclidean mean of ball points `{x}` used as a centroid; use poincare_midpoint",
)
