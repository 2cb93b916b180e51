"""The rewrite engine: findings on one module in, the rewritten module and a verdict per finding out.

Each finding is planned first (which function replaces it, which curvature, which
imports, whether the result is safe) and the tree is rewritten in one pass afterwards,
so a refused or unsafe fix leaves no trace (no stray import). Operands are re-used as
nodes of the updated tree, never re-typed from text: their comments and formatting
survive, and a fix nested inside another fix's operand is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider, ScopeProvider

from vaeaudit.scan.findings import Finding, FixHint
from vaeaudit.codemods import hoist, safety
from vaeaudit.codemods.curvature import find_curvature
from vaeaudit.codemods.imports import ImportResolver
from vaeaudit.codemods.locate import locate, node_index
from vaeaudit.codemods.options import FixOptions
from vaeaudit.codemods.outcome import FIXED, REFUSED, UNSAFE, Outcome, Refused

# What each flagged function becomes. A norm with `y` set is the norm of a difference.
NORMS = {
    "torch.norm",
    "torch.Tensor.norm",
    "torch.linalg.norm",
    "torch.linalg.vector_norm",
    "numpy.linalg.norm",
    "sqrt-sum-of-squares",
}
PAIRWISE_LAST_DIM = {"torch.nn.functional.pairwise_distance"}
PAIRWISE_ALL_ELEMENTS = {"torch.dist", "scipy.spatial.distance.euclidean"}
MATRICES = {"torch.cdist", "scipy.spatial.distance.cdist"}

DISTANCE = "poincare_distance"
DISTANCE_MATRIX = "poincare_distance_matrix"
NUMPY_REASON = (
    "numpy operands go through torch.as_tensor(...) and back with .numpy(): integer arrays or "
    "lists would fail, and a Python float result becomes a 0-d array"
)
_X, _Y = "__vaeaudit_x__", "__vaeaudit_y__"


@dataclass(frozen=True)
class RewriteResult:
    module: cst.Module
    outcomes: list[Outcome]

    @property
    def changed(self) -> bool:
        return any(outcome.status == FIXED for outcome in self.outcomes)


@dataclass
class _Plan:
    template: str  # the replacement with _X/_Y placeholders for the operands
    operands: dict[str, cst.BaseExpression]  # placeholder -> original operand node
    imports: list[tuple[str | None, str]]  # (module or None for `import name`, name)
    reasons: list[str] = field(default_factory=list)
    hoist_to: hoist.Site | None = None
    hoist_name: str | None = None


def rewrite_module(module: cst.Module, findings: list[Finding], options: FixOptions) -> RewriteResult:
    """Rewrite every fixable finding in `module` (unsafe ones only when options.unsafe_fixes)."""
    if not findings:
        return RewriteResult(module, [])
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    planner = _Planner(wrapper, options)
    outcomes, applied = [], {}
    for finding in findings:
        try:
            node, plan = planner.plan(finding)
        except Refused as refusal:
            outcomes.append(Outcome(finding, REFUSED, (str(refusal),)))
            continue
        if plan.reasons and not options.unsafe_fixes:
            outcomes.append(Outcome(finding, UNSAFE, tuple(plan.reasons)))
            continue
        if node in applied:
            outcomes.append(Outcome(finding, FIXED, tuple(plan.reasons)))
            continue
        if plan.hoist_to is not None:
            plan.hoist_name = next(planner.temp_names)
        applied[node] = plan
        outcomes.append(Outcome(finding, FIXED, tuple(plan.reasons)))
    if not applied:
        return RewriteResult(module, outcomes)
    new_module = module.visit(_Apply(applied))
    needed = [wanted for plan in applied.values() for wanted in plan.imports]
    return RewriteResult(planner.imports.add_imports(new_module, needed), outcomes)


class _Planner:
    """Decides, for one finding, the replacement and every reason it might be unsafe."""

    def __init__(self, wrapper: MetadataWrapper, options: FixOptions) -> None:
        self.module, self.options = wrapper.module, options
        self.positions = wrapper.resolve(PositionProvider)
        self.parents = wrapper.resolve(ParentNodeProvider)
        self.scopes = wrapper.resolve(ScopeProvider)
        self.index = node_index(self.positions)
        self.imports = ImportResolver(self.module, self.scopes, self.positions)
        self.temp_names = hoist.fresh_names(self.module)

    def plan(self, finding: Finding) -> tuple[cst.CSTNode, _Plan]:
        hint = finding.fix
        if hint is None:
            raise Refused("no automatic rewrite for this form (the scanner gave no fix hint); see `vaeaudit rule` for the manual fix")
        node = locate(finding, self.index)
        if node is None:
            raise Refused(f"no expression spans {finding.line}:{finding.col}-{finding.end_line}:{finding.end_col}")
        plan = self._shape(hint, node)
        self._check_comments(node, plan.operands.values())
        reference = self.imports.function(node, self.options.poincare_import, plan.imports[0][1])
        torch_name = self.imports.torch_module(node) if "{torch}" in plan.template else None
        plan.reasons += safety.threshold_reasons(node, self.parents, self.positions)
        curvature = find_curvature(
            node, self.options.curvature_expressions, self.parents, self.scopes, self.positions
        )
        if curvature is None:
            curvature = repr(self.options.default_curvature)
            plan.reasons.append(
                f"no curvature in scope (tried {', '.join(self.options.curvature_expressions)}); "
                f"the default c={curvature} may be wrong"
            )
        if torch_name is not None:
            plan.imports.append((None, "torch"))
        for slot, value in (("{function}", reference), ("{torch}", torch_name), ("{c}", curvature)):
            plan.template = plan.template.replace(slot, value or "")
        return node, plan

    def _shape(self, hint: FixHint, node: cst.CSTNode) -> _Plan:
        """The replacement template and the argument-level unsafe reasons, by flagged function."""
        function = hint.function
        operands = {_X: self._operand(node, hint.x)}
        if hint.y is not None:
            operands[_Y] = self._operand(node, hint.y)
        reasons = [reason for reason in [safety.p_reason(hint.p)] if reason]
        for keyword in safety.dropped_keywords(node):
            if keyword == "out":
                raise Refused("out= cannot be kept: poincare_distance returns a new tensor; fix it by hand")
            reasons.append(f"{keyword}= would be dropped by the rewrite")
        keepdim = f", keepdim={hint.keepdim}" if hint.keepdim is not None else ""
        numpy = hint.backend == "numpy"
        x = f"{{torch}}.as_tensor({_X})" if numpy else _X
        y = f"{{torch}}.as_tensor({_Y})" if numpy else _Y
        if function in MATRICES and hint.y is not None:
            name, template = DISTANCE_MATRIX, f"{{function}}({x}, {y}, c={{c}})"
        elif function in NORMS | PAIRWISE_LAST_DIM | PAIRWISE_ALL_ELEMENTS:
            name = DISTANCE
            if function in NORMS:
                reasons += [reason for reason in [safety.dim_reason(hint.dim, function)] if reason]
            elif function in PAIRWISE_ALL_ELEMENTS:
                reasons.append(safety.dim_reason(None, function))
            if hint.y is not None:
                template = f"{{function}}({x}, {y}, c={{c}}{keepdim})"
            else:
                template = f"{{function}}({x}, {{torch}}.zeros_like({x}), c={{c}}{keepdim})"
                reasons += self._single_evaluation(node, operands[_X])
        else:
            raise Refused(f"no Poincaré rewrite is known for {function}")
        if numpy:
            reasons.append(NUMPY_REASON)
            template += ".numpy()"
        plan = _Plan(template, operands, [(self.options.poincare_import, name)], reasons)
        if "zeros_like" in template and not safety.is_simple_operand(operands[_X]):
            plan.hoist_to = hoist.hoist_site(node, self.parents)
        return plan

    def _single_evaluation(self, node: cst.CSTNode, operand: cst.BaseExpression) -> list[str]:
        if safety.is_simple_operand(operand) or hoist.hoist_site(node, self.parents) is not None:
            return []
        return [f"operand `{_code(operand)}` would be evaluated twice and cannot be hoisted into a local here"]

    def _operand(self, node: cst.CSTNode, text: str) -> cst.BaseExpression:
        finder = _FindOperand(text)
        node.visit(finder)
        if finder.found is None:
            raise Refused(f"operand `{text}` not found inside the flagged expression")
        return finder.found

    def _check_comments(self, node: cst.CSTNode, operands) -> None:
        """Comments between the arguments would be dropped by the rewrite; refuse rather than lose them."""
        kept = {id(comment) for operand in operands for comment in _comments(operand)}
        lost = [comment.value for comment in _comments(node) if id(comment) not in kept]
        if lost:
            raise Refused(f"the call holds comments the rewrite would drop ({lost[0]}); fix it by hand")


class _Apply(cst.CSTTransformer):
    """Swap planned nodes for their replacements and insert hoisted locals, in one pass."""

    def __init__(self, plans: dict[cst.CSTNode, _Plan]) -> None:
        super().__init__()
        self._plans = plans
        self._operands = {node for plan in plans.values() for node in plan.operands.values()}
        self._updated: dict[cst.CSTNode, cst.BaseExpression] = {}
        self._hoists: dict[cst.CSTNode, list[tuple[int, cst.Assign]]] = {}

    def on_leave(self, original_node, updated_node):
        plan = self._plans.get(original_node)
        if plan is not None:
            updated_node = self._replacement(plan, updated_node)
        if original_node in self._operands:
            self._updated[original_node] = updated_node
        if original_node in self._hoists:
            updated_node = hoist.insert_hoisted(updated_node, self._hoists.pop(original_node))
        return super().on_leave(original_node, updated_node)

    def _replacement(self, plan: _Plan, updated_node: cst.BaseExpression) -> cst.BaseExpression:
        values = {placeholder: self._updated[node] for placeholder, node in plan.operands.items()}
        if plan.hoist_to is not None:
            line, index = plan.hoist_to
            self._hoists.setdefault(line, []).append((index, hoist.assignment(plan.hoist_name, values[_X])))
            values[_X] = cst.Name(plan.hoist_name)
        replacement = cst.parse_expression(plan.template).visit(_Fill(values))
        return replacement.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)


class _Fill(cst.CSTTransformer):
    """Put operand nodes where the template has placeholders (a fresh copy per use)."""

    def __init__(self, values: dict[str, cst.BaseExpression]) -> None:
        super().__init__()
        self._values = values

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        value = self._values.get(original_node.value)
        return updated_node if value is None else value.deep_clone()


class _FindOperand(cst.CSTVisitor):
    """The first expression (pre-order) below the flagged node whose source is `text`."""

    def __init__(self, text: str) -> None:
        self._text, self._squashed, self.found = text, "".join(text.split()), None
        self._root_seen = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.found is not None:
            return False
        if not self._root_seen:
            self._root_seen = True
            return True
        if isinstance(node, cst.BaseExpression):
            code = _code(node)
            if code == self._text or "".join(code.split()) == self._squashed:
                self.found = node
                return False
        return True


class _Comments(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.Comment] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.found.append(node)


def _comments(node: cst.CSTNode) -> list[cst.Comment]:
    collector = _Comments()
    node.visit(collector)
    return collector.found


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)
