"""HYP005 (preview): a hand-written Poincaré distance outside a geometry module."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator

from vaeaudit.scan.rules import Rule

_ACOSH = frozenset({"acosh", "arccosh", "arcosh"})
_ARTANH = frozenset({"atanh", "artanh", "arctanh"})
# 1 + 2‖x−y‖² / ((1−‖x‖²)(1−‖y‖²)), whatever the spelling of the norms
_ACOSH_FORM = re.compile(r"^1\+2\*.*/.*1-.*1-", re.DOTALL)
_MOBIUS_DIFFERENCE = re.compile(r"mobius_add\(-|mobius_sub\(|mobius_add\(\w+\(-", re.IGNORECASE)
# ‖u−v‖² / ((1−‖u‖²)(1−‖v‖²)) on one whitespace-free statement: a division by the product of the two
# conformal factors (or by each in turn). Only the Poincaré distance divides by both.
_FACTOR = r"\(1(?:\.0*)?-"  # (1−…, also spelled (1.0−…
_FACTOR_IN_TEXT = re.compile(r"\(\s*1(?:\.0*)?\s*-")  # the same before whitespace is taken out
_CONFORMAL_DENOMINATOR = re.compile(rf"/\({_FACTOR}.*\)\*{_FACTOR}|/{_FACTOR}.*\)/{_FACTOR}")
# The same product bound to a name first (`denom = max((1.0 - sq_u) * (1.0 - sq_v), eps)`), divided by later.
_CONFORMAL_PRODUCT = re.compile(rf"{_FACTOR}.*\)\*{_FACTOR}")
# A statement `name = value` of one target, whitespace-free: what `name` is made of.
_ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)(?::[^=]+)?=(?!=)(.+)$")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# Parameters of a distance that are no points: the curvature, a tolerance.
_SCALAR_PARAMETER = re.compile(r"^(c|k|kappa|curv|curvature|eps|epsilon|tol|dim|keepdim)$", re.IGNORECASE)


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


def spells_poincare_distance(code: str) -> bool:
    """Whether some statement of `code` divides by (1−‖u‖²)(1−‖v‖²), the heart of the Poincaré distance
    (however its arcosh is spelled: `log(x + sqrt(x² − 1))` too). Asked of every analysed file: most have no
    conformal factor at all, which one search of the raw text tells."""
    return _FACTOR_IN_TEXT.search(code) is not None and bool(_spelling(list(_statements(code))))


def _spelling(statements: list[str]) -> list[str]:
    """The statements that divide by the product of the two conformal factors, spelled out or bound to a name."""
    products = {match[1] for statement in statements if (match := _ASSIGNMENT.match(statement)) and _CONFORMAL_PRODUCT.search(match[2])}
    divisors = re.compile(rf"/({'|'.join(map(re.escape, products))})\b") if products else None
    return [
        statement
        for statement in statements
        if _CONFORMAL_DENOMINATOR.search(statement) or (divisors is not None and divisors.search(statement))
    ]


def distance_operands(code: str, params: tuple[str, ...]) -> tuple[str, str] | None:
    """The two parameters whose Poincaré distance a function's `code` spells out, when exactly two reach the
    division by (1−‖u‖²)(1−‖v‖²), directly or through the names the function assigns on the way
    (`sq_u = np.sum(u ** 2)`; `denom = (1 - sq_u) * (1 - sq_v)`): those are the points it takes."""
    statements = list(_statements(code))
    made_of: dict[str, set[str]] = {}
    for statement in statements:
        assignment = _ASSIGNMENT.match(statement)
        if assignment is not None:
            made_of.setdefault(assignment[1], set()).update(_IDENTIFIER.findall(assignment[2]))
    reached: set[str] = set()
    todo = [name for statement in _spelling(statements) for name in _IDENTIFIER.findall(statement)]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(made_of.get(name, ()))
    operands = tuple(param for param in params if param in reached and not _SCALAR_PARAMETER.match(param))
    return (operands[0], operands[1]) if len(operands) == 2 else None


def divides_by_conformal_factors(denominator: str) -> bool:
    """Whether `denominator` (the code right of a `/`) is the product (1−‖u‖²)(1−‖v‖²)."""
    return _CONFORMAL_DENOMINATOR.match("/" + "".join(denominator.split())) is not None


def _statements(code: str) -> Iterator[str]:
    """Logical lines without whitespace or comments: a statement continued inside brackets is one."""
    statement, depth = "", 0
    for line in _without_comments(code).splitlines():
        statement += "".join(line.split())
        depth += line.count("(") + line.count("[") - line.count(")") - line.count("]")
        if depth <= 0:
            yield statement
            statement, depth = "", 0
    if statement:
        yield statement


def _without_comments(code: str) -> str:
    """`code` without its comments: a formula written in a comment is no distance the code computes (and an edit
    of comments alone must leave the findings as they were: `vaeaudit.scan.fingerprint`). Only asked of text
    with a conformal factor in it, so tokenizing costs little; text the tokenizer rejects loses every `#…`."""
    if "#" not in code:
        return code
    lines = io.StringIO(code).readlines()
    try:
        comments = [token.start for token in tokenize.generate_tokens(io.StringIO(code).readline) if token.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        return re.sub(r"#[^\n]*", "", code)
    for line, column in comments:
        text = lines[line - 1]
        lines[line - 1] = text[:column] + ("\n" if text.endswith("\n") else "")
    return "".join(lines)


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
