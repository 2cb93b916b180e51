"""The rewrite engine: findings on one module in, the rewritten module and a verdict per finding out.

Each finding is planned first (which function replaces it, which curvature, which
imports, whether the result is safe) and the tree is rewritten in one pass afterwards,
so a refused or unsafe fix leaves no trace (no stray import). Operands are re-used as
nodes of the updated tree, never re-typed from text: their comments and formatting
survive, and a fix nested inside another fix's operand is kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import cast

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider, Scope, ScopeProvider

from vaeaudit.codemods import safety
from vaeaudit.codemods.curvature import Found, Meta, OwnManifold, attribute_facts, find_curvature, find_manifold, manifold_reason
from vaeaudit.codemods.imports import ImportResolver, drop_imports_made_unused
from vaeaudit.codemods.locate import locate, node_index
from vaeaudit.codemods.options import FixOptions
from vaeaudit.codemods.outcome import FIXED, REFUSED, UNSAFE, Outcome, Refused
from vaeaudit.codemods.project_geometry import Signature, project_geometry
from vaeaudit.scan.findings import Finding, FixHint
from vaeaudit.scan.names import ImportMap, dotted
from vaeaudit.scan.taint import BALL_MANIFOLDS, STEREOGRAPHIC_MANIFOLDS

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
# Computed in float64 and returned as float64 whatever the input dtype: the rewrite measures float64 copies.
FLOAT64_RESULTS = {"scipy.spatial.distance.cdist"}
# A squared distance per point: the distance, squared (its thresholds are not converted).
SQUARED = {"sum-of-squared-differences"}

DISTANCE = "poincare_distance"
RADIUS = "poincare_radius"
DISTANCE_MATRIX = "poincare_distance_matrix"
THRESHOLD = "euclidean_to_hyperbolic_radius"
_X, _Y = "__vaeaudit_x__", "__vaeaudit_y__"
# This tool's geometry (its signature is known: `c=`, `keepdim=`).
OWN_GEOMETRY = ("vaeaudit.geometry", "vaeaudit.ternary_vae.geometry")
JIT_DECORATORS = {"torch.jit.script", "jit.script", "script", "torch.compile"}
# Methods that read a tensor out as a numpy array (`z.detach().cpu().numpy()`), in any order ending in numpy().
TO_NUMPY = ("detach", "cpu", "numpy")


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
    # Euclidean thresholds the result is compared with -> their hyperbolic conversion (template, {c} filled).
    thresholds: dict[cst.BaseExpression, str] = field(default_factory=dict)
    note: str | None = None
    keepdim: str | None = None  # the call's keepdim argument, when the template passes it on


def rewrite_module(module: cst.Module, findings: list[Finding], options: FixOptions) -> RewriteResult:
    """Rewrite every fixable finding in `module` (unsafe ones only when options.unsafe_fixes)."""
    if not findings:
        return RewriteResult(module, [])
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    planner = _Planner(wrapper, options)
    outcomes: list[Outcome] = []
    applied: dict[cst.CSTNode, _Plan] = {}
    for finding in findings:
        try:
            node, plan = planner.plan(finding)
        except Refused as refusal:
            outcomes.append(Outcome(finding, REFUSED, (str(refusal),)))
            continue
        if plan.reasons and not options.unsafe_fixes:
            outcomes.append(Outcome(finding, UNSAFE, tuple(plan.reasons), plan.note))
            continue
        applied.setdefault(node, plan)
        outcomes.append(Outcome(finding, FIXED, tuple(plan.reasons), plan.note))
    if not applied:
        return RewriteResult(module, outcomes)
    new_module = module.visit(_Apply(applied))
    needed = [wanted for plan in applied.values() for wanted in plan.imports]
    new_module = planner.imports.add_imports(new_module, needed)
    return RewriteResult(drop_imports_made_unused(module, new_module), outcomes)


class _Planner:
    """Decides, for one finding, the replacement and every reason it might be unsafe."""

    def __init__(self, wrapper: MetadataWrapper, options: FixOptions) -> None:
        self.module, self.options = wrapper.module, options
        # One batched walk for both providers; parents from `children` directly (libcst's
        # ParentNodeProvider gives the same map through its visitor machinery, ~10x slower).
        metadata = wrapper.resolve_many([PositionProvider, ScopeProvider])
        self.positions = cast("Mapping[cst.CSTNode, CodeRange]", metadata[PositionProvider])
        self.scopes = cast("Mapping[cst.CSTNode, Scope | None]", metadata[ScopeProvider])
        self.parents = parent_map(self.module)
        self.index = node_index(self.positions)
        self.imports = ImportResolver(self.module, self.scopes, self.positions, options.project_root)
        self.uses = safety.UseIndex(self.parents)
        self.geometry = project_geometry(options.project_root)
        assigned, spelled = attribute_facts(self.module)
        self.meta = Meta(self.parents, self.scopes, {}, self.geometry.source, assigned, spelled, ImportMap(self.module))

    def plan(self, finding: Finding) -> tuple[cst.CSTNode, _Plan]:
        hint = finding.fix
        if hint is None:
            raise Refused("no automatic rewrite for this form (the scanner gave no fix hint); see `vaeaudit rule` for the manual fix")
        node = locate(finding, self.index)
        if node is None:
            raise Refused(f"no expression spans {finding.line}:{finding.col}-{finding.end_line}:{finding.end_col}")
        self._check_compiled(node)
        self._check_unpacking(node)
        unused: list[str] = []  # why the points' own manifold could not be called
        manifold = self._manifold_plan(hint, node, unused)
        if manifold is not None:
            return node, manifold
        plan = self._shape(hint, node)
        self._check_comments(node, plan.operands.values())
        reference = self._geometry(node, plan)
        torch_name = self.imports.module(node, "torch") if "{torch}" in plan.template else None
        numpy_name = self.imports.module(node, "numpy") if "{numpy}" in plan.template else None
        found = find_curvature(node, plan.operands[_X], self.options.curvature_expressions, self.meta)
        callers = self._callers_curvature(hint, node) if found is None else None
        curvature = found or callers
        where = f"; {plan.note}" if plan.note else ""
        if curvature is not None:
            c, plan.note = curvature.expression, f"c from {curvature.source}{where}"
            if callers is not None:
                plan.reasons.append(
                    f"c={c} is what every call of the function the scan saw passes; calls it cannot see (files outside "
                    "the given paths, getattr, star imports, registries, other packages) may pass points of another curvature"
                )
        elif self.options.curvature_stated:
            c = repr(self.options.default_curvature)
            plan.note = f"c={c} from default-curvature in {self.options.curvature_stated}{where}"
        else:
            c = repr(self.options.default_curvature)
            plan.reasons.append(
                f"no curvature in scope (tried the operand's producer, a manifold attribute, "
                f"{', '.join(self.options.curvature_expressions)}, config keys and names that say curvature); "
                f"the default c={c} may be wrong (set default-curvature in the configuration to state it)"
            )
            plan.reasons += unused
            plan.reasons += [f"the callers prove no curvature: {hint.curvature_note}"] if hint.curvature_note else []
        self._convert_thresholds(node, plan, c, hint)
        plan.imports += [(None, module) for module, name in (("torch", torch_name), ("numpy", numpy_name)) if name]
        for slot, value in (("{function}", reference), ("{torch}", torch_name), ("{numpy}", numpy_name), ("{c}", c)):
            plan.template = plan.template.replace(slot, value or "")
        return node, plan

    def _callers_curvature(self, hint: FixHint, node: cst.CSTNode) -> Found | None:
        """The literal c every call of the enclosing function passes points of (the scanner's `hint.curvature`,
        refused there when the function is also named without a call): the function cannot reach its callers'
        ball, but a fixed c is a number, valid anywhere. An unsafe fix: only the calls the scan saw prove it
        (a pre-commit run sees the staged files alone)."""
        if hint.curvature is None:
            return None
        function = self.parents.get(node)
        while function is not None and not isinstance(function, cst.FunctionDef):
            function = self.parents.get(function)
        name = f"`{function.name.value}`" if function is not None else "the function"
        return Found(hint.curvature, f"the callers of {name}: {hint.curvature_note}")

    def _points_manifold(self, hint: FixHint, node: cst.CSTNode, unused: list[str]) -> OwnManifold | None:
        """The manifold object the points were made on: the scanner's (`code_emb.manifold`) when its binding is
        certain at the call, else the one this module shows made the first operand (`find_manifold`)."""
        M, kind = hint.manifold, hint.manifold_kind
        if M is not None and kind in BALL_MANIFOLDS | STEREOGRAPHIC_MANIFOLDS:
            why = manifold_reason(node, M, self.meta)
            if why is None:
                where = f", {hint.manifold_origin}" if hint.manifold_origin else ""
                return OwnManifold(M, kind, f"{kind}{where}", f"{M}.c" if kind in BALL_MANIFOLDS else f"-{M}.k")
            unused.append(f"the points' manifold `{M}` was not used: {why}")
        operands = [self._operand(node, text) for text in (hint.x, hint.y) if text is not None]
        return find_manifold(node, operands, self.meta)

    def _manifold_plan(self, hint: FixHint, node: cst.CSTNode, unused: list[str]) -> _Plan | None:
        """`M.dist0(z)` / `M.dist(x, y)` with M the manifold object the points were made on: the project's own
        geometry, its learnable curvature (or rescaled metric), no import. None (the reason in `unused`) when
        M is not certain at the call or the form has no exact equivalent."""
        function, numpy = hint.function, hint.backend == "numpy"
        known = NORMS | SQUARED | PAIRWISE_LAST_DIM | PAIRWISE_ALL_ELEMENTS | MATRICES
        if (function in MATRICES and hint.y is None) or function not in known:
            return None
        manifold = self._points_manifold(hint, node, unused)
        if manifold is None:
            return None
        M = manifold.expression
        operands = {_X: self._operand(node, hint.x)}
        if hint.y is not None:
            operands[_Y] = self._operand(node, hint.y)
        read_out = ""
        if numpy:  # `np.linalg.norm(z.detach().cpu().numpy())`: measure the tensor, then read it out the same way
            tensors = [_tensor_of(operand) for operand in operands.values()]
            if any(found is None for found in tensors) or len({found[1] for found in tensors if found}) != 1:
                unused.append("the numpy operands are not read out of tensors by `.detach()...numpy()`: the manifold takes tensors")
                return None
            operands = {placeholder: found[0] for placeholder, found in zip(operands, tensors, strict=True) if found}
            read_out = tensors[0][1] if tensors[0] else ""
        self._check_comments(node, operands.values())
        reasons = [reason for reason in [safety.p_reason(hint.p)] if reason]
        for keyword in safety.dropped_keywords(node):
            if keyword == "out":
                raise Refused("out= cannot be kept: the manifold's distance returns a new tensor; fix it by hand")
            reasons.append(f"{keyword}= would be dropped by the rewrite")
        dim = "-1"
        if function in NORMS | SQUARED:
            moved = safety.moved_dim(hint.dim)
            if moved is not None:
                dim = moved  # the manifold reduces any dim: exact for every rank
            else:
                reasons += [reason for reason in [safety.dim_reason(hint.dim, function)] if reason]
        elif function in PAIRWISE_ALL_ELEMENTS:
            reasons.append(f"{function} has no dim: it reduces over all elements, the manifold's dist over the last dim only")
        keepdim, after = hint.keepdim, ""
        if function in MATRICES:
            pass  # the all-pairs matrix is never 0-d, and keeps no dim
        elif numpy and (keepdim is None or safety.is_false(keepdim)):
            # A 0-d result would join the manifold's 0-d c in type promotion (float32 point, float64 c: float64),
            # where numpy kept the array's dtype: reduce with keepdim (never 0-d), then drop that dim.
            keepdim, after = "True", f".squeeze({dim})"
        elif numpy and keepdim is not None and not safety.is_true(keepdim):
            reasons.append(f"keepdims={keepdim} is not a literal: whether the result keeps numpy's dtype is not known")
        options = (f", dim={dim}" if dim != "-1" else "") + (f", keepdim={keepdim}" if keepdim is not None else "")
        if numpy:
            after += f"{read_out}[()]"  # `[()]`: a 0-d result becomes the numpy scalar numpy gave
        if function in MATRICES:  # all pairs: x[..., i, None, :] against y[..., None, j, :], as cdist pairs them
            double = ".double()" if function in FLOAT64_RESULTS else ""
            x, y = (f"{_wrapped(operands[key], key)}{double}" for key in (_X, _Y))
            method, template = "dist", f"{M}.dist({x}.unsqueeze(-2), {y}.unsqueeze(-3))"
        elif function in SQUARED:
            method, template = "dist", f"({M}.dist({_X}, {_Y}{options}){after} ** 2)"
            after = ""
        elif _Y in operands:
            method, template = "dist", f"{M}.dist({_X}, {_Y}{options})"
        else:
            method, template = "dist0", f"{M}.dist0({_X}{options})"
        plan = _Plan(template + after, operands, [], reasons, note=f"{method} of manifold `{M}` ({manifold.origin})")
        self._convert_thresholds(node, plan, manifold.curvature, hint)
        return plan

    def _geometry(self, node: cst.CSTNode, plan: _Plan) -> str:
        """Name the geometry function to call, preferring the project's own, and fit the template to its signature.

        In order: the function already imported in this file, one defined in the project, then
        the configured module (whose signature is this tool's: `c=`, `keepdim=`).
        """
        name = plan.imports[0][1]
        points = 1 if name == RADIUS else 2
        signature: Signature | None = None
        reference = ""
        existing = self.imports.imported_anywhere(name)
        if existing is not None and existing[0] not in OWN_GEOMETRY + (self.options.poincare_import,):
            signature = self.geometry.imported(existing[0], name, points)
            reference = existing[1]
        if signature is None and existing is None:
            signature = self.geometry.defined(name, points)
            if signature is not None and signature.module != self.options.poincare_import:
                reference = self.imports.function(node, signature.module, name)
                plan.imports[0] = (signature.module, name)
            else:
                signature = None
        if signature is None:
            reference = self.imports.function(node, self.options.poincare_import, name)
            signature = Signature(self.options.poincare_import, name, "c", keepdim=True)
        else:
            self.imports.require_not_shadowed(node, reference)
            plan.imports[0] = (signature.module, name)
            plan.note = f"{name} from the project's {signature.module}"
        keepdim, after = "", ""
        if plan.keepdim is not None and signature.keepdim:
            keepdim = f", keepdim={plan.keepdim}"
        elif plan.keepdim is not None and safety.is_true(plan.keepdim):
            after = ".unsqueeze(-1)"  # the project's function has no keepdim: put the reduced dim back
        elif plan.keepdim is not None and not safety.is_false(plan.keepdim):
            raise Refused(f"keepdim={plan.keepdim} cannot be passed to {signature.module}.{name}, which takes no keepdim")
        for slot, value in (("{curvature}", signature.curvature), ("{keepdim}", keepdim), ("{after}", after)):
            plan.template = plan.template.replace(slot, value)
        return reference

    def _convert_thresholds(self, node: cst.CSTNode, plan: _Plan, c: str | None, hint: FixHint) -> None:
        """Euclidean thresholds of a radius become the same decision in hyperbolic units; other uses make the fix unsafe.

        The conversion maps a Euclidean radius to the hyperbolic one (monotone in it alone). A distance between two
        points has no such map (points Euclidean-close near the boundary are hyperbolically far), a squared one neither;
        nor has a rescaled metric (`Scaled`, c = None), whose radii no curvature gives.
        """
        usage = safety.classify_uses(node, self.parents, self.positions, self.uses)
        plan.reasons += usage.reasons
        if not usage.convertible:
            return
        if hint.y is not None or c is None:
            what = "a rescaled manifold's radius" if c is None else "a distance between two points"
            what = "a squared distance" if hint.function in SQUARED else what
            plan.reasons += [
                f"{what} is compared with {_code(bound)}: that threshold has no hyperbolic equivalent" for bound in usage.convertible
            ]
            return
        function = self.imports.function(node, self.options.poincare_import, THRESHOLD)
        plan.imports.append((self.options.poincare_import, THRESHOLD))
        for bound in usage.convertible:
            plan.thresholds[bound] = f"{function}({_code(bound)}, c={c})"

    def _check_compiled(self, node: cst.CSTNode) -> None:
        """TorchScript compiles the function from source: a call it cannot type would break the model."""
        current = self.parents.get(node)
        while current is not None:
            if isinstance(current, cst.FunctionDef):
                for decorator in current.decorators:
                    target = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
                    if dotted(target) in JIT_DECORATORS:
                        raise Refused(f"inside @{dotted(target)}: TorchScript would have to compile the replacement too; fix it by hand")
            current = self.parents.get(current)

    def _check_unpacking(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Call) and any(arg.star for arg in node.args):
            raise Refused("the call unpacks *args/**kwargs: the rewrite cannot know which arguments (dim, keepdim, p) they carry")

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
        numpy = hint.backend == "numpy"
        # numpy in, numpy out: the array's own dtype, and `[()]` turns a 0-d result into the numpy scalar np.linalg.norm gives.
        double = ", dtype={numpy}.float64" if function in FLOAT64_RESULTS else ""
        x = f"{{torch}}.as_tensor({{numpy}}.asarray({_X}{double}))" if numpy else _X
        y = f"{{torch}}.as_tensor({{numpy}}.asarray({_Y}{double}))" if numpy else _Y
        keep = hint.keepdim is not None and safety.is_true(hint.keepdim)
        keepdim = "{keepdim}" if hint.keepdim is not None else ""
        suffix = ""
        if function in MATRICES and hint.y is not None:
            name, template = DISTANCE_MATRIX, f"{{function}}({x}, {y}, {{curvature}}={{c}})"
        elif function in NORMS | SQUARED | PAIRWISE_LAST_DIM | PAIRWISE_ALL_ELEMENTS:
            if function in NORMS | SQUARED:
                moved = safety.moved_dim(hint.dim)
                if moved is not None:
                    # Same result for any rank: move the reduced dim last, put it back as keepdim did.
                    x = f"{_wrapped(operands[_X], x)}.movedim({moved}, -1)"
                    y = f"{_wrapped(operands[_Y], y)}.movedim({moved}, -1)" if _Y in operands else y
                    keepdim, suffix = "", f".unsqueeze({moved})" if keep else ""
                else:
                    reasons += [reason for reason in [safety.dim_reason(hint.dim, function)] if reason]
            elif function in PAIRWISE_ALL_ELEMENTS:
                reasons.append(f"{function} has no dim: it reduces over all elements, poincare_distance over the last dim only")
            if hint.y is not None:
                name, template = DISTANCE, f"{{function}}({x}, {y}, {{curvature}}={{c}}{keepdim}){{after}}{suffix}"
            else:
                name, template = RADIUS, f"{{function}}({x}, {{curvature}}={{c}}{keepdim}){{after}}{suffix}"
        else:
            raise Refused(f"no Poincaré rewrite is known for {function}")
        if numpy:
            template += ".detach().numpy()[()]"  # a learnable curvature puts the result on its graph
        if function in SQUARED:
            template = f"({template} ** 2)"
        return _Plan(template, operands, [(self.options.poincare_import, name)], reasons, keepdim=hint.keepdim if keepdim else None)

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


def parent_map(module: cst.Module) -> dict[cst.CSTNode, cst.CSTNode]:
    """Each node's parent (what `ParentNodeProvider` resolves), by one walk over `children`."""
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        for child in node.children:
            parents[child] = node
            stack.append(child)
    return parents


class _Apply(cst.CSTTransformer):
    """Swap planned nodes for their replacements, and Euclidean thresholds for their conversions, in one pass."""

    def __init__(self, plans: dict[cst.CSTNode, _Plan]) -> None:
        super().__init__()
        self._plans = plans
        self._operands = {node for plan in plans.values() for node in plan.operands.values()}
        self._thresholds = {bound: text for plan in plans.values() for bound, text in plan.thresholds.items()}
        self._updated: dict[cst.CSTNode, cst.BaseExpression] = {}

    def on_leave(self, original_node, updated_node):
        plan = self._plans.get(original_node)
        if plan is not None:
            updated_node = self._replacement(plan, updated_node)
        threshold = self._thresholds.get(original_node)
        if threshold is not None:
            updated_node = cst.parse_expression(threshold).with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        if original_node in self._operands:
            self._updated[original_node] = updated_node
        return super().on_leave(original_node, updated_node)

    def _replacement(self, plan: _Plan, updated_node: cst.BaseExpression) -> cst.BaseExpression:
        values = {placeholder: self._updated[node] for placeholder, node in plan.operands.items()}
        replacement = cast(cst.BaseExpression, cst.parse_expression(plan.template).visit(_Fill(values)))
        if not updated_node.lpar:  # the template's own parentheses (`(M.dist(x, y) ** 2)`) guard what follows it
            return replacement
        return replacement.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)


class _Fill(cst.CSTTransformer):
    """Put operand nodes where the template has placeholders (a fresh copy per use)."""

    def __init__(self, values: dict[str, cst.BaseExpression]) -> None:
        super().__init__()
        self._values = values

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        value = self._values.get(original_node.value)
        if value is None:
            return updated_node
        if updated_node.lpar and not getattr(value, "lpar", None):  # the template's `(x).unsqueeze(...)`: keep the parentheses
            return value.deep_clone().with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        return value.deep_clone()


class _FindOperand(cst.CSTVisitor):
    """The first expression (pre-order) below the flagged node whose source is `text`."""

    def __init__(self, text: str) -> None:
        self._text, self._squashed = text, "".join(text.split())
        self.found: cst.BaseExpression | None = None
        self._root_seen = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.found is not None:
            return False
        if not self._root_seen:
            self._root_seen = True
            return True
        if isinstance(node, cst.BaseExpression):
            for code in _spellings(node):
                if code == self._text or "".join(code.split()) == self._squashed:
                    self.found = node
                    return False
        return True


def _wrapped(operand: cst.BaseExpression, placeholder: str) -> str:
    """The placeholder as the receiver of a method call: in parentheses unless the operand binds tighter already."""
    atomic = isinstance(operand, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) or getattr(operand, "lpar", None)
    return placeholder if atomic else f"({placeholder})"


def _tensor_of(operand: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None:
    """`t.detach().cpu().numpy()` -> (t, ".detach().cpu().numpy()"): the tensor a numpy array was read from,
    when the read ends in `.numpy()` and detaches (the manifold's curvature may be learnable)."""
    methods: list[str] = []
    node = operand
    while (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and not node.args
        and node.func.attr.value in TO_NUMPY
        and (node is operand or not node.lpar)
    ):
        methods.append(node.func.attr.value)
        node = node.func.value
    if not methods or methods[0] != "numpy" or "detach" not in methods:
        return None
    return node, "".join(f".{method}()" for method in reversed(methods))


def _spellings(node: cst.BaseExpression) -> Iterator[str]:
    """The node's source, then (when parenthesised) without its own parentheses, as the scanner may name it."""
    yield _code(node)
    if getattr(node, "lpar", None):
        yield _code(node.with_changes(lpar=[], rpar=[]))


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
