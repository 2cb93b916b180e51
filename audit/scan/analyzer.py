"""One module in, findings out: the rules applied to every scope of a parsed file.

For each scope (the module body, every function and method) the dataflow walks the
statements in order; at each expression the Euclidean operations (`vaeaudit.scan.sinks`) are
checked against the taint of their operands (`vaeaudit.scan.taint`), and tainted ones are
kept unless their use makes them correct (`vaeaudit.scan.usage`). Positions are resolved
only when something is reported: PositionProvider costs as much as parsing.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from vaeaudit.scan.dataflow import Dataflow, all_params
from vaeaudit.scan.findings import Finding, FixHint
from vaeaudit.scan.names import ImportMap, last_name
from vaeaudit.scan.reading import decode, parse
from vaeaudit.scan.settings import CONFIDENCE_LEVELS, Settings
from vaeaudit.scan.sinks import EuclideanOp, match_euclidean, match_loss_module_call, operand_code
from vaeaudit.scan.suppression import visible
from vaeaudit.scan.taint import MSE_LOSS_MODULES, Env, Step, Taint, ValueTaint
from vaeaudit.scan.tree import Ancestors, scopes_containing, walk
from vaeaudit.scan.usage import UsageJudge


def scan_source(source: bytes, path: str, settings: Settings) -> list[Finding]:
    """Findings in `source` (a file's bytes), after noqa, select/ignore and per-file-ignores.

    Raises `vaeaudit.scan.reading.SourceError` when the bytes are not decodable Python.
    """
    text = decode(source)
    module = parse(text, source)
    return _report(_Analysis(module, path, settings).run(), text, path, settings)


def scan_module(module: cst.Module, path: str, settings: Settings) -> list[Finding]:
    """Findings in an already-parsed module; spans refer to `module`'s own nodes.

    `line`/`col` are 1-based; `end_col` is 1-based and exclusive (libcst's 0-based
    CodeRange end column + 1), so `module.code_for_node` of the flagged node spans exactly
    col..end_col on a one-line expression.
    """
    analysis = _Analysis(module, path, settings)
    findings = analysis.run()
    return _report(findings, module.code if findings else "", path, settings)


def _report(findings: list[Finding], text: str, path: str, settings: Settings) -> list[Finding]:
    return sorted(visible(findings, text, path, settings), key=lambda f: (f.line, f.col, f.rule))


class _Analysis:
    def __init__(self, module: cst.Module, path: str, settings: Settings) -> None:
        self.module = module
        self.path = path
        self.values = ValueTaint(settings, ImportMap(module), module.code_for_node)
        self.imports = self.values.imports
        self.hits: dict[int, tuple[EuclideanOp, Taint, Taint | None]] = {}
        self.covered: set[int] = set()  # inner parts of a reported operation (the sum under a sqrt)
        self.binder = Dataflow(self.values, lambda node, env: None)  # binds comprehension targets
        self._positions = None

    def run(self) -> list[Finding]:
        self.direct, self.enclosing = scopes_containing(self.module, self._candidate())
        if not self.direct:
            return []
        self._scope(self.module, self.module.body, {})
        if not self.hits:
            return []
        return [self._finding(*hit) for hit in self.hits.values()]

    # -- scopes ---------------------------------------------------------------------------

    def _candidate(self):
        """A cheap test for nodes that may be Euclidean operations (match_euclidean decides)."""
        names = _OPERATION_NAMES | self._loss_module_names() | {
            local for local, target in self.imports.aliases.items() if target.rpartition(".")[2] in _OPERATION_NAMES
        }

        def is_candidate(node: cst.CSTNode) -> bool:
            if isinstance(node, cst.Call):
                return last_name(node.func) in names
            if not isinstance(node, cst.BinaryOperation):
                return False
            if isinstance(node.operator, cst.Multiply):  # `(a - b) * (a - b)`, squared by hand
                return all(isinstance(side, cst.BinaryOperation) and isinstance(side.operator, cst.Subtract) for side in (node.left, node.right))
            return isinstance(node.operator, cst.Power)

        return is_candidate

    def _loss_module_names(self) -> set[str]:
        """Last names of what an `nn.MSELoss()` is assigned to (`criterion`, `self.mse`): calls of them are candidates.

        Walks statements only, never into expressions, so it costs little next to the parse.
        """
        names: set[str] = set()
        stack: list[cst.CSTNode] = [self.module]
        while stack:
            for child in stack.pop().children:
                if isinstance(child, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                    for small in child.body:
                        if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, cst.Call):
                            if self.imports.qualify(small.value.func) in MSE_LOSS_MODULES:
                                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                                names.update(name for name in map(last_name, targets) if name is not None)
                elif isinstance(child, _STATEMENT_CONTAINERS):
                    stack.append(child)
        return names

    def _scope(self, owner: cst.CSTNode, body, env: Env) -> None:
        """Analyse one scope if it holds a candidate operation, then the scopes nested in it.

        A function nested in a function starts from the environment where it is defined,
        so a closure sees the outer function's ball points (the flow runs for the outer
        function for that reason even when it holds no candidate itself).
        """
        if id(owner) not in self.enclosing:
            return
        flow = None
        if id(owner) in self.direct or isinstance(owner, cst.FunctionDef):
            judge = UsageJudge(self.module.code_for_node, _UsesIndex(owner))

            def on_expression(node: cst.CSTNode, at: Env) -> None:
                if id(owner) in self.direct:
                    self._check_expression(node, at, judge)

            flow = Dataflow(self.values, on_expression)
            if isinstance(owner, cst.FunctionDef):
                flow.run_function(owner, env)
            else:
                flow.run_block(body, dict(env))
        for node, _ in walk(owner):
            if node is owner:
                continue
            if isinstance(node, cst.FunctionDef):
                if isinstance(owner, cst.ClassDef):
                    inner_env = env
                elif isinstance(owner, cst.FunctionDef):
                    inner_env = flow.definitions.get(id(node), {})
                else:
                    inner_env = {}
                self._scope(node, node.body, inner_env)
            elif isinstance(node, cst.ClassDef):
                self._scope(node, node.body.body, self._class_attributes(node))

    def _class_attributes(self, klass: cst.ClassDef) -> Env:
        """`self.proj = HyperbolicProjection(...)` anywhere in the class makes `self.proj(...)` a source."""
        env: Env = {}
        for node, _ in walk(klass.body):
            if isinstance(node, cst.FunctionDef):
                for inner, _ in walk(node.body):
                    if isinstance(inner, cst.Assign) and isinstance(inner.value, cst.Call):
                        taint = self.values.of(inner.value, {})
                        if taint is not None and taint.kind in ("projector", "mse-loss"):
                            for target in inner.targets:
                                key = self.module.code_for_node(target.target)
                                env[key] = taint.then(Step(f"{key} = {self.values.short(inner.value)}", inner))
        return env

    # -- rules ----------------------------------------------------------------------------

    def _check_expression(self, root: cst.CSTNode, env: Env, judge: UsageJudge, above: Ancestors = ()) -> None:
        for node, ancestors in walk(root, above, stop=_COMPREHENSIONS):
            if isinstance(node, _COMPREHENSIONS) and node is not root:
                self._check_comprehension(node, ancestors, env, judge)
                continue
            if isinstance(node, cst.Lambda):
                # Its parameters shadow outer names; nothing is known about what they receive.
                shadowed = {param.name.value for param in all_params(node.params)}
                inner_env = {key: value for key, value in env.items() if key.partition(".")[0] not in shadowed}
                self._check_expression(node.body, inner_env, judge, ancestors + (node,))
                continue
            if not isinstance(node, (cst.Call, cst.BinaryOperation)):
                continue
            if id(node) in self.covered:
                continue
            op = match_euclidean(node, self.imports, self.module.code_for_node) or self._loss_module_call(node, env)
            if op is None:
                continue
            if op.covers is not None:
                self.covered.add(id(op.covers))
            x_taint = self._point(op.x, env)
            y_taint = self._point(op.y, env) if op.y is not None else None
            if x_taint is None and y_taint is None:
                continue
            if judge.exemption(node, ancestors, self.module.code_for_node(op.x)) is not None:
                continue
            previous = self.hits.get(id(node))
            strength = _strength(x_taint, y_taint, op)
            if previous is None or _strength(previous[1], previous[2], op) < strength:
                self.hits[id(node)] = (op, x_taint, y_taint)

    def _check_comprehension(self, node, ancestors: Ancestors, env: Env, judge: UsageJudge) -> None:
        """`[z.norm() for z in points]`: the loop variables hold elements of what they iterate."""
        inner = ancestors + (node,)
        clause = node.for_in
        while clause is not None:
            self._check_expression(clause.iter, env, judge, inner)
            env = self.binder.bind_loop_target(clause.target, clause.iter, dict(env), node)
            for condition in clause.ifs:
                self._check_expression(condition.test, env, judge, inner)
            clause = clause.inner_for_in
        parts = (node.key, node.value) if isinstance(node, cst.DictComp) else (node.elt,)
        for part in parts:
            self._check_expression(part, env, judge, inner)

    def _loss_module_call(self, node: cst.CSTNode, env: Env) -> EuclideanOp | None:
        if not isinstance(node, cst.Call):
            return None
        module = self.values.of(node.func, env)
        return match_loss_module_call(node) if module is not None and module.kind == "mse-loss" else None

    def _point(self, node: cst.BaseExpression, env: Env) -> Taint | None:
        taint = self.values.of(node, env)
        return taint if taint is not None and taint.kind == "point" else None

    def _finding(self, op: EuclideanOp, x_taint: Taint | None, y_taint: Taint | None) -> Finding:
        code = self.module.code_for_node
        x, y = operand_code(op, code)
        span = self._position(op.node)
        evidence = self._evidence(op.x, x_taint) + self._evidence(op.y, y_taint)
        if op.kind == "norm":
            rule = "HYP001"
            message = f"Euclidean norm of ball point `{x}` used as a radius; use poincare_distance to the origin"
        elif op.kind == "squared":
            rule = "HYP003"
            message = f"Squared Euclidean distance between ball points `{x}` and `{y}`; use poincare_distance(...) ** 2"
        elif op.y is None:
            rule = "HYP002"
            message = f"Euclidean pairwise distances of ball points `{x}`; use poincare_distance_matrix"
        else:
            rule = "HYP002"
            message = f"Euclidean distance between ball points `{x}` and `{y}`; use poincare_distance"
        fix = None
        if op.fixable:
            fix = FixHint(
                function=op.function,
                x=x,
                y=y,
                dim=code(op.dim) if op.dim is not None else None,
                keepdim=code(op.keepdim) if op.keepdim is not None else None,
                p=code(op.p) if op.p is not None else None,
                backend=op.backend,
            )
        return Finding(
            path=self.path,
            rule=rule,
            message=message,
            line=span.start.line,
            col=span.start.column + 1,
            end_line=span.end.line,
            end_col=span.end.column + 1,
            confidence=CONFIDENCE_LEVELS[_strength(x_taint, y_taint, op)],
            evidence=tuple(dict.fromkeys(evidence)),
            fix=fix,
        )

    def _evidence(self, operand: cst.BaseExpression | None, taint: Taint | None) -> tuple[str, ...]:
        if operand is None or taint is None:
            return ()
        steps = list(taint.steps)
        if not steps or last_name(operand) is None:
            steps.append(Step(f"`{self.values.short(operand)}` is a ball point", operand))
        return tuple(self._describe(step) for step in steps)

    def _describe(self, step: Step) -> str:
        if step.node is None:
            return step.text
        return f"{step.text} (line {self._position(step.node).start.line})"

    def _position(self, node: cst.CSTNode):
        if self._positions is None:
            self._positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._positions[node]


_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
# Nodes that hold statements (directly or through a block), for walks that skip expressions.
_STATEMENT_CONTAINERS = (
    cst.BaseCompoundStatement, cst.BaseSuite, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.MatchCase,
)
# Last names of the calls `vaeaudit.scan.sinks` recognises (before import resolution); squared
# forms are caught by their `**`, `pow` or `square`, so `sum`/`mean` (everywhere) are not needed.
_OPERATION_NAMES = frozenset(
    {"norm", "vector_norm", "dist", "cdist", "pdist", "pairwise_distance", "euclidean", "sqrt", "pow", "square", "mse_loss", "MSELoss"}
)


def _strength(x_taint: Taint | None, y_taint: Taint | None, op: EuclideanOp) -> int:
    """Confidence of a finding: both operands of a distance hyperbolic, or one (one level less)."""
    taints = [t for t in (x_taint, y_taint) if t is not None]
    confidence = min(t.confidence for t in taints)
    if op.kind in ("distance", "squared") and op.y is not None and len(taints) == 1:
        confidence = max(0, confidence - 1)
    return confidence


class _UsesIndex:
    """Name -> every load of it in one scope with its ancestors, built on first request."""

    def __init__(self, owner: cst.CSTNode) -> None:
        self.owner = owner
        self.index: dict[str, list[tuple[cst.Name, Ancestors]]] | None = None

    def __call__(self, name: str) -> list[tuple[cst.Name, Ancestors]]:
        if self.index is None:
            self.index = {}
            for node, ancestors in walk(self.owner):
                if isinstance(node, cst.Name) and not (ancestors and isinstance(ancestors[-1], cst.Attribute) and ancestors[-1].attr is node):
                    self.index.setdefault(node.value, []).append((node, ancestors))
        return self.index.get(name, [])
