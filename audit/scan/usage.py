"""Norms of ball points that are correct: decided by what the result is used for.

A Euclidean norm of a ball point is fine, and reporting it would be noise, when it:
- feeds hyperbolic math (`artanh`, `tanh`, `asinh`, ... or the conformal factor `1 - c‖x‖²`):
  the code implements the geometry; or an angle (`arccos`, `arcsin`: the ball is conformal);
- is compared with the boundary, `max_norm`/`max_radius` (or an annulus' `min_norm`), or 1 (projection, clamping,
  ball-membership checks), or with a tolerance (convergence checks);
- divides the very tensor it measured (`z / z.norm()`: a direction);
- is clamped against the boundary (`clamp(norm, max=max_norm)`).
- divides another tensor (`x / y.norm()`: rescaling), or is subtracted from the boundary
  (`max_norm - z.norm()`: a margin);
- (a radius only) is reduced to indices (`argmin`, `argmax`, `argsort`): the hyperbolic radius
  d = (2/√c)·artanh(√c·r) is increasing in r, so the points come in the same order. A distance
  between two points has no such link to its Euclidean counterpart: its ranking stays a finding.
Wrappers that keep the meaning (`.clamp_min(eps)`, `+ eps`, `.unsqueeze(-1)`, `.max()`, `mm(n, n.t())`, ...)
are looked through; a result stored in a name is judged by every use *of that binding*
(an earlier `norms = None` is another binding). Apart from the use, the place can make a
Euclidean norm deliberate (`deliberately_euclidean`, `euclidean_context`): assertions and
`pytest.raises` blocks (they check coordinates), results stored under Euclidean names
(`euc_dist`, a baseline beside the hyperbolic number), and the Euclidean branch of
`if c == 0:` / `if use_hyperbolic: ... else:`, and a difference norm a test module prints
(how far two computations of one point disagree).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple, cast

import libcst as cst

from vaeaudit.scan.names import last_name
from vaeaudit.scan.rules.hyp005 import divides_by_conformal_factors
from vaeaudit.scan.tree import Ancestors, Place, names_within, walk

# Inverse hyperbolic functions turn a Euclidean quantity of ball points into a distance (dist0 = 2 artanh ‖x‖,
# acosh(1 + 2‖x−y‖² / ...)): a norm feeding one implements the geometry. The forward functions (sinh, tanh) take
# a distance or a tangent length: a ball point's Euclidean norm fed to one is measured as if it were a distance.
_HYPERBOLIC_MATH = frozenset("artanh atanh arctanh asinh arcsinh arsinh acosh arccosh arcosh artan_k arsin_k".split())
# Inverse circular functions take the cosine or sine of an angle (entailment cones' arccos/arcsin closed forms):
# the ball is conformal, so the angles its Euclidean formulas compute are the hyperbolic ones.
_ANGLE_MATH = frozenset("arccos acos arcsin asin".split())
_LOGARITHMS = frozenset({"log"})
_SQUARE = re.compile(r"\*\*2(?![\d.])|pow\(2\)|square|sqnorm|sq_norm|norm_sq", re.IGNORECASE)  # spelled without spaces
_TRANSPARENT = frozenset(
    "clamp clamp_min clamp_max clamp_ clamp_min_ clip clip_ unsqueeze squeeze detach item float double view "
    "reshape expand expand_as add add_ to cpu numpy tolist max min amax amin all any maximum minimum square pow sqrt abs "
    "asarray array as_tensor tensor to_np to_numpy tonumpy asnumpy "  # conversions keep the meaning
    "t transpose mm outer matmul copy clone".split()  # a product of norms (`mm(n, n.t())`) is judged where it goes, as `*` is
)
_BOUNDARY = re.compile(
    r"m(ax|in)_?(\w+_)?norm|m(ax|in)_?(\w+_)?rad|inner_?rad|radius_?max|max_?r\b|\br_?max\b|boundary|\bball|bound|maxnorm|limit|^\(?\s*1(\.0*)?\s*[-+]",
    re.IGNORECASE,
)
# A denominator `1 - c‖x‖²` (written out or bound to a name first): the ball's conformal factor.
_ONE_MINUS = re.compile(r"\(*1(\.0*)?-")
_TOLERANCE = re.compile(r"tol|eps|thresh|converge|delta", re.IGNORECASE)
_SMALL_CONSTANT = re.compile(r"(eps|epsilon|tol|tiny)\w*$", re.IGNORECASE)  # `r + eps`, `r + self.epsilon`
# How many names a norm's value may pass through before its use is judged: a hand-written distance
# often spells `gap -> scaled -> arg -> arg = max(arg, 1)` before its arccosh.
_MAX_NAME_DEPTH = 4
_HYPERBOLIC_MATH_REASON = "implements hyperbolic math"
# Uses that read only the shape of a value, never its magnitude.
_SHAPE_ONLY_CALLS = frozenset("ones_like zeros_like empty_like full_like rand_like randn_like".split())
_SHAPE_ONLY_ATTRIBUTES = frozenset("shape dtype device ndim size dim".split())
# Comparisons that only order two values (`anc_norm < desc_norm`): the hyperbolic radius is increasing in the
# Euclidean one, so two radii of one ball compare the same way in both metrics.
_ORDERING = (cst.LessThan, cst.GreaterThan, cst.LessThanEqual, cst.GreaterThanEqual)
_NORM_CALL = re.compile(r"\bnorm\s*\(")
# Reductions to indices only: the order of radii is the same in both metrics (`sort`/`topk` also return values).
_RANKING_CALLS = frozenset("argmin argmax argsort nanargmin nanargmax argpartition".split())
# matplotlib's axis limits: a plot of the disk frames its points by their Euclidean extent (`max_r = norms.max()`).
_AXIS_LIMITS = frozenset("set_xlim set_ylim set_zlim xlim ylim set_rmax set_rlim".split())
# Statistics of ranks only (scipy.stats): a rank correlation of radii is the one of hyperbolic radii.
_RANK_STATISTICS = frozenset("spearmanr kendalltau weightedtau rankdata".split())

UsesOf = Callable[[str, cst.CSTNode], list[tuple[cst.Name, Ancestors]]]
ValueBefore = Callable[[cst.Name], "cst.BaseExpression | None"]  # the value last assigned to a loaded name
# Every call of the scope's function, when the file holds them all; None when it may not (`Analyzer._call_sites`).
CallSites = Callable[[], "list[tuple[cst.Call, Ancestors]] | None"]
_CURVATURE = re.compile(r"^(c|k|kappa|curv|curvature|self\.c|self\.k|self\.curvature)$|curvature", re.IGNORECASE)
_HYPERBOLIC_FLAG = re.compile(r"hyp|poincar|manifold|(?<![a-z])(man|ball)(?![a-z])", re.IGNORECASE)  # `man = self._man()`
_EUCLIDEAN_FLAG = re.compile(r"euclid|(?<![a-z])eucl?(?![a-z])|flat", re.IGNORECASE)
# Attributes only a hyperbolic object has (its manifold, or a primitive of the geometry).
_HYPERBOLIC_ATTRIBUTE = re.compile(r"hyp|poincar|manifold|curv|dist0|expmap|logmap|exp_map|log_map|mobius|lambda_x", re.IGNORECASE)
_CHECKS = frozenset("raises warns assertRaises".split())
_REPORTING = frozenset("print info debug warning log".split())
# pytest's default `python_files` (`test_*.py`, `*_test.py`) and its `conftest.py`; a folder name alone
# says nothing (fixture trees and helpers live under `tests/` too).
_TEST_FILE = re.compile(r"(?:^|[\\/])(?:test_[^\\/]*|[^\\/]*_test|conftest)\.py$")


class UsageJudge:
    """Answers "is this norm's result used in a way that makes it correct?"."""

    def __init__(
        self,
        code: Callable[[cst.CSTNode], str],
        uses_of: UsesOf,
        value_before: ValueBefore | None = None,
        is_euclidean_name: Callable[[str], bool] | None = None,
        call_sites: CallSites | None = None,
    ) -> None:
        self.code = code
        self.uses_of = uses_of
        self.value_before = value_before
        self.is_euclidean_name = is_euclidean_name
        self.call_sites = call_sites

    def exemption(
        self,
        node: cst.CSTNode,
        ancestors: Ancestors,
        measured: str,
        depth: int = 0,
        *,
        radius: bool = False,
        squared: bool = False,
        ordered: bool = True,
    ) -> str | None:
        """Why the value at `node` (the norm of `measured`; `radius`: of one point, not of a difference; `squared`:
        squared on its way here, through a name; `ordered`: nothing on the way mixed it with another quantity, so it
        still ranks points as their radii do) is not a finding, or None."""
        checked = _assertion(ancestors, self.code, self.value_before)
        if checked is not None:
            return checked
        for index, ancestor in enumerate(ancestors):
            if isinstance(ancestor, cst.Call) and last_name(ancestor.func) in _HYPERBOLIC_MATH:
                return f"feeds {last_name(ancestor.func)}(): {_HYPERBOLIC_MATH_REASON}"
            logarithm = isinstance(ancestor, cst.Call) and last_name(ancestor.func) in _LOGARITHMS
            if logarithm and self._beside_log_conformal(cast(cst.Call, ancestor), ancestors[:index]):
                return f"its log meets log(1 - |x|^2), a Busemann function: {_HYPERBOLIC_MATH_REASON}"
            if isinstance(ancestor, cst.Call) and last_name(ancestor.func) in _ANGLE_MATH and self._in_a_ratio(ancestors[index + 1 :]):
                return f"feeds the ratio of {last_name(ancestor.func)}(), an angle the conformal ball keeps: {_HYPERBOLIC_MATH_REASON}"
            if (
                radius
                and isinstance(ancestor, cst.BinaryOperation)
                and isinstance(ancestor.operator, cst.Subtract)
                and _number(self.code(ancestor.left)) == 1.0
                and (
                    squared or self._squared_within(node, ancestors, index) or self._times_one_plus(ancestor, ancestors[index - 1 : index])
                )
            ):  # `1 - c‖x‖²`, `(1 - r)(1 + r)`; not `1 - r` (a loss that pushes radii outwards), `1 - r / r.max()` (a rank)
                return f"feeds 1 - c|x|^2: the conformal factor, {_HYPERBOLIC_MATH_REASON}"
            if (
                isinstance(ancestor, cst.BinaryOperation)
                and isinstance(ancestor.operator, cst.Subtract)
                and _BOUNDARY.search(self.code(ancestor.left))
            ):
                return "subtracted from the boundary: a margin"
        current = node
        for index in range(len(ancestors) - 1, -1, -1):
            parent = ancestors[index]
            if isinstance(parent, (cst.Arg, cst.Element, cst.ComparisonTarget)):
                continue  # look at the call, container or comparison that holds the value
            if radius and isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Multiply):
                other = parent.right if parent.left is current else parent.left
                if _bare(self.code(other)) == _bare(measured) and self._ratio(current):
                    return "a ratio of radii scales the tensor it measures: the point is moved along its direction"
            step = self._through_wrapper(parent, current)
            if step is _CLAMPED_NEAR_ONE:
                # `direction * min(norm, 0.95)` builds a point at a radius inside the ball; a capped radius put to
                # another use (`capped = min(norm, 0.9)`) is still a radius
                scaled = index > 0 and isinstance(ancestors[index - 1], cst.BinaryOperation)
                if scaled and isinstance(cast(cst.BinaryOperation, ancestors[index - 1]).operator, cst.Multiply):
                    return "a radius clamped inside the ball scales a direction: a projection"
                step = True
            if step is True:
                squared = squared or self._squares(parent, (node, current))
                ordered = ordered and self._keeps_order(parent, current)
                current = parent
                continue
            if isinstance(step, str):
                return step
            return self._consumer(parent, current, ancestors, measured, depth, radius, squared, ordered)
        return None

    def _ratio(self, factor: cst.CSTNode) -> bool:
        """`r_new / r`, `scale[:, None]` with `scale = r_new / r`: a ratio of two quantities, the factor that moves a
        point to a new radius (`z * (r_new / r)`, a projection); not `r`, `2 * r` or `r / 2` (a radius put to use)."""
        while isinstance(factor, cst.Subscript):
            factor = factor.value
        if isinstance(factor, cst.Name) and self.value_before is not None:
            factor = self.value_before(factor) or factor
        return (
            isinstance(factor, cst.BinaryOperation) and isinstance(factor.operator, cst.Divide) and _number(self.code(factor.right)) is None
        )

    def _squares(self, node: cst.CSTNode, values: tuple[cst.CSTNode, ...]) -> bool:
        """`n ** 2`, `n.pow(2)`, `torch.pow(n, exponent=2)`, `np.square(n)`, `c * n * n`: the value is squared here,
        spelled as one of `values` (the measured value, or what wraps it: `r.clamp_min(eps) * r.clamp_min(eps)`)."""
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.operator, cst.Power):
                return _number(self.code(node.right)) == 2.0
            if not isinstance(node.operator, cst.Multiply):
                return False
            factors = [self.code(factor) for factor in _factors(node)]  # spelled only for a product: few are
            return any(factors.count(self.code(value)) >= 2 for value in values)
        if isinstance(node, cst.Call) and last_name(node.func) in ("square", "pow", "power"):
            if last_name(node.func) == "square":
                return True
            positional = [argument.value for argument in node.args if argument.keyword is None]
            named = [argument.value for argument in node.args if argument.keyword is not None and argument.keyword.value == "exponent"]
            exponent = (named or positional)[-1:]  # `torch.pow(n, exponent=2)`, `n.pow(2)`, `np.power(n, 2)`
            return bool(exponent) and _number(self.code(exponent[0])) == 2.0
        return False

    def _squared_within(self, node: cst.CSTNode, ancestors: Ancestors, index: int) -> bool:
        """Squared between the subtraction at `ancestors[index]` and the value at `node`."""
        path = [*ancestors[index + 1 :], node]
        return any(self._squares(below, (node, child)) for below, child in zip(path, path[1:], strict=False))

    def _times_one_plus(self, difference: cst.BinaryOperation, above: Ancestors) -> bool:
        """`(1 - r) * (1 + r)`: the conformal factor 1 - r² written as a product."""
        if not above or not isinstance(above[0], cst.BinaryOperation) or not isinstance(above[0].operator, cst.Multiply):
            return False
        product = cast(cst.BinaryOperation, above[0])
        other = product.right if product.left is difference else product.left
        return (
            isinstance(other, cst.BinaryOperation)
            and isinstance(other.operator, cst.Add)
            and _number(self.code(other.left)) == 1.0
            and self.code(other.right) == self.code(difference.right)
        )

    def _beside_log_conformal(self, log: cst.Call, above: Ancestors) -> bool:
        """`-log(‖p - x‖²) + log(1 - ‖x‖²)`: the `log` this value feeds is added to, or subtracted from, the log of a
        conformal factor (signs looked through): the Busemann function of horospherical prototypes written as logs."""
        current: cst.CSTNode = log
        for node in reversed(above):
            if isinstance(node, cst.UnaryOperation):
                current = node
                continue
            if not isinstance(node, cst.BinaryOperation) or not isinstance(node.operator, (cst.Add, cst.Subtract)):
                return False
            return _log_of_a_conformal_factor(node.right if node.left is current else node.left, self.code)
        return False

    def _in_a_ratio(self, below: Ancestors) -> bool:
        """On its way to an angle's arccos/arcsin the norm meets a ratio of measured quantities: the cosine
        `<x, y> / (‖x‖ ‖x − y‖ ...)` of a closed form (entailment cones), not the arcsin of a bare radius or of a
        chord halved (`‖x − y‖ / 2`)."""
        return any(
            isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide) and _number(self.code(node.right)) is None
            for node in below
        )

    def _through_wrapper(self, parent: cst.CSTNode, current: cst.CSTNode) -> bool | str | None:
        """True to keep climbing, a reason string when the wrapper itself exempts, `_CLAMPED_NEAR_ONE` when
        it clamps the value just inside the ball (what that builds decides), else None."""
        if isinstance(parent, cst.Attribute) and parent.value is current:
            return True  # judged at the method call that follows
        if isinstance(parent, cst.Subscript) and parent.value is current:
            return True  # some of the same values (`radii[mask, None]`): judged where they go
        if isinstance(parent, cst.Call) and last_name(parent.func) in _TRANSPARENT:
            name = cast("str", last_name(parent.func))
            others = [argument for argument in parent.args if argument.value is not current]
            if name.startswith(("clamp", "clip", "min", "amin", "minimum")):
                if _BOUNDARY.search(" ".join(self.code(argument.value) for argument in others)):
                    return "clamped against the boundary: a projection"
                if _bound_near_one(parent, name, others, self.code):
                    return _CLAMPED_NEAR_ONE
            return True
        if isinstance(parent, cst.IfExp) and parent.test is not current:
            return True  # one arm of `a if cond else b`: judged where the choice goes
        if isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, (cst.Minus, cst.Plus)):
            return True  # `-lim`: the same number, judged where it goes
        if isinstance(parent, (cst.ListComp, cst.GeneratorExp, cst.SetComp)) and parent.elt is current:
            return True  # the values of a comprehension are judged where it goes
        if isinstance(parent, cst.DictComp) and parent.value is current:
            return True
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, (cst.Add, cst.Subtract)):
            return True  # a term of a sum (`‖x‖² + eps`, the closed form of a cone's angle) is judged where the sum goes
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Multiply):
            other = parent.right if parent.left is current else parent.left
            inverse = _inverse_hyperbolic_call(other)
            if inverse is not None:
                return f"multiplies {inverse}(): {_HYPERBOLIC_MATH_REASON}"  # `‖a‖ * asinh(...)` of hyperbolic MLR
            return True  # scaling (`norm * sqrt(c)`) keeps what the value is compared with
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Divide) and parent.left is current:
            if divides_by_conformal_factors(self.code(parent.right)):
                return f"divided by the conformal factors (1 - |x|^2)(1 - |y|^2): {_HYPERBOLIC_MATH_REASON}"
            if _ONE_MINUS.match("".join(self._spelled(parent.right).split())):
                return f"divided by a conformal factor 1 - c|x|^2 (a Busemann function, a kernel): {_HYPERBOLIC_MATH_REASON}"
            return True
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Power) and parent.left is current:
            return True  # a squared norm is judged where it goes (the `‖x−y‖²` of a hand-written distance)
        return None

    def _keeps_order(self, parent: cst.CSTNode, current: cst.CSTNode) -> bool:
        """A sum, difference or product with a constant (`r + eps`, `1 - r`, `2 * r`) ranks points as `r` does (or in
        reverse); one with another quantity (`r_z - r_w`, `r + noise`) does not."""
        if not isinstance(parent, cst.BinaryOperation):
            return True
        other = parent.right if parent.left is current else parent.left
        text = self.code(other)
        return _number(text) is not None or _SMALL_CONSTANT.match(text.rpartition(".")[2]) is not None

    def _consumer(
        self,
        parent: cst.CSTNode,
        current: cst.CSTNode,
        ancestors: Ancestors,
        measured: str,
        depth: int,
        radius: bool,
        squared: bool,
        ordered: bool,
    ) -> str | None:
        divided = None
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Divide) and parent.right is current:
            divided = parent.left
        elif isinstance(parent, cst.AugAssign) and isinstance(parent.operator, cst.DivideAssign) and parent.value is current:
            divided = parent.target  # `embeddings /= np.linalg.norm(embeddings, axis=-1).max()`
        if divided is not None:
            numerator = _bare(self.code(divided))
            if numerator == _bare(measured):
                return "divides the tensor it measures: direction normalisation"
            if _BOUNDARY.search(numerator):
                return "scales against the boundary: a projection"
            if radius:  # `1 / (1 + ‖x − y‖)` of a distance is a similarity kernel, not a rescaling
                return "divides a tensor: rescaling, not a measurement"
            return None
        if isinstance(parent, cst.Comparison):
            return self._comparison(parent, current, radius)
        if (
            radius
            and isinstance(parent, cst.Call)
            and isinstance(parent.func, cst.Attribute)
            and parent.func.attr.value in ("copy_", "fill_")
            and _BOUNDARY.search(self.code(parent.func.value))
        ):  # `self.current_max_r.copy_(torch.max(norms))`: how near the boundary the points came, kept to be logged
            return "kept as the largest radius seen: a saturation diagnostic"
        if isinstance(parent, cst.Call) and isinstance(parent.func, cst.Name) and parent.func.value == "zip":
            position = next((at for at, argument in enumerate(parent.args) if argument.value is current), None)
            if position is not None and not any(argument.star or argument.keyword for argument in parent.args):
                above = ancestors[: next(at for at in range(len(ancestors) - 1, -1, -1) if ancestors[at] is parent)]
                return self._rows(parent, above, position, _Value(measured, radius, squared, ordered), depth)
        if isinstance(parent, cst.Call) and last_name(parent.func) in _AXIS_LIMITS:
            return f"frames a plot with {last_name(parent.func)}(): the disk is drawn in its Euclidean coordinates"
        if radius and isinstance(parent, cst.Lambda) and parent.body is current and _sort_key(parent, ancestors):
            return "the key of a sort: radii rank points as hyperbolic radii do"
        if radius and ordered and isinstance(parent, cst.Call) and last_name(parent.func) in _RANKING_CALLS:
            return f"reduced to indices by {last_name(parent.func)}(): radii rank points as hyperbolic radii do"
        if radius and ordered and isinstance(parent, cst.Call) and last_name(parent.func) in _RANK_STATISTICS:
            return f"only its ranks count in {last_name(parent.func)}(): radii rank points as hyperbolic radii do"
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is current and depth < _MAX_NAME_DEPTH:
            targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
            if len(targets) == 1 and isinstance(targets[0], cst.Name):
                name = targets[0].value
                if radius and _running_maximum(current, name) and _BOUNDARY.search(name) and self._only_kept(targets[0]):
                    # `max_norm = max(max_norm, current_norm)`: how near the boundary the points came (ch3njust1n)
                    return "kept as the largest radius seen: a saturation diagnostic"
                return self._every_use(targets[0], measured, depth, radius, squared, ordered)
        if (
            isinstance(parent, cst.BinaryOperation)
            and isinstance(parent.operator, cst.Subtract)
            and parent.right is current
            and _BOUNDARY.search(self.code(parent.left))
        ):
            return "subtracted from the boundary: a margin"
        return None

    def _rows(self, source: cst.CSTNode, above: Ancestors, position: int, value: _Value, depth: int) -> str | None:
        """The value is element `position` of each tuple `source` gives (`zip(ids, norms)`, or a call of a function that
        returns such tuples): exempt when, wherever the tuples go, that element is dropped (`for idx, _ in ...`), only
        sorts them (a radius: the order is the hyperbolic one) or is put to an exempt use. poincare_glove's notebooks
        sort words by the norm and print the words; their `get_knn` returns each neighbour's norm, every caller drops it."""
        current = source
        for index in range(len(above) - 1, -1, -1):
            parent = above[index]
            if isinstance(parent, cst.Arg):
                continue
            name = last_name(parent.func) if isinstance(parent, cst.Call) else None
            keeps_rows = name in ("list", "tuple", "reversed") and len(cast(cst.Call, parent).args) == 1
            if keeps_rows or name == "sorted" and _sorts_rows(cast(cst.Call, parent), current, position, value.radius and value.ordered):
                current = parent
                continue
            if isinstance(parent, cst.Subscript) and parent.value is current and all(isinstance(e.slice, cst.Slice) for e in parent.slice):
                current = parent  # `rows[:100]`: some of the same tuples
                continue
            return self._rows_consumed(parent, current, above[:index], position, value, depth)
        return None

    def _rows_consumed(
        self, parent: cst.CSTNode, current: cst.CSTNode, above: Ancestors, position: int, value: _Value, depth: int
    ) -> str | None:
        """`_rows` at the first node that is not a list, sort or slice of the tuples."""
        if isinstance(parent, cst.Assign) and parent.value is current and depth < _MAX_NAME_DEPTH and len(parent.targets) == 1:
            target = parent.targets[0].target
            if not isinstance(target, cst.Name) or value.foreign:
                return None  # a caller's names are not in this scope's index
            uses = [  # not the load of `rows = sorted(rows, ...)`: the tuples before this binding
                (use, where)
                for use, where in self.uses_of(target.value, target)
                if use is not target and not _shape_only(use, where) and not any(node is parent for node in where)
            ]
            reasons = [self._rows(use, where, position, value, depth + 1) for use, where in uses]
            return reasons[0] if reasons and None not in reasons else None
        if isinstance(parent, (cst.CompFor, cst.For)) and parent.iter is current:
            return self._element(parent, above, position, value, depth)
        if isinstance(parent, cst.Return) and self.call_sites is not None and depth < _MAX_NAME_DEPTH:
            sites = self.call_sites()
            reasons = [self._rows(call, where, position, value._replace(foreign=True), depth + 1) for call, where in sites or ()]
            if reasons and None not in reasons:
                return f"returned in tuples, where every caller {reasons[0]}"
        return None

    def _element(self, loop: cst.CompFor | cst.For, above: Ancestors, position: int, value: _Value, depth: int) -> str | None:
        """The loop `for a, b in rows` binds element `position` of each tuple: judged by that name's uses (a `for`
        loop's variable outlives the loop; in a caller's scope, only a name never used is judged)."""
        target = loop.target
        elements = target.elements if isinstance(target, (cst.Tuple, cst.List)) else ()
        if position >= len(elements) or any(isinstance(element, cst.StarredElement) for element in elements):
            return None
        bound = elements[position].value
        if not isinstance(bound, cst.Name):
            return None
        scope_at = next((at for at in range(len(above) - 1, -1, -1) if isinstance(above[at], _COMPREHENSIONS)), None)
        if isinstance(loop, cst.CompFor) != (scope_at is not None) or isinstance(loop, cst.For) and value.foreign:
            return None
        scope, outside = (above[scope_at], above[:scope_at]) if scope_at is not None else (loop, above)
        bound_here = {id(node) for node, _ in walk(target)}  # `for w, _, _ in rows`: the other `_` is no use
        uses = [(use, where) for use, where in names_within(scope, bound.value, outside) if id(use) not in bound_here]
        if isinstance(loop, cst.For):  # and after the loop, until the name is bound again
            inside = {id(use) for use, _ in uses}
            uses += [(use, where) for use, where in self.uses_of(bound.value, bound) if id(use) not in inside | bound_here]
        if not uses:
            return "drops it: only the other elements of each tuple are used"
        if value.foreign:
            return None
        reasons = [
            self.exemption(use, where, value.measured, depth + 1, radius=value.radius, squared=value.squared, ordered=value.ordered)
            for use, where in uses
        ]
        return f"reads it as {bound.value}, which {reasons[0]}" if None not in reasons else None

    def _only_kept(self, target: cst.Name) -> bool:
        """Every other use of the running maximum `target` updates it, prints it or returns it as it is."""
        kept = {target.value, f"float({target.value})", f"{target.value}.item()"}
        for use, above in self.uses_of(target.value, target):
            if use is target or _reported(use, above) is not None:
                continue
            update = above[-3] if len(above) > 2 and isinstance(above[-1], cst.Arg) else None
            if (
                isinstance(update, cst.Assign)
                and _running_maximum(above[-2], target.value)
                and [self.code(assigned.target) for assigned in update.targets] == [target.value]
            ):
                continue  # the update itself: `max_norm = max(max_norm, r)`
            returned = next((node for node in reversed(above) if isinstance(node, cst.Return)), None)
            if returned is None or returned.value is None or self.code(returned.value) not in kept:
                return False
        return True

    def _comparison(self, comparison: cst.Comparison, current: cst.CSTNode, radius: bool) -> str | None:
        sides = [comparison.left, *(target.comparator for target in comparison.comparisons)]
        ordering = radius and all(isinstance(target.operator, _ORDERING) for target in comparison.comparisons)
        for side in sides:
            if side is current:
                continue
            text = self.code(side)
            if ordering and _NORM_CALL.search(self._spelled(side)):
                return "compared with another radius: radii order points as hyperbolic radii do"
            value = _number(text)
            if value is not None and 0.9 <= value <= 1.0 or _BOUNDARY.search(text):
                return "compared with the ball's boundary: a membership/projection check"
            if value is not None and value <= 1e-2 or _TOLERANCE.search(text):
                return "compared with a tolerance: a convergence check"
        return None

    def printed_before_its_check(self, node: cst.CSTNode, ancestors: Ancestors, following: cst.CSTNode | None) -> bool:
        """`print(torch.norm(z[i]))` right before `if torch.norm(z[i]) > 1:`: a look at the value the next
        statement checks against the boundary, part of that membership check (HNE's clipping loop)."""
        if not isinstance(following, cst.If) or not isinstance(following.test, cst.Comparison) or _reported(node, ancestors) is None:
            return False
        printed = _bare(self.code(node))
        test = following.test
        sides = [test.left, *(target.comparator for target in test.comparisons)]
        return any(_bare(self.code(side)) == printed and self._comparison(test, side, radius=True) is not None for side in sides)

    def printed_maximum_by_name(self, node: cst.CSTNode, ancestors: Ancestors) -> bool:
        """`norms = z.norm(dim=-1)` then only `print(f"min={norms.min()}, max={norms.max()}, bound=1.0")`:
        `printed_maximum` through the name the norm is bound to, when the print names the boundary (HONDA_PROJECT's
        self-test of its projector; poincare-mds-spatial's "Norm: min-max" training log is a metric, a finding)."""
        parent = ancestors[-1] if ancestors else None
        if not isinstance(parent, cst.Assign) or parent.value is not node or len(parent.targets) != 1:
            return False
        target = parent.targets[0].target
        if not isinstance(target, cst.Name):
            return False
        uses = [(use, above) for use, above in self.uses_of(target.value, target) if use is not target]
        reported = [_reported(use, above) for use, above in uses]
        if not uses or None in reported or all(crossed.isdisjoint(_MAXIMA) for crossed in reported if crossed is not None):
            return False
        # ... and the print says what it checks (`bound=1.0`): a norm printed as a training metric stays a finding
        prints = [call for _, above in uses for call in above if isinstance(call, cst.Call) and last_name(call.func) in _REPORTING]
        printed = " ".join(self.code(call) for call in prints)
        return _BOUNDARY.search(printed) is not None

    def _spelled(self, side: cst.BaseExpression) -> str:
        """The text of a side of a comparison, or of the value last assigned to it (`anc_norm < desc_norm`)."""
        value = self.value_before(side) if isinstance(side, cst.Name) and self.value_before is not None else None
        return self.code(value if value is not None else side)

    def _every_use(self, target: cst.Name, measured: str, depth: int, radius: bool, squared: bool, ordered: bool) -> str | None:
        """Exempt when one use implements hyperbolic math, or every use is exempt by itself."""
        uses = [
            (use, above)
            for use, above in self.uses_of(target.value, target)
            if use is not target and not _shape_only(use, above) and not _stored_into(use, above)
        ]
        # printing or plotting a value does nothing with it: the other uses decide (printed, then compared with the boundary)
        reported = [_reported(use, above) is not None or _formatted(use, above) or _plotting(use, above) is not None for use, above in uses]
        printed = [pair for pair, shown in zip(uses, reported, strict=True) if shown]
        uses = [pair for pair, shown in zip(uses, reported, strict=True) if not shown]
        if not uses:
            labelled = bool(printed) and all(shown_as_euclidean(use, above, self.code) for use, above in printed)
            return f"{target.value} is shown as a Euclidean number: a deliberate baseline" if labelled else None
        if self.is_euclidean_name is not None:
            for _, above in uses:  # `"eucl_norm_mean": np.mean(enorm)`: the author calls this number Euclidean
                named = deliberately_euclidean(above, self.code, self.is_euclidean_name)
                if named is not None:
                    return f"{target.value} {named}"
        reasons = [self.exemption(use, above, measured, depth + 1, radius=radius, squared=squared, ordered=ordered) for use, above in uses]
        for reason in reasons:
            if reason is not None and _HYPERBOLIC_MATH_REASON in reason:
                return f"{target.value} {reason}"
        return None if None in reasons else f"{target.value} {reasons[0]}"


_CLAMPED_NEAR_ONE = "clamped just inside the ball"  # a marker of `_through_wrapper`, decided by what the clamp feeds
# Calls whose number is a bound on the value (`min(norm, 0.95)`, `np.clip(r, 0, 0.99)`), not a dim (`x.min(1)`).
_BOUNDING_CALLS = frozenset("min minimum clamp clamp_ clamp_max clip clip_".split())
_NOT_A_BOUND = frozenset("dim axis keepdim out".split())


def _bound_near_one(call: cst.Call, name: str, others: list[cst.Arg], code: Callable[[cst.CSTNode], str]) -> bool:
    """`min(norm, 0.95)`, `norm.clamp(max=0.999)`: a new radius bounded just inside the ball builds a point."""
    if name not in _BOUNDING_CALLS or (name == "min" and not isinstance(call.func, cst.Name)):
        return False  # `torch.min(d, 1)` / `d.min(1)` reduce over a dim
    bounds = [argument for argument in others if argument.keyword is None or argument.keyword.value not in _NOT_A_BOUND]
    return any(0.9 <= (_number(code(argument.value)) or 0.0) <= 1.0 for argument in bounds)


_SORTING_CALLS = frozenset("sorted sort min max nsmallest nlargest".split())


def _factors(product: cst.BaseExpression) -> list[cst.BaseExpression]:
    """`c * r * r` -> [c, r, r]: the factors of a chain of multiplications (in some order)."""
    factors, pending = [], [product]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
            pending += (node.left, node.right)
        else:
            factors.append(node)
    return factors


def _running_maximum(value: cst.CSTNode, name: str) -> bool:
    """`max(name, ...)` / `np.maximum(name, ...)`: the value updates a running maximum kept in `name`."""
    return (
        isinstance(value, cst.Call)
        and last_name(value.func) in ("max", "maximum")
        and any(isinstance(argument.value, cst.Name) and argument.value.value == name for argument in value.args)
    )


class _Value(NamedTuple):
    """What `UsageJudge.exemption` knows of the value it follows (its parameters of the same names)."""

    measured: str
    radius: bool
    squared: bool
    ordered: bool
    foreign: bool = False  # followed into a caller: this scope's index does not know its names


_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


def _sorts_rows(call: cst.Call, rows: cst.CSTNode, position: int, ranks: bool) -> bool:
    """`sorted(rows, key=lambda t: t[1])` keeps the tuples `rows`; sorting by element `position` uses it only for its
    order (allowed when `ranks`: a radius not mixed with anything on the way)."""
    positional = [argument for argument in call.args if argument.keyword is None]
    key = next((argument.value for argument in call.args if argument.keyword is not None and argument.keyword.value == "key"), None)
    if not positional or positional[0].value is not rows or not isinstance(key, cst.Lambda) or len(key.params.params) != 1:
        return False
    body = key.body.expression if isinstance(key.body, cst.UnaryOperation) else key.body  # `-t[1]`: the reverse order
    parameter = key.params.params[0].name.value
    if not isinstance(body, cst.Subscript) or not isinstance(body.value, cst.Name) or body.value.value != parameter:
        return False
    index = body.slice[0].slice if len(body.slice) == 1 else None
    if not isinstance(index, cst.Index) or not isinstance(index.value, cst.Integer):
        return False
    return int(index.value.value, 0) != position or ranks


def _sort_key(function: cst.Lambda, ancestors: Ancestors) -> bool:
    """`sorted(labels, key=lambda x: norms[x])`: the lambda is the `key` of a sort or of a min/max."""
    above = list(ancestors)
    index = next((i for i in range(len(above) - 1, -1, -1) if above[i] is function), None)
    if index is None or index < 2:
        return False
    argument, call = above[index - 1], above[index - 2]
    return (
        isinstance(argument, cst.Arg)
        and argument.keyword is not None
        and argument.keyword.value == "key"
        and isinstance(call, cst.Call)
        and last_name(call.func) in _SORTING_CALLS
    )


def _log_of_a_conformal_factor(side: cst.BaseExpression, code: Callable[[cst.CSTNode], str]) -> bool:
    """`log(1 - x.pow(2).sum(-1))`, `-torch.log(1 - c * ‖x‖ ** 2)`: the log of one minus a square (not `log(1 - p)`)."""
    while isinstance(side, cst.UnaryOperation):
        side = side.expression
    if not isinstance(side, cst.Call) or last_name(side.func) not in _LOGARITHMS or len(side.args) != 1:
        return False
    argument = side.args[0].value
    return (
        isinstance(argument, cst.BinaryOperation)
        and isinstance(argument.operator, cst.Subtract)
        and _number(code(argument.left)) == 1.0
        and _SQUARE.search("".join(code(argument.right).split())) is not None
    )


def _inverse_hyperbolic_call(expression: cst.CSTNode) -> str | None:
    """The name of an inverse hyperbolic function called within `expression`, or None."""
    return _called(expression, _HYPERBOLIC_MATH)


def _called(root: cst.CSTNode, names: frozenset[str]) -> str | None:
    """The name of the first call within `root` (nested scopes aside) whose name is one of `names`, or None."""
    for node, _ in walk(root):
        if isinstance(node, cst.Call) and last_name(node.func) in names:
            return last_name(node.func)
    return None


def _shape_only(use: cst.Name, ancestors: Ancestors) -> bool:
    parent = ancestors[-1] if ancestors else None
    if isinstance(parent, cst.Attribute) and parent.value is use:
        return parent.attr.value in _SHAPE_ONLY_ATTRIBUTES
    if isinstance(parent, cst.Arg) and len(ancestors) > 1 and isinstance(ancestors[-2], cst.Call):
        return last_name(ancestors[-2].func) in _SHAPE_ONLY_CALLS
    return False


def _stored_into(use: cst.Name, ancestors: Ancestors) -> bool:
    """`r[r > max_norm] = max_norm`: some of `r` are overwritten (a masked clamp), none of its values is read."""
    return (
        len(ancestors) > 1
        and isinstance(ancestors[-1], cst.Subscript)
        and ancestors[-1].value is use
        and isinstance(ancestors[-2], cst.AssignTarget)
    )


def _number(text: str) -> float | None:
    try:
        return float(text.strip().strip("()"))
    except ValueError:
        return None


def _bare(text: str) -> str:
    return "".join(text.split()).strip("()")


def euclidean_context(branches: list[tuple[cst.BaseExpression, bool]]) -> str | None:
    """Why the enclosing `if` arm or `with` block is deliberately Euclidean, or None."""
    for test, taken in branches:
        if isinstance(test, cst.Call) and last_name(test.func) in _CHECKS:
            return "inside pytest.raises: the norm is part of a check"
        euclidean = _euclidean_when(test)
        if euclidean is not None and euclidean == taken:
            return "the Euclidean branch of a flat/hyperbolic switch"
    return None


def hyperbolic_switch(branches: list[tuple[cst.BaseExpression, bool]]) -> cst.BaseExpression | None:
    """The test of an enclosing flat/hyperbolic switch whose hyperbolic arm this is (`if is_hyperbolic:`), or None:
    what happens here happens only when the caller asks for the ball."""
    for test, taken in branches:
        euclidean = _euclidean_when(test)
        if euclidean is not None and euclidean != taken:
            return test
    return None


def _euclidean_when(test: cst.BaseExpression) -> bool | None:
    """True if `test` holding means flat geometry, False if it means hyperbolic, None if unknown."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = _euclidean_when(test.expression)
        return None if inner is None else not inner
    if isinstance(test, (cst.Name, cst.Attribute)):
        name = last_name(test) or ""
        if _EUCLIDEAN_FLAG.search(name):
            return True
        return False if _HYPERBOLIC_FLAG.search(name) else None
    if isinstance(test, cst.Call) and last_name(test.func) == "hasattr" and len(test.args) == 2:
        # `if hasattr(code_emb, "manifold"):` / `hasattr(m, "dist0")`: the object is hyperbolic when it has one
        attribute = test.args[1].value
        if isinstance(attribute, cst.SimpleString) and _HYPERBOLIC_ATTRIBUTE.search(attribute.value):
            return False
        return None
    if isinstance(test, cst.Call) and last_name(test.func) == "isinstance" and len(test.args) == 2:
        kind = last_name(test.args[1].value) or ""
        return True if _EUCLIDEAN_FLAG.search(kind) else False if _HYPERBOLIC_FLAG.search(kind) else None
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        left, (comparison,) = test.left, test.comparisons
        right, operator = comparison.comparator, comparison.operator
        names = [side for side in (left, right) if isinstance(side, (cst.Name, cst.Attribute))]
        literal = right if names and names[0] is left else left
        if _zero_or_less(left, operator, right):
            return True  # `if c <= 0:` of a positive curvature c (hgcn/hyptorch's convention): the flat fallback
        equal = isinstance(operator, (cst.Equal, cst.Is))
        if not equal and not isinstance(operator, (cst.NotEqual, cst.IsNot, cst.GreaterThan, cst.LessThan)):
            return None
        if isinstance(literal, (cst.Integer, cst.Float)) and names and _CURVATURE.search(last_name(names[0]) or ""):
            return equal if _number(literal.value) == 0.0 else None
        if isinstance(literal, cst.SimpleString):
            text = literal.value.lower()
            if _EUCLIDEAN_FLAG.search(text):
                return equal
            if _HYPERBOLIC_FLAG.search(text) or "ball" in text:
                return not equal
        if isinstance(literal, cst.Name) and literal.value == "None" and names and _HYPERBOLIC_FLAG.search(last_name(names[0]) or ""):
            return equal
    return None


def _zero_or_less(name: cst.BaseExpression, operator: cst.BaseCompOp, literal: cst.BaseExpression) -> bool:
    """`c <= 0` with `c` the curvature's magnitude (`c`, `self.c`; a κ or k is negative on the ball: not this)."""
    return (
        isinstance(operator, cst.LessThanEqual)
        and isinstance(literal, (cst.Integer, cst.Float))
        and _number(literal.value) == 0.0
        and isinstance(name, (cst.Name, cst.Attribute))
        and last_name(name) == "c"
    )


def in_test_module(path: str) -> bool:
    """Whether the file at `path` is a pytest test module (see `printed_disagreement`)."""
    return _TEST_FILE.search(path) is not None


def printed_disagreement(node: cst.CSTNode, ancestors: Ancestors) -> bool:
    """Whether the value at `node` goes straight to `print`/a logger (through `.item()` and the like).

    In a test module, a printed difference norm reports how far two computations of the same
    point disagree (`print("Diff:", (r - q2).norm())` after −q1 ⊕ (q1 ⊕ q2) = q2): coordinates
    checked, not a distance. A distance a test uses (a loss, a geodesic's speed) is not printed
    this way, and an assertion is exempt anywhere (`_assertion`).
    """
    return _reported(node, ancestors) is not None


def printed_maximum(node: cst.CSTNode, ancestors: Ancestors) -> bool:
    """Whether the norm at `node` is reduced to its maximum and goes straight to `print`/a logger
    (`print(f"{torch.norm(z, dim=1).max().item():.4f}")`): most often a look at how near the boundary the
    points come, a membership check by eye, not a radius put to use: not a finding. Kept at low confidence at first,
    it was wrong each of the four times the benchmark met it (mhgdm twice, Sarvesh2005, frontier-pep's notebook)."""
    crossed = _reported(node, ancestors)
    return crossed is not None and not crossed.isdisjoint(_MAXIMA)


def shown_as_euclidean(node: cst.CSTNode, ancestors: Ancestors, code: Callable[[cst.CSTNode], str], place: Place | None = None) -> bool:
    """Whether the value at `node` is printed or plotted under a label that calls it Euclidean: on purpose. `place`:
    where the statement of `node` is, when `ancestors` start below it."""
    return _reported_as_euclidean(node, ancestors, code) or _plotted_as_euclidean(node, ancestors, code, place)


def _reported_as_euclidean(node: cst.CSTNode, ancestors: Ancestors, code: Callable[[cst.CSTNode], str]) -> bool:
    """Whether the value at `node` goes straight to `print`/a logger under a label that calls it Euclidean
    (`print("Euclidean norms:", norm(x), ",", norm(y))`, `print(f"Euclidean distance: {norm(x - y)}")`,
    `logger.info("euclidean gap %.3f", gap)`): the author shows the Euclidean number on purpose, most often beside
    the hyperbolic one (poincare_glove's notebooks, held-out block 26). Its label is the text just before it: the
    nearest string argument with words before it, the text of its f-string since the previous value, or the part of a
    %-format before its placeholder; never a keyword argument (`sep=`, `file=`), nor a "non-Euclidean" one."""
    found = _reporting(node, ancestors)
    if found is None:
        return False
    call = found[0]
    where = next(index for index, ancestor in enumerate(ancestors) if ancestor is call)
    argument = ancestors[where + 1] if where + 1 < len(ancestors) else None
    if not isinstance(argument, cst.Arg) or argument.keyword is not None or argument.star:
        return False
    inside = ancestors[where + 3] if where + 3 < len(ancestors) else node
    if isinstance(argument.value, cst.FormattedString) and isinstance(inside, cst.FormattedStringExpression):
        return _calls_euclidean(_text_before(argument.value, inside))
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    values = 0
    for before in reversed(positional[: positional.index(argument)]):
        text = _literal_text(before.value, code)
        if text is None:
            values += 1
        elif re.search(r"[A-Za-z]", text):
            segments = _PLACEHOLDER.split(text)
            if len(segments) > 1:  # a %-format: the text before this value's placeholder
                return values < len(segments) - 1 and _calls_euclidean(segments[values])
            return _calls_euclidean(text)
    return False


# matplotlib's and seaborn's plots of values; the calls that label the axes they draw on; the calls that start other axes.
_PLOTTING = frozenset(
    "plot scatter hist bar barh semilogx semilogy loglog errorbar step stem fill_between lineplot scatterplot histplot kdeplot".split()
)
_AXES_TEXT = frozenset("xlabel ylabel title suptitle set_xlabel set_ylabel set_title".split())
_LABEL_REACH = 12  # statements before or after a plot where its axis labels may be set
_HYPERBOLIC_TEXT = re.compile(r"hyperbol|poincar|geodesic|\bhyp\b", re.IGNORECASE)
_NEW_AXES = frozenset("figure subplot subplots add_subplot add_axes axes sca twinx twiny clf cla close show savefig".split())


def _plotting(node: cst.CSTNode, ancestors: Ancestors) -> cst.Call | None:
    """The plot call the value at `node` goes straight to (some of it, `norms[::100]`, is looked through), or None."""
    stop, below, _, _ = _climb(node, ancestors, sliced=True)
    plots = isinstance(stop, cst.Call) and stop.func is not below and last_name(stop.func) in _PLOTTING
    return cast(cst.Call, stop) if plots else None


def _plotted_as_euclidean(node: cst.CSTNode, ancestors: Ancestors, code: Callable[[cst.CSTNode], str], place: Place | None) -> bool:
    """Whether the value at `node` is plotted on axes the author labels Euclidean: the plot's `label=`, or an axis label
    or title (`plt.xlabel("Euclidean norm")`) set between the figure or subplot the plot starts on and the next one
    (poincare_glove's notebooks plot "Vector Euclidean norms" beside "Vector Poincare norms"), on the same axes
    (`axes[0].hist(...)` takes `axes[0].set_xlabel(...)`, not `axes[1]`'s)."""
    call = _plotting(node, ancestors)
    if call is None:
        return False
    labels = [_literal_text(argument.value, code) or "" for argument in call.args if argument.keyword and argument.keyword.value == "label"]
    if any(_HYPERBOLIC_TEXT.search(label) for label in labels):
        return False  # `label="poincare radius"`: the author takes it for the hyperbolic number
    if any(_only_euclidean(label) for label in labels):
        return True
    where = next((at for at in range(len(ancestors) - 1, 0, -1) if isinstance(ancestors[at - 1], (cst.Module, cst.IndentedBlock))), None)
    if where is not None:
        block = cast("cst.Module | cst.IndentedBlock", ancestors[where - 1]).body
        at = next((index for index, sibling in enumerate(block) if sibling is ancestors[where]), None)
        place = (block, at) if at is not None else None
    if place is None or not place[0]:
        return False
    body, at = place
    window = []  # the straight-line statements around the plot, up to the next figure or subplot
    for step in (1, -1):
        index = at + step
        while 0 <= index < len(body) and abs(index - at) <= _LABEL_REACH and isinstance(body[index], cst.SimpleStatementLine):
            if _called(body[index], _NEW_AXES) is not None:
                break
            window.append(body[index])
            index += step
    axes = _receiver(call.func, code)
    return any(
        isinstance(node, cst.Call)
        and last_name(node.func) in _AXES_TEXT
        and _receiver(node.func, code) == axes
        and node.args
        and _only_euclidean(_literal_text(node.args[0].value, code) or "")
        for sibling in window
        for node, _ in walk(sibling)
    )


def _only_euclidean(label: str) -> bool:
    """A label that calls a value Euclidean and names nothing hyperbolic ("Hyperbolic radius (not the Euclidean norm)"
    calls it hyperbolic)."""
    return _calls_euclidean(label) and _HYPERBOLIC_TEXT.search(label) is None


def _receiver(function: cst.BaseExpression, code: Callable[[cst.CSTNode], str]) -> str:
    """`axes[0]` of `axes[0].hist`, `plt` of `plt.plot`; "" for a bare `plot(...)`."""
    return code(function.value) if isinstance(function, cst.Attribute) else ""


# The word itself (a label's text is prose, where `flat` or `eu` mean other things), not negated.
_EUCLIDEAN_LABEL = re.compile(r"(?<!non-)(?<!non )(?<!not )(?<!non)euclid", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdifgeEr]")


def _calls_euclidean(label: str) -> bool:
    return _EUCLIDEAN_LABEL.search(label) is not None


def _text_before(string: cst.FormattedString, expression: cst.FormattedStringExpression) -> str:
    """The text of an f-string between its previous value and `expression`."""
    text = ""
    for part in string.parts:
        if part is expression:
            return text
        text = part.value if isinstance(part, cst.FormattedStringText) else ""
    return ""


def _literal_text(value: cst.BaseExpression, code: Callable[[cst.CSTNode], str]) -> str | None:
    """The text of a string literal (an f-string's text parts only), or None for anything else."""
    if isinstance(value, cst.SimpleString):
        evaluated = value.evaluated_value
        return evaluated if isinstance(evaluated, str) else code(value)
    if isinstance(value, cst.FormattedString):
        return "".join(part.value for part in value.parts if isinstance(part, cst.FormattedStringText))
    if isinstance(value, cst.ConcatenatedString):
        return code(value)
    return None


def _reported(node: cst.CSTNode, ancestors: Ancestors) -> set[str] | None:
    """The calls the value at `node` goes through (`max`, `item`, ...) straight to `print`/a logger, or None
    when it goes anywhere else first (f-strings and value-keeping calls are looked through)."""
    found = _reporting(node, ancestors)
    return None if found is None else found[1]


def _reporting(node: cst.CSTNode, ancestors: Ancestors) -> tuple[cst.Call, set[str]] | None:
    """The `print`/logger call the value at `node` goes straight to, and the calls it goes through (`_reported`)."""
    stop, below, crossed, _ = _climb(node, ancestors)
    reports = isinstance(stop, cst.Call) and stop.func is not below and last_name(stop.func) in _REPORTING and not _numeric_log(stop)
    return (cast(cst.Call, stop), crossed) if reports else None


def _formatted(node: cst.CSTNode, ancestors: Ancestors) -> bool:
    """The value at `node` goes straight into an f-string's text (`note = f"max radius {max_r:.2f}"`): shown, like a
    printed value, whatever the text is for (a title, a log line)."""
    return _climb(node, ancestors)[3]


def _climb(node: cst.CSTNode, ancestors: Ancestors, sliced: bool = False) -> tuple[cst.CSTNode | None, cst.CSTNode, set[str], bool]:
    """Where the value at `node` goes once what keeps it is looked through (arguments, attributes, f-strings,
    `max`/`item`/..., and with `sliced` subscripts of it): the first other ancestor (None: none), the node below it,
    the calls crossed, and whether an f-string's text took the value on the way."""
    current, crossed, formatted = node, set[str](), False
    for parent in reversed(ancestors):
        if sliced and isinstance(parent, cst.Subscript) and parent.value is current:
            current = parent
            continue
        if isinstance(parent, (cst.Arg, cst.Attribute, cst.FormattedStringExpression, cst.FormattedString, cst.ConcatenatedString)):
            formatted = formatted or isinstance(parent, cst.FormattedStringExpression)
            current = parent
            continue
        name = last_name(parent.func) if isinstance(parent, cst.Call) else None
        if name is None or name not in _MAXIMA and name not in _TRANSPARENT:
            return parent, current, crossed, formatted
        crossed.add(name)
        current = parent
    return None, current, crossed, formatted


_MAXIMA = frozenset("max amax nanmax".split())


def _numeric_log(call: cst.Call) -> bool:
    """`torch.log(r)`, `np.log(r)`: a logarithm, not a logger's `log(level, "message", value)` (which has a message)."""
    if last_name(call.func) != "log":
        return False
    return not any(isinstance(arg.value, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)) for arg in call.args)


def deliberately_euclidean(
    ancestors: Ancestors, code: Callable[[cst.CSTNode], str], is_euclidean_name: Callable[[str], bool]
) -> str | None:
    """Why the place of a norm makes it deliberately Euclidean, or None."""
    for ancestor in ancestors:
        targets: list[cst.BaseExpression] = []
        if isinstance(ancestor, cst.Assign):
            targets = [target.target for target in ancestor.targets]
        elif isinstance(ancestor, (cst.AnnAssign, cst.AugAssign)):
            targets = [ancestor.target]
        elif isinstance(ancestor, cst.DictElement):
            targets = [ancestor.key]
        elif isinstance(ancestor, cst.Arg) and ancestor.keyword is not None:
            targets = [ancestor.keyword]
        for target in targets:
            if is_euclidean_name(_label(target, code)):
                return "stored under a Euclidean name: a deliberate baseline"
    return None


def _assertion(ancestors: Ancestors, code: Callable[[cst.CSTNode], str], value_before: ValueBefore | None = None) -> str | None:
    """Inside an `assert` or `assert_*(...)` the norm checks coordinates, unless the assertion holds
    it against a hyperbolic distance (`assert_allclose(ball.dist0(z), z.norm())` is the bug itself),
    spelled there or assigned to a name just before (`d = manifold.dist(x, y)` ... `assert_allclose(d, ...)`)."""
    for index, ancestor in enumerate(ancestors):
        if isinstance(ancestor, cst.Assert):
            others: list[cst.CSTNode] = [ancestor.test]
        elif isinstance(ancestor, cst.Call) and (last_name(ancestor.func) or "").startswith("assert"):
            inside = ancestors[index + 1] if index + 1 < len(ancestors) else None
            others = [argument.value for argument in ancestor.args if argument is not inside]
        else:
            continue
        compared = " ".join(code(other) for other in others)
        if value_before is not None:
            for other in others:
                for node, _ in walk(other):
                    value = value_before(node) if isinstance(node, cst.Name) else None
                    if value is not None:
                        compared += " " + code(value)
        if _HYPERBOLIC_DISTANCE.search(compared):
            return None
        return "inside an assertion: a check of coordinates"
    return None


# A hyperbolic length: a distance function, or the Riemannian norm of a manifold (`sball.norm(zeros, v)`).
_HYPERBOLIC_DISTANCE = re.compile(
    r"(?<![\w])(dist0|dist|sqdist|dist2|poincare_distance\w*|hyp_dist\w*)\s*\(|\w*(ball|manifold)\w*\s*\.\s*norm\s*\(", re.IGNORECASE
)


def _label(target: cst.BaseExpression, code: Callable[[cst.CSTNode], str]) -> str:
    """`euc_d` for `euc_d`, `self.euc_d`, `results["euc_d"]`, `"euc_d"`."""
    if isinstance(target, cst.Subscript) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
        target = target.slice[0].slice.value
    if isinstance(target, cst.SimpleString):
        value = target.evaluated_value
        return value if isinstance(value, str) else ""
    return last_name(target) or code(target)
