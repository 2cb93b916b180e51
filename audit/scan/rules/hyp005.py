"""HYP005 (preview): a hand-written Poincaré distance outside a geometry module."""

from __future__ import annotations

import re

from vaeaudit.scan.rules import Rule

_ACOSH = frozenset({"acosh", "arccosh", "arcosh"})
_ARTANH = frozenset({"atanh", "artanh", "arctanh"})
# 1 + 2‖x−y‖² / ((1−‖x‖²)(1−‖y‖²)), whatever the spelling of the norms
_ACOSH_FORM = re.compile(r"^1\+2\*.*/.*1-.*1-", re.DOTALL)
_MOBIUS_DIFFERENCE = re.compile(r"mobius_add\(-|mobius_sub\(|mobius_add\(\w+\(-", re.IGNORECASE)


def handwritten_distance(call, code) -> bool:
    """`acosh(1 + 2‖x−y‖²/((1−‖x‖²)(1−‖y‖²)))` or `artanh(‖−x ⊕ y‖)` (the 2· and 1/√c around it aside)."""
    from vaeaudit.scan.names import last_name

    name = last_name(call.func)
    if not call.args or name not in _ACOSH | _ARTANH:
        return False
    argument = "".join(code(call.args[0].value).split())
    if name in _ACOSH:
        return _ACOSH_FORM.search(argument.strip("()")) is not None
    return _MOBIUS_DIFFERENCE.search(argument) is not None


RULE = Rule(
    code="HYP005",
    name="hand-written-poincare-distance",
    summary="Hand-written Poincaré distance formula outside a geometry module",
    what=(
        "The Poincaré distance written out by hand, `acosh(1 + 2‖x−y‖² / ((1−‖x‖²)(1−‖y‖²)))` or "
        "`2·artanh(‖−x ⊕ y‖)` (Möbius form), in code that is not itself a geometry implementation (modules "
        "or classes that define the primitives, such as geoopt's, are not reported)."
    ),
    why=(
        "Both textbook forms cancel catastrophically in float32: measured on geoopt's Möbius/artanh form, the "
        "distance of random pairs at dist0 = 3 is 3.9e-6 off, at dist0 = 12 it is 0.32 off, and for close pairs it "
        "is about 8x wrong already at dist0 = 3; the acosh form loses the same digits in 1 − ‖x‖². `poincare_distance` "
        "uses the asinh form with float64 reductions and stays within 1e-7 (relative) up to dist0 = 15."
    ),
    example=("d = torch.acosh(1 + 2 * ((x - y) ** 2).sum(-1) / ((1 - (x ** 2).sum(-1)) * (1 - (y ** 2).sum(-1))))  # HYP005\n"),
    fix="Call `poincare_distance(x, y, c=...)`.",
    fixed_example=("d = poincare_distance(x, y, c=curvature)\n"),
    fix_safety="No automatic fix yet: the curvature and the exact form of a hand-written formula vary too much to rewrite blindly.",
    options="Preview rule: enable with `preview = true` or `--preview`.",
    trigger_words=(b"acosh", b"arccosh", b"arcosh", b"atanh", b"artanh", b"arctanh"),
    preview=True,
    message=lambda **_: "Hand-written Poincaré distance (loses precision in float32); use poincare_distance",
)
