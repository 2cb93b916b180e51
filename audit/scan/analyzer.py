"""One module in, findings and a summary out: the rules applied to every scope of a file.

For each scope (the module body, every function and method) the dataflow walks the
statements in order; one walk over each expression then (a) checks the Euclidean
operations (`vaeaudit.scan.sinks`) against the taint of their operands
(`vaeaudit.scan.taint`), keeping tainted ones unless their use makes them correct
(`vaeaudit.scan.usage`), (b) records consumer evidence (`vaeaudit.scan.consumers`), and
(c) records the ball points passed to the file's own and imported functions. Functions of
one file are solved to a fixpoint here (a function's summary feeds its callers and
callees in the next round); across files, `vaeaudit.scan.summaries` does the same with
the `FileSummary` this module returns. Positions are resolved only when something is
reported or exported, one top-level statement at a time (`lines.Positions`): PositionProvider
over the whole module costs as much as parsing.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left, bisect_right
from dataclasses import replace
from typing import TYPE_CHECKING, cast, overload

import libcst as cst

from vaeaudit.scan.consumers import DEFINED_OPERATIONS, consumed_arguments, declared_manifold, tangent_arguments
from vaeaudit.scan.dataflow import Dataflow, all_params, return_descriptions
from vaeaudit.scan.depth import LIMIT as DEPTH_LIMIT
from vaeaudit.scan.depth import mask_deep_statements
from vaeaudit.scan.findings import Finding, FixHint
from vaeaudit.scan.lines import Positions, line_by_text, remembered_code
from vaeaudit.scan.methods import BY_NAME, target_by_name
from vaeaudit.scan.names import ImportMap, dotted, exported_names, last_name
from vaeaudit.scan.reading import decode, parse
from vaeaudit.scan.rules import RULES
from vaeaudit.scan.rules.hyp004 import centroid_operand
from vaeaudit.scan.rules.hyp005 import distance_operands, handwritten_distance, spells_poincare_distance
from vaeaudit.scan.settings import CONFIDENCE_LEVELS, Settings
from vaeaudit.scan.sinks import EuclideanOp, match_euclidean, match_loss_module_call, operand_code
from vaeaudit.scan.summaries import Fact, FileSummary, FunctionSummary, Inputs, module_name
from vaeaudit.scan.suppression import visible
from vaeaudit.scan.tables import BallTables
from vaeaudit.scan.taint import (
    EVERY_KEY,
    HIGH,
    LOW,
    MEASUREMENT_NAME,
    MEDIUM,
    MSE_LOSS_MODULES,
    Env,
    Manifold,
    Step,
    Taint,
    ValueTaint,
    from_other_geometry,
)
from vaeaudit.scan.tree import Ancestors, Place, children, names_within, scopes_containing, walk
from vaeaudit.scan.usage import (
    UsageJudge,
    deliberately_euclidean,
    euclidean_context,
    hyperbolic_switch,
    in_test_module,
    printed_disagreement,
    printed_maximum,
    shown_as_euclidean,
)

if TYPE_CHECKING:
    from libcst.metadata import CodeRange

from vaeaudit.scan.vocabulary import (
    CURVATURE_KEYWORDS,
    EUCLIDEAN_ANNOTATION,
    EUCLIDEAN_DOCSTRING,
    HYPERBOLIC_ANNOTATION,
    HYPERBOLIC_DOCSTRING,
)


def scan_source(source: bytes, path: str, settings: Settings) -> list[Finding]:
    """Findings in `source` (a file's bytes) on its own, after noqa, select/ignore and per-file-ignores.

    Raises `vaeaudit.scan.reading.SourceError` when the bytes are not decodable Python.
    """
    return analyse_source(source, path, settings)[0]


def analyse_source(
    source: bytes, path: str, settings: Settings, inputs: Inputs | None = None, *, parsed: list[cst.Module] | None = None
) -> tuple[list[Finding], FileSummary, str | None]:
    """Findings, the project summary of one file (given what the rest of the project tells it),
    and a note naming the generated over-deep lines that were not analysed (`vaeaudit.scan.depth`).

    `parsed` (hook for `vaeaudit fix`, `vaeaudit.scan.runner`): receives the parsed module the
    findings' spans refer to, when it is the whole file (no statement masked)."""
    text = decode(source)
    masked, skipped = mask_deep_statements(text)
    module = parse(masked, source)
    if parsed is not None and not skipped:
        parsed.append(module)
    analysis = _Analysis(module, path, settings, inputs, masked)
    findings = analysis.run()
    note = None
    if skipped:
        shown = ", ".join(map(str, skipped[:5])) + (", ..." if len(skipped) > 5 else "")
        note = f"{len(skipped)} statement(s) nested deeper than {DEPTH_LIMIT} operators not analysed (line {shown})"
    return _report(findings, text, path, settings), analysis.summary(), note


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
    findings = [finding for finding in findings if settings.preview or not RULES[finding.rule].preview]
    return sorted(visible(findings, text, path, settings), key=lambda f: (f.line, f.col, f.rule))


_MAX_ROUNDS = 8  # rounds of the in-file fixpoint: each adds facts (one call level per round), so it converges fast
_MAX_VIEWS = 8  # names a consumed value may view or convert back to its source (`x_t = ManifoldTensor(torch.tensor(x))`)
# Names only a geometry implementation defines (geoopt, hgcn's manifolds, a project's own maths).
_STRONG_PRIMITIVE = re.compile(
    r"mob(ius)?_|exp_?map|log_?map|lambda_?x|gyr|egrad|rgrad|retr|transp|ptrans|tan_k|arsin_k|artan_k|"
    r"^_?(arcosh|artanh|dist0|sqdist|dist2|expm|logm|lambd)$|"  # expm/logm/lambd: Riemannian-optimisation spellings
    r"(poincare|lorentz|klein|hyperboloid|ball|sphere)_to_|to_(poincare|lorentz|klein|hyperboloid)|"
    r"(poincare|lorentz|klein|loid|hyperboloid|ball)2(poincare|lorentz|klein|loid|hyperboloid|ball)",
    re.IGNORECASE,
)
_MODEL = r"(?:hyper(?:boloid)?|lorentz|poincare|klein|loid|ball|disk)"  # `hyper_to_poincare`, `lorentz2poincare`
# Maps and operations whose norms are their formula's wherever they are defined (a model class that carries
# its own `expmap0`: tanh(√c‖u‖)·u/(√c‖u‖); a change of model, `hyper_to_poincare`: r = ‖x‖/(1 + √(1 + ‖x‖²)));
# not the distances (`def dist0(z): return z.norm()` may be the bug).
_MAP_PRIMITIVE = re.compile(
    r"^_*(?:[a-z]+_)?(?:(?:exp|log)_?map(?:0|_?x|_?zero|_?at_?(?:zero|origin))?|mobius_(?:add|sub|matvec|mat_?vec|"
    r"scalar_?mul|mul|pointwise_?mul)|lambda_?x|gyr(?:ation)?|p?transp(?:0|0back|_?x)?|parallel_transport|expm|logm|lambd|"
    rf"{_MODEL}(?:_pts?|_points?)?_?(?:to_|2){_MODEL})$",
    re.IGNORECASE,
)
# Inside such a module, these names (and private helpers) are part of the geometry too.
_PRIMITIVE = re.compile(
    _STRONG_PRIMITIVE.pattern + r"|dist|norm|proj|inner|clip|conformal|midpoint|frechet|einstein|sinh|cosh|tanh", re.IGNORECASE
)
_TEST_NAME = re.compile(r"test_?|Test[A-Z_]")
_NORM_HELPER = re.compile(r"^_*(sq(uared?)?_?|l2_?)?norms?$", re.IGNORECASE)
# What a documented return is, by the first noun of its description that says: a number about points ("the
# hyperbolic distance between embeddings", "Tensor of radii") or points ("Points in the ball of curvature c").
_RETURNED_NOUN = re.compile(
    r"(distances?|\bdists?\b|\bnorms?\b|radi(?:us|i)\b|loss(?:es)?|scores?|similarit(?:y|ies)|angles?|curvatures?|hyperbolicity)|"
    r"(\bpoints?\b|coordinates?|embeddings?|vectors?|projected|positions?|centroids?|midpoints?|\bmeans?\b)",
    re.IGNORECASE,
)
_OTHER_MODEL_WORD = re.compile(r"lorentz|hyperboloid|klein", re.IGNORECASE)


def _not_a_point(text: str) -> bool:
    """A documented return that is a number about points, or points of another model."""
    noun = _RETURNED_NOUN.search(text)
    return noun is not None and noun.group(1) is not None or _OTHER_MODEL_WORD.search(text) is not None


def _delegated_to(method: cst.FunctionDef) -> str | None:
    """The method of `self` a method's last statement returns the result of (`return self.hyperbolic_forward(x)`)."""
    body = method.body.body if isinstance(method.body, cst.IndentedBlock) else ()
    last = body[-1] if body else None
    returned = last.body[0] if isinstance(last, cst.SimpleStatementLine) and len(last.body) == 1 else None
    call = returned.value if isinstance(returned, cst.Return) else None
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return None
    receiver, name = call.func.value, call.func.attr.value
    return name if isinstance(receiver, cst.Name) and receiver.value == "self" and name != method.name.value else None


def _calls_a_map(function: cst.FunctionDef) -> bool:
    return any(isinstance(node, cst.Call) and _MAP_CALL.search(last_name(node.func) or "") for node, _ in walk(function.body))


_MAP_CALL = re.compile(r"exp_?map|log_?map", re.IGNORECASE)


class _Local:
    """What the file knows about one of its own functions, with live evidence (`Taint`s)."""

    def __init__(self, function: cst.FunctionDef, is_method: bool) -> None:
        self.function = function
        params = [param.name.value for param in all_params(function.params) if param.star not in ("*", "**")]
        self.params = tuple(params[1:] if is_method and params and params[0] in ("self", "cls") else params)
        self.received: dict[str, Taint] = {}
        self.returns: Taint | None = None
        self.parts: dict[str, Taint] = {}
        self.consumes: dict[str, Taint] = {}
        self.passes: str | None = None  # the parameter every return gives back (a view of it): its manifold is the argument's

    def hands_back(self) -> str | None:
        """The parameter it hands back when all it knows of it is what callers pass (`def to_np(x): return x.numpy()`)."""
        return self.passes if self.passes is not None and self.passes in self.received else None

    @functools.cached_property
    def returns_tuple(self) -> bool:
        """`return x_hyp, tangent` everywhere: a tuple, whatever its name says (`to_hyperbolic` is no producer then);
        asked only of functions named like a producer, so the body is walked once for few of them."""
        returned = [node.value for node, _ in walk(self.function.body) if isinstance(node, cst.Return)]
        return bool(returned) and all(isinstance(value, cst.Tuple) and len(value.elements) > 1 for value in returned)

    def signature(self) -> tuple:
        taints = (self.received, self.parts, self.consumes)
        returns = self.returns.confidence if self.returns else None
        return (tuple(sorted((k, v.confidence) for d in taints for k, v in d.items())), returns, self.passes)


class _Analysis:
    other_hits: dict[int, tuple[str, cst.CSTNode, str, Taint]]

    def __init__(self, module: cst.Module, path: str, settings: Settings, inputs: Inputs | None = None, text: str | None = None) -> None:
        self.module = module
        self.text = text  # the exact text `module` was parsed from (libcst round-trips it), when known
        self.code = remembered_code(module)
        self.path = path
        self.settings = settings
        self.inputs = inputs or Inputs()
        self.module_name = module_name(path, settings.project_root)
        self.test_module = in_test_module(path)
        self._rebound_globals: set[str] | None = None  # `_globals_of`: names a `global` statement may rebind
        self._names_of_functions: dict[str, list[tuple[cst.Name, Ancestors]]] | None = None  # `_call_sites`
        package = self.module_name if path.endswith("__init__.py") else self.module_name.rpartition(".")[0]
        self.imports = ImportMap(module, package, self.inputs.stars)
        self.values = ValueTaint(settings, self.imports, self.code, self._returned_by, self._returns_tuple)
        self.values.state_keys = {key: _imported(fact) for key, fact in self.inputs.state_keys.items()}
        self.values.artifact_facts = {artifact: _imported(fact) for artifact, fact in self.inputs.artifacts.items()}
        self.artifacts: dict[str, Taint] = {}  # artifact -> why the values this file loads from it are ball points
        self.tables = BallTables(module, self.imports, self.code, self.values.producers, self.values.carrier)
        self.hits: dict[int, tuple[EuclideanOp, Taint | None, Taint | None, str | None]] = {}
        self.covered: set[int] = set()  # inner parts of a reported operation (the sum under a sqrt)
        self.binder = Dataflow(self.values, lambda node, env: None)  # binds comprehension targets
        self.ball_bindings: dict[tuple[str, int], Taint] = {}
        self.tangent_bindings: set[tuple[str, int]] = set()  # passed to an exp map at the origin: never ball points
        self.switched_bindings: set[tuple[str, int]] = set()  # consumed on the hyperbolic arm of a flat/hyperbolic switch
        self.locals, self.classes = self._own_functions()
        for qualname, params in self.inputs.received.items():
            if qualname in self.locals:
                self.locals[qualname].received = {name: _received(name, fact) for name, fact in params.items()}
        for qualname, params in self.inputs.received_by_name.items():
            if qualname in self.locals:
                received = self.locals[qualname].received
                for name, fact in params.items():
                    taint = _received(name, fact).at_most(MEDIUM)
                    if name not in received or received[name].confidence < taint.confidence:
                        received[name] = taint
        self._spelled_distances()
        self.geometry_module, self.geometry_classes = self._geometry_owners()
        self._geometry_helpers = self._helpers_of_primitives()
        self.attributes: dict[tuple[str, str], Taint] = {}  # (class, attribute) -> ball points stored there
        self._assigned_once: dict[str, set[str]] = {}  # class -> attributes its methods assign exactly once
        self.calls_out: dict[str, dict[str, Taint]] = {}
        # id(call) -> (project target, slot -> literal curvature of the ball point passed or "", the call): `summary`
        self.curvatures_out: dict[int, tuple[str, dict[str, str], cst.CSTNode]] = {}
        self._function_heads = {*self.imports.aliases, *(name for name in self.locals if "." not in name), "self", "cls"}
        self._function_now: str | None = None
        self.references: set[str] = set()
        self._positions: Positions | None = None  # computed for the first finding or step the text cannot place
        self._text_searches = 0  # lines found in the text so far (`_line`)

    def run(self) -> list[Finding]:
        self.direct, _ = scopes_containing(self.module, self._candidate())
        for _ in range(_MAX_ROUNDS):
            before = self._signature()
            self.hits, self.other_hits, self.covered, self.calls_out, self.curvatures_out = {}, {}, set(), {}, {}
            self._scope(self.module, self.module.body, {}, None, None)
            if self._signature() == before:
                break
        return [self._finding(*hit) for hit in self.hits.values()] + [self._other_finding(*hit) for hit in self.other_hits.values()]

    def _signature(self) -> tuple:
        return (
            tuple((name, local.signature()) for name, local in self.locals.items()),
            tuple(sorted((key, taint.confidence) for key, taint in self.attributes.items())),
            tuple(sorted(self.ball_bindings)),
        )

    def _own_functions(self) -> tuple[dict[str, _Local], set[str]]:
        """Module-level functions and the methods of module-level classes, by local qualname."""
        found: dict[str, _Local] = {}
        classes: set[str] = set()
        for statement in self.module.body:
            if isinstance(statement, cst.FunctionDef):
                found[statement.name.value] = _Local(statement, False)
            elif isinstance(statement, cst.ClassDef):
                classes.add(statement.name.value)
                for inner in statement.body.body:
                    if isinstance(inner, cst.FunctionDef):
                        is_static = any(last_name(d.decorator) == "staticmethod" for d in inner.decorators)
                        found[f"{statement.name.value}.{inner.name.value}"] = _Local(inner, not is_static)
        return found, classes

    def _spelled_distances(self) -> None:
        """A function that spells out the Poincaré distance of two of its parameters (`def hyperbolic_dist(u, v)`:
        arccosh of 1 + 2‖u−v‖²/((1−‖u‖²)(1−‖v‖²))) takes ball points there: what its callers pass is consumed, as
        by `poincare_distance`. *Low*: the formula is read from the text (`vaeaudit.scan.rules.hyp005`), and the points such
        a function takes are as often synthetic (a plot of the metric over a grid of points) as ones the code puts to use."""
        if self.text is not None and not spells_poincare_distance(self.text):
            return  # the usual case: no statement of the file divides by the conformal factors
        for local in self.locals.values():
            operands = distance_operands(self.code(local.function), local.params)
            if operands is None:
                continue
            why = f"{local.function.name.value}() spells out the Poincaré distance of `{operands[0]}` and `{operands[1]}`"
            for param in operands:
                local.consumes[param] = Taint(LOW, (Step(why, local.function),))

    # -- project summary --------------------------------------------------------------------

    def summary(self) -> FileSummary:
        functions = {
            name: FunctionSummary(
                local.params,
                self._fact(local.returns),
                {key: self._fact(taint) for key, taint in local.parts.items() if taint.kind == "point"},  # a fact is a point's
                {key: self._fact(taint) for key, taint in local.consumes.items()},
                local.hands_back(),
                _delegated_to(local.function) if "." in name else None,
            )
            for name, local in self.locals.items()
        }
        for name, function in functions.items():
            klass, _, method = name.rpartition(".")
            if method == "__init__":  # the constructor returns an instance known by its ball-point attributes
                for key, taint in self._instance_parts(klass):
                    if taint.kind in ("point", "table"):
                        function.parts[key if taint.kind == "point" else f"{key}.weight"] = self._fact(taint)
        calls = [
            (target, {slot: self._fact(taint) for slot, taint in arguments.items()}) for target, arguments in sorted(self.calls_out.items())
        ]
        curvatures = self._curvature_calls()
        keys = tuple(sorted(self.values.dotted_keys))
        loads = tuple(sorted(self.values.artifacts_read))
        artifacts = {artifact: self._fact(taint) for artifact, taint in sorted(self.artifacts.items())}
        stars, exports = tuple(self.imports.star_modules), exported_names(self.module)
        references = tuple(sorted(self.references))
        bases = self._project_bases()
        return FileSummary(self.module_name, functions, calls, references, curvatures, keys, loads, artifacts, stars, exports, bases)

    def _project_bases(self) -> dict[str, tuple[str, ...]]:
        """The dotted names of the base classes of each top-level class that may be the project's (not torch's)."""
        found = {}
        for statement in self.module.body:
            if isinstance(statement, cst.ClassDef):
                names = []
                for base in statement.bases:
                    if base.keyword is not None:
                        continue  # `metaclass=ABCMeta`
                    named = base.value.value if isinstance(base.value, cst.Subscript) else base.value  # `Base[T]`
                    if isinstance(named, cst.Name) and named.value in self.classes:
                        qualified: str | None = f"{self.module_name}.{named.value}"
                    else:
                        qualified = self.imports.qualify(named)
                    if qualified is not None and qualified.partition(".")[0] not in _LIBRARY_ROOTS:
                        names.append(qualified)
                if names:
                    found[statement.name.value] = tuple(names)
        return found

    @overload
    def _fact(self, taint: Taint) -> Fact: ...
    @overload
    def _fact(self, taint: Taint | None) -> Fact | None: ...
    def _fact(self, taint: Taint | None) -> Fact | None:
        if taint is None:
            return None
        on = taint.on if taint.on is None or taint.on.passed_parameter() is None else None
        manifold = None if on is None else (on.expression, on.kind, self._where(on.origin))
        return taint.confidence, tuple(self._describe(step, with_path=True) for step in reversed(taint.steps)), manifold

    def _target(self, func: cst.BaseExpression, klass: str | None, env: Env | None = None) -> tuple[str, str] | None:
        """("local", qualname) or ("external", dotted target) for a call of the project's own code
        (`metric.loss(z)` too, where `metric` holds an instance of a known project class)."""
        on_self = isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls")
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call) and dotted(func.value.func) == "super":
            return self._base_method(klass, func.attr.value)
        called = self._called_instance(func, klass, env)
        if called is not None:
            return called
        untyped = False
        if env is not None and isinstance(func, cst.Attribute) and not on_self:
            owner = self.values.of(func.value, env)
            if owner is not None and owner.klass is not None:
                kind, name = owner.klass
                method = f"{name}.{func.attr.value}"
                if kind == "external":
                    return "external", method  # `summaries` finds a method the class inherits by its name
                return ("local", method) if method in self.locals else _by_name(func.attr.value)
            untyped = owner is None
        if isinstance(func, cst.Name):
            name = func.value
            if name in self.locals and "." not in name:
                return "local", name
            if name in self.classes and f"{name}.__init__" in self.locals:
                return "local", f"{name}.__init__"
        if on_self:
            method = cast(cst.Attribute, func).attr.value
            qualname = f"{klass}.{method}"
            if qualname in self.locals:
                return "local", qualname
            return self._base_method(klass, method) if klass is not None else None  # a method a base class defines
        qualified = self.imports.qualify(func)
        if qualified is None:  # a method of a receiver nothing types (`model.embedding()` of a parameter `model`)
            return _by_name(cast(cst.Attribute, func).attr.value) if untyped else None
        if qualified.partition(".")[0] in _LIBRARY_ROOTS:
            return None
        return "external", qualified

    def _called_instance(self, func: cst.BaseExpression, klass: str | None, env: Env | None) -> tuple[str, str] | None:
        """A module called as a function runs its `forward` (`self(x)`, `self.encoder(x)`, `model(x)` of an
        instance of a project class; `__call__` for a plain class that defines one)."""
        if isinstance(func, cst.Name) and func.value == "self" and klass is not None:
            return self._call_method(klass)
        key = dotted(func)
        if env is None or key is None:
            return None
        # `model(x)`, or `vae.encoder(x)`: an instance attribute of an instance
        instance = env[key] if key in env else self.values.of(func, env) if isinstance(func, cst.Attribute) else None
        if instance is None or instance.klass is None:
            return None
        kind, name = instance.klass
        return ("external", f"{name}.forward") if kind == "external" else self._call_method(name)

    def _call_method(self, klass: str) -> tuple[str, str] | None:
        """`Klass.forward` (or `__call__`), also one a base class of the project defines."""
        own = next((("local", f"{klass}.{method}") for method in ("forward", "__call__") if f"{klass}.{method}" in self.locals), None)
        return own or self._base_method(klass, "forward")

    def _base_method(self, klass: str | None, method: str) -> tuple[str, str] | None:
        """`super().method(...)` in a class of this module: the method of its first base class of the project."""
        node = self._class_named(klass) if klass is not None else None
        for base in node.bases if node is not None else ():
            if isinstance(base.value, cst.Name) and base.value.value in self.classes:
                qualname = f"{base.value.value}.{method}"
                return ("local", qualname) if qualname in self.locals else _by_name(method)
            qualified = self.imports.qualify(base.value)
            if qualified is not None and qualified.partition(".")[0] not in _LIBRARY_ROOTS:
                return "external", f"{qualified}.{method}"
        return None

    def _callee(self, target: tuple[str, str]) -> tuple[tuple[str, ...], Taint | None, dict[str, Taint], dict[str, Taint]] | None:
        """(params, returns, parts, consumes) of a resolved callee, as live evidence."""
        kind, name = target
        if kind == "local":
            local = self.locals[name]
            klass, _, method = name.rpartition(".")
            if method == "__init__":
                return local.params, local.returns, {**local.parts, **dict(self._instance_parts(klass))}, local.consumes
            return local.params, local.returns, local.parts, local.consumes
        summary = self.inputs.external.get(name)
        if summary is None:
            return None
        returns = _imported(summary.returns)
        parts = {key: _imported(fact, manifold=key.startswith(".")) for key, fact in summary.parts.items()}
        consumes = {key: _imported(fact) for key, fact in summary.consumes.items()}
        if name.startswith(BY_NAME):
            returns = returns.at_most(MEDIUM) if returns is not None else None
            parts = {key: taint.at_most(MEDIUM) for key, taint in parts.items()}
            consumes = {key: taint.at_most(MEDIUM) for key, taint in consumes.items()}
        return summary.params, returns, parts, consumes

    def _constructed(self, func: cst.BaseExpression, target: tuple[str, str] | None) -> tuple[str, str] | None:
        """The project class a call constructs: a class of this file, or an imported `CamelCase` name of the project."""
        if isinstance(func, cst.Name) and func.value in self.classes:
            return "local", func.value
        if target is not None and target[0] == "external" and target[1].rpartition(".")[2][:1].isupper() and target[1][:2] != BY_NAME:
            return target
        return None

    def _annotated_instances(self, function: cst.FunctionDef) -> dict[str, Taint]:
        """Parameters annotated with a project class (`metric: DiffusionMetric`) hold its instances."""
        found: dict[str, Taint] = {}
        for param in all_params(function.params):
            annotation = param.annotation.annotation if param.annotation is not None else None
            if isinstance(annotation, cst.SimpleString) and isinstance(annotation.evaluated_value, str):
                text = annotation.evaluated_value
                annotation = cst.Name(text) if text.isidentifier() else None
            if not isinstance(annotation, (cst.Name, cst.Attribute)):
                continue
            external = self.imports.qualify(annotation)
            target = None if external is None or external.partition(".")[0] in _LIBRARY_ROOTS else ("external", external)
            klass = self._constructed(annotation, target)
            if klass is not None:
                step = Step(f"{param.name.value}: annotated `{self.values.short(annotation)}`", param)
                found[param.name.value] = self._instance(klass).along(step)
        return found

    def _instance(self, klass: tuple[str, str]) -> Taint:
        """A new instance of `klass`, known by the ball points its methods store in attributes."""
        kind, name = klass
        if kind == "local":
            parts = self._instance_parts(name)
        else:
            summary = self.inputs.external.get(name)
            facts = summary.parts.items() if summary is not None else ()
            parts = [(key, _imported(fact, manifold=True)) for key, fact in facts if key.startswith(".")]
        return Taint(HIGH, (), "container", tuple(parts), klass)

    def _instance_parts(self, klass: str) -> list[tuple[str, Taint]]:
        """(".attribute", taint) for each attribute of `klass` its methods set to ball points, and for each of its
        ball-point embedding tables (`.lt`, a "table"; across files its weight, `.lt.weight`, a point)."""
        parts = [(f".{attribute}", taint) for (owner, attribute), taint in sorted(self.attributes.items()) if owner == klass]
        node = self._class_named(klass)
        tables = self.tables.of(node) if node is not None else {}
        return parts + [(key[4:], table) for key, table in sorted(tables.items())]

    def _returns_tuple(self, call: cst.Call, env: Env) -> bool:
        target = self._target(call.func, self._class_now, env)
        return target is not None and target[0] == "local" and target[1] in self.locals and self.locals[target[1]].returns_tuple

    def _returned_by(self, call: cst.Call, env: Env) -> Taint | None:
        """Ball points (or a dict/tuple of them) returned by a project function."""
        target = self._target(call.func, self._class_now, env)
        constructed = self._constructed(call.func, target)
        if constructed is not None:
            return self._instance(constructed)
        callee = self._callee(target) if target is not None else None
        if callee is None:
            return self._given_curvature(call, target)
        params, returns, parts, _ = callee
        if parts:
            return Taint(min(t.confidence for t in parts.values()), (), "container", tuple(parts.items()))
        local = self.locals[target[1]] if target is not None and target[0] == "local" else None
        hands_back = local.hands_back() if local is not None else self._external_hands_back(target)
        passes = hands_back or (local.passes if local is not None else None)
        if returns is None or passes is None:
            return returns
        # `unpack(v)` returns (a view of) v: the points lie on the caller's argument's manifold
        argument = next((value for slot, value in _slots(call) if _parameter(params, slot) == passes), None)
        given = self.values.of(argument, env) if argument is not None else None
        point = given if given is not None and given.kind == "point" else None
        if hands_back is not None:  # all it knows of v is what callers pass (`to_np(x)`): this caller's points, or none
            return point.then(Step(f"{self.values.short(call.func)}() hands back its argument", call)) if point is not None else None
        return replace(returns, on=point.on if point is not None else None)

    def _external_hands_back(self, target: tuple[str, str] | None) -> str | None:
        summary = self.inputs.external.get(target[1]) if target is not None and target[0] == "external" else None
        return summary.hands_back if summary is not None else None

    def _given_curvature(self, call: cst.Call, target: tuple[str, str] | None) -> Taint | None:
        """A call of code the scan cannot read (a third-party package), given a curvature by keyword
        (`constructively_embed_tree(tree, dim, curvature=1.0)`): its result is a guess at ball points (low)."""
        qualified = self.imports.qualify(call.func)
        name = last_name(call.func) or ""
        if (
            (target is not None and target[0] == "local")
            or (qualified is not None and qualified.partition(".")[0] in _LIBRARY_ROOTS)
            or from_other_geometry(qualified)
            or not name
            or _NOT_POINTS.search(name)
        ):
            return None
        keyword = next(
            (arg.keyword.value for arg in call.args if arg.keyword is not None and arg.keyword.value in CURVATURE_KEYWORDS), None
        )
        if keyword is None:
            return None
        return Taint(LOW, (Step(f"`{self.values.short(call, 40)}` is given `{keyword}=`: its result is taken as ball points", call),))

    # -- scopes ---------------------------------------------------------------------------

    def _candidate(self):
        """A cheap test for nodes that may be Euclidean operations (match_euclidean decides)."""
        names = (
            _OPERATION_NAMES
            | self._loss_module_names()
            | {local for local, target in self.imports.aliases.items() if target.rpartition(".")[2] in _OPERATION_NAMES}
        )
        if self.settings.preview:
            names |= {word.decode() for rule in RULES.values() if rule.preview for word in rule.trigger_words}

        def is_candidate(node: cst.CSTNode) -> bool:
            # called on every node of the file: `type(...) is`, not isinstance on libcst's ABCs
            if type(node) is cst.Call:
                return last_name(node.func) in names
            if type(node) is not cst.BinaryOperation:
                return False
            if isinstance(node.operator, cst.Multiply):  # `(a - b) * (a - b)`, squared by hand
                return all(
                    isinstance(side, cst.BinaryOperation) and isinstance(side.operator, cst.Subtract) for side in (node.left, node.right)
                )
            return isinstance(node.operator, cst.Power)

        return is_candidate

    def _loss_module_names(self) -> set[str]:
        """Last names of what an `nn.MSELoss()` is assigned to (`criterion`, `self.mse`): calls of them are candidates.

        Walks statements only, never into expressions, so it costs little next to the parse.
        """
        names: set[str] = set()
        stack: list[cst.CSTNode] = [self.module]
        while stack:
            for child in children(stack.pop()):
                if isinstance(child, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                    for small in child.body:
                        if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, cst.Call):
                            if self.imports.qualify(small.value.func) in MSE_LOSS_MODULES:
                                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                                names.update(name for name in map(last_name, targets) if name is not None)
                elif isinstance(child, _STATEMENT_CONTAINERS):
                    stack.append(child)
        return names

    def _scope(self, owner: cst.CSTNode, body, env: Env, klass: str | None, qualname: str | None) -> None:
        """Analyse one scope, then the scopes nested in it.

        A function nested in a function starts from the environment where it is defined,
        so a closure sees the outer function's ball points. A scope runs again when the
        first run found new consumer evidence (a name passed to `poincare_distance` after
        its Euclidean norm was taken).
        """
        local = self.locals.get(qualname) if qualname is not None else None
        if local is not None and local.function is not owner:
            local = None  # a name defined twice (a notebook's cells): calls and summaries are the last definition's
        check = id(owner) in self.direct and not (isinstance(owner, cst.FunctionDef) and self._implementation(owner, klass))

        def make_flow(judge: UsageJudge) -> Dataflow:
            flow: Dataflow = Dataflow(
                self.values, lambda node, at: self._expression(node, at, judge, flow, klass, check), self.ball_bindings
            )
            return flow

        uses = _UsesIndex(owner)  # the scope's loads and stores: the same for both runs
        call_sites = functools.partial(self._call_sites, owner) if isinstance(owner, cst.FunctionDef) else None
        ending: Env = {}  # the environment a module's body leaves
        for _ in range(2):
            known = len(self.ball_bindings)
            self._class_now, self._function_now = klass, qualname
            judge = UsageJudge(self.code, uses, uses.value_before, self.values.is_euclidean_name, call_sites)
            flow = make_flow(judge)
            if isinstance(owner, cst.FunctionDef):
                if klass is not None:
                    env = {**env, **self._attributes_of(klass)}
                received = {**self._annotated_instances(owner), **(local.received if local is not None else {})}
                flow.run_function(owner, env, received)
            else:
                ending = flow.run_block(body, dict(env))
            if len(self.ball_bindings) == known:
                break
        if local is not None:
            self._record_function(local, flow)
        for bound, artifact in flow.artifact_bindings.items():
            proof, before = self.ball_bindings.get(bound), self.artifacts.get(artifact)
            if proof is None or proof.kind != "point" or bound in self.switched_bindings:
                continue  # no consumer evidence, or only on the hyperbolic arm of a switch
            if any(bound in flow.derived_from.get(read, ()) for read in flow.keyed_reads):
                continue  # `ckpt["emb"]` of a loaded checkpoint: one entry holds points, not every one
            if before is None or (proof.confidence, -len(proof.steps)) > (before.confidence, -len(before.steps)):
                self.artifacts[artifact] = proof
        top_level_class = isinstance(owner, cst.ClassDef) and any(owner is statement for statement in self.module.body)
        for node in _defined_in(owner):
            if type(node) is cst.FunctionDef:
                if isinstance(owner, cst.ClassDef):
                    self._scope(node, node.body, env, klass, f"{klass}.{node.name.value}" if top_level_class else None)
                elif isinstance(owner, cst.FunctionDef):
                    self._scope(node, node.body, flow.definitions.get(id(node), {}), klass, None)
                else:  # a module's function reads its globals when called: as the module leaves them
                    self._scope(node, node.body, self._globals_of(node, ending), None, node.name.value)
            elif type(node) is cst.ClassDef:
                self._scope(node, node.body.body, self._class_attributes(node), node.name.value, None)

    def _globals_of(self, function: cst.FunctionDef, ending: Env) -> Env:
        """The module's ball points `function` reads as globals: not the names it binds itself (any binding makes a
        name local to the whole function), nor those some function rebinds through a `global` statement."""
        if not ending:
            return {}
        if self._rebound_globals is None:
            self._rebound_globals = _declared_global(self.module) if self.text is None or "global" in self.text else set()
        shadowed = _bound_in(function) | self._rebound_globals
        return {key: taint for key, taint in ending.items() if key.partition(".")[0] not in shadowed}

    def _implementation(self, function: cst.FunctionDef, klass: str | None) -> bool:
        """Functions whose Euclidean norms are deliberate: a Euclidean baseline (`def euclidean_radius`),
        a helper named for the norm it computes (`square_norm`), an exp/log map or Möbius operation, or the
        geometry itself (a primitive or private helper of a module or class that implements the geometry)."""
        name = function.name.value
        if self.values.is_euclidean_name(name):
            return True
        if _NORM_HELPER.search(name):
            return True  # `def square_norm(x)`: a norm is what it is for; its callers' formulas decide
        if name.lstrip("_") in DEFINED_OPERATIONS:
            return True  # `def poincare_distance_matrix(X, kappa)`: the operation a ball consumer names, written out
        if id(function) in self._geometry_helpers:
            return True  # `map_(x, f, c)` of `exp_map`/`log_map`: part of the maps it serves
        if _MAP_PRIMITIVE.search(name) and not _TEST_NAME.match(name) and not _calls_a_map(function):
            return True  # it computes the map: one that calls a library's map only uses it (`def geoopt_expmap0`)
        if not (klass in self.geometry_classes if klass is not None else self.geometry_module):
            return False  # a model class beside the geometry (`HyperbolicGBMS._graph_cluster`) uses it
        if _TEST_NAME.match(name):
            return False  # a test of the geometry (`test_expmap0_logmap0`) uses it, it does not implement it
        if _MAP_PRIMITIVE.search(name) is None and _calls_a_map(function):
            return False  # `def dist_from_origin(x): return expmap0(x).norm()` beside the maps: it uses them
        return name.startswith("_") or _PRIMITIVE.search(name) is not None

    def _geometry_owners(self) -> tuple[bool, set[str]]:
        """Whether the module (or which of its classes) implements the geometry: 3+ strong primitives defined
        (tests named for them, `test_mobius_add`, implement nothing)."""
        module_primitives = 0
        classes: dict[str, int] = {}
        for qualname in self.locals:
            owner, _, name = qualname.rpartition(".")
            if _STRONG_PRIMITIVE.search(name) and not _TEST_NAME.match(name):
                if owner:
                    classes[owner] = classes.get(owner, 0) + 1
                else:
                    module_primitives += 1
        geometry = {owner for owner, count in classes.items() if count >= 3}
        bases = {
            statement.name.value: {last_name(base.value) for base in statement.bases}
            for statement in self.module.body
            if isinstance(statement, cst.ClassDef)
        }
        grown = True
        while grown:  # `class Mobius(HyperbolicDisk)`: a subclass of a geometry class implements the geometry too
            heirs = {klass for klass, named in bases.items() if klass not in geometry and named & geometry}
            geometry |= heirs
            grown = bool(heirs)
        return module_primitives >= 3, geometry

    def _helpers_of_primitives(self) -> set[int]:
        """The functions of a geometry module (methods of a geometry class) that its primitives call by name
        (`log_map(x, c)` returning `map_(x, torch.tanh, c)`): their norms are the primitives' formulas."""
        helpers: set[int] = set()
        for qualname, local in self.locals.items():
            klass, _, name = qualname.rpartition(".")
            owner_is_geometry = klass in self.geometry_classes if klass else self.geometry_module
            if not owner_is_geometry or not _STRONG_PRIMITIVE.search(name) or _TEST_NAME.match(name):
                continue
            for node, _ in walk(local.function.body):
                if not isinstance(node, cst.Call):
                    continue
                called = dotted(node.func) or ""
                if klass and called.startswith("self."):
                    called = f"{klass}.{called[5:]}"  # a method of the same class
                helper = self.locals.get(called)
                if helper is not None and helper is not local:
                    helpers.add(id(helper.function))
        return helpers

    def _record_function(self, local: _Local, flow: Dataflow) -> None:
        """What one run of a function says about it: returns, returned containers, consumed parameters."""
        returned = [taint for _, taint in flow.returned]
        points = [taint for taint in returned if taint is not None and taint.kind == "point"]
        documented = None
        if not points and not any(self.values.is_known_euclidean(value) for value, _ in flow.returned):
            documented = self._documented_return(local.function)
        if documented is not None:
            local.returns = documented
        elif points:
            passed = {taint.on.passed_parameter() if taint.on is not None else None for taint in points}
            local.passes = passed.pop() if len(points) == len(returned) and len(passed) == 1 else None
            best = max(points, key=lambda taint: taint.confidence)
            value = next(value for value, taint in flow.returned if taint is best)
            best = best.then(Step(f"{local.function.name.value}() returns {self.values.short(value)}", value))
            if len(points) < len(returned):
                best = best.weaker(Step(f"{local.function.name.value}() returns ball points on some paths only", local.function))
            local.returns = best.portable()
        for taint in returned:
            if taint is not None and taint.kind == "container":
                value = next(value for value, returned_taint in flow.returned if returned_taint is taint)
                for key, part in taint.parts:
                    part = part.then(
                        Step(
                            f"{local.function.name.value}() returns it under {key!r}"
                            if not key.startswith("#")
                            else f"{local.function.name.value}() returns it at position {key[1:]}",
                            value,
                        )
                    )
                    if key not in local.parts or local.parts[key].confidence < part.confidence:
                        # an instance's attributes keep their manifold, spelled relative to the instance
                        local.parts[key] = part if taint.is_instance() else part.portable()
        for param in all_params(local.function.params):
            consumed = self.ball_bindings.get((param.name.value, id(param)))
            if (param.name.value, id(param)) in self.switched_bindings:
                continue  # consumed on the hyperbolic arm of a switch only: callers may pass flat values
            if consumed is not None and param.name.value in local.params:
                local.consumes[param.name.value] = consumed.portable()

    def _documented_return(self, function: cst.FunctionDef) -> Taint | None:
        """`-> PoincareTensor` (medium) or a docstring line "returns points on the Poincaré ball" (low)."""
        if function.returns is not None:
            annotation = self.values.code(function.returns.annotation)
            if HYPERBOLIC_ANNOTATION.search(annotation) and not EUCLIDEAN_ANNOTATION.search(annotation):
                return Taint(MEDIUM, (Step(f"{function.name.value}() is annotated to return `{annotation}`", function),))
        for text in return_descriptions(function.get_docstring() or ""):
            if HYPERBOLIC_DOCSTRING.search(text) and not EUCLIDEAN_DOCSTRING.search(text) and not _not_a_point(text):
                return Taint(LOW, (Step(f"{function.name.value}() docstring says {' '.join(text.split())[:60]!r}", function),))
        return None

    def _attributes_of(self, klass: str) -> Env:
        """`self.z = exp_map_zero(...)` in one method makes `self.z` a ball point in the others."""
        return {f"self.{attribute}": taint for (owner, attribute), taint in self.attributes.items() if owner == klass}

    def _class_attributes(self, klass: cst.ClassDef) -> Env:
        """`self.proj = HyperbolicProjection(...)` anywhere in the class makes `self.proj(...)` a source;
        `self.manifold = geoopt.PoincareBall(...)` (or `geoopt.Lorentz()`), bound once, names that manifold in every
        method; the embedding table of a class trained with a Poincaré distance holds ball points
        (`vaeaudit.scan.tables`)."""
        env: Env = dict(self.tables.of(klass))
        for node, _ in walk(klass.body):
            if isinstance(node, cst.FunctionDef):
                balls: Env = {param.name.value: self.values.annotated_ball(param) for param in all_params(node.params)}
                for inner, _ in walk(node.body):
                    if isinstance(inner, cst.Assign) and isinstance(inner.value, cst.Name) and balls.get(inner.value.value):
                        taint = balls[inner.value.value]  # `self.manifold = manifold` of `manifold: geoopt.PoincareBall`
                        if taint is not None and self._once(klass, inner.targets):
                            key = self.code(inner.targets[0].target)
                            env[key] = taint.then(Step(f"{key} = {inner.value.value}", inner))
                    if isinstance(inner, cst.Assign) and isinstance(inner.value, cst.Call):
                        taint = self.values.of(inner.value, {})
                        manifold = taint is not None and taint.kind in ("ball-manifold", "other-manifold")
                        once = taint is not None and (not manifold or self._once(klass, inner.targets))
                        if taint is not None and taint.kind in ("projector", "mse-loss", "ball-manifold", "other-manifold") and once:
                            for target in inner.targets:
                                key = self.code(target.target)
                                env[key] = taint.then(Step(f"{key} = {self.values.short(inner.value)}", inner))
        return env

    # -- one walk per expression ---------------------------------------------------------------

    def _expression(self, root: cst.CSTNode, env: Env, judge: UsageJudge, flow: Dataflow, klass: str | None, check: bool) -> None:
        if klass is not None and isinstance(root, cst.Assign):
            self._remember_attribute(root, env, klass)
        context = euclidean_context(flow.branches) if check else None
        self._check_expression(root, env, judge, flow, klass, check and context is None)

    def _once(self, klass: cst.ClassDef, targets) -> bool:
        """Whether `self.x = ...` (one target) is the class's only binding of `self.x`: then `self.x` names one object everywhere."""
        if len(targets) != 1:
            return False
        key = dotted(targets[0].target)
        return key is not None and key.startswith("self.") and key.count(".") == 1 and key[5:] in self._attributes_once(klass)

    def _attributes_once(self, klass: cst.ClassDef) -> set[str]:
        name = klass.name.value
        if name not in self._assigned_once:
            counts: dict[str, int] = {}
            stack: list[cst.CSTNode] = [klass.body]
            while stack:  # every node of the class, nested functions included (counting more is only safer)
                node = stack.pop()
                stack.extend(children(node))
                targets: list[cst.BaseExpression] = []
                if isinstance(node, cst.Assign):
                    targets = [target.target for target in node.targets]
                    targets += [e.value for t in targets if isinstance(t, (cst.Tuple, cst.List)) for e in t.elements]
                elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
                    targets = [node.target]
                elif isinstance(node, cst.NamedExpr):
                    targets = [node.target]
                for target in targets:
                    key = dotted(target)
                    if key is not None and key.startswith("self.") and key.count(".") == 1:
                        counts[key[5:]] = counts.get(key[5:], 0) + 1
            self._assigned_once[name] = {attribute for attribute, count in counts.items() if count == 1}
        return self._assigned_once[name]

    def _class_named(self, name: str) -> cst.ClassDef | None:
        return next((s for s in self.module.body if isinstance(s, cst.ClassDef) and s.name.value == name), None)

    def _stored_manifold(self, taint: Taint, klass: str) -> Taint:
        """A point stored in `self.x` keeps its manifold for the other methods (and the instance's readers)
        only when that is `self.m`, an attribute the class binds once; a local name means nothing there."""
        on = taint.on
        if taint.kind != "point" or on is None:
            return taint
        owner = self._class_named(klass)
        attribute = on.expression[5:] if on.expression.startswith("self.") else ""
        if owner is None or "." in attribute or attribute not in self._attributes_once(owner):
            return replace(taint, on=None)
        return taint

    def _remember_attribute(self, assign: cst.Assign, env: Env, klass: str) -> None:
        for target in assign.targets:
            key = dotted(target.target)
            if key is not None and key.startswith("self.") and key.count(".") == 1:
                taint = self.values.of(assign.value, env)
                if taint is not None and taint.kind == "point":
                    taint = self._stored_manifold(taint, klass)
                if taint is not None and (taint.kind == "point" or taint.is_instance()):
                    previous = self.attributes.get((klass, key[5:]))
                    if previous is None or previous.confidence < taint.confidence:
                        self.attributes[(klass, key[5:])] = taint.then(Step(f"{key} <- {self.values.short(assign.value)}", assign))

    def _check_expression(self, root, env: Env, judge: UsageJudge, flow: Dataflow, klass, check: bool, above: Ancestors = ()) -> None:
        for node, ancestors in walk(root, above, stop=_COMPREHENSIONS):
            # `type(node)`, not isinstance: libcst's nodes are ABCs, and this loop sees every node of the code
            if type(node) in _COMPREHENSION_TYPES and node is not root:
                self._check_comprehension(node, ancestors, env, judge, flow, klass, check)
                continue
            if type(node) is cst.Lambda and node is not root:
                # Its parameters shadow outer names; nothing is known about what they receive.
                shadowed = {param.name.value for param in all_params(node.params)}
                inner_env = {key: value for key, value in env.items() if key.partition(".")[0] not in shadowed}
                self._check_expression(node, inner_env, judge, flow, klass, check, ancestors)
                continue
            if type(node) is cst.Call:
                self._call_facts(node, env, flow, klass)
                if check and self.settings.preview:
                    self._preview_rules(node, ancestors, env)
            elif type(node) is cst.Name or type(node) is cst.Attribute:
                self._named_function(node, ancestors, klass)
            if not check or (type(node) is not cst.Call and type(node) is not cst.BinaryOperation) or id(node) in self.covered:
                continue
            self._check_operation(node, ancestors, env, judge, flow.place)

    def _call_facts(self, call: cst.Call, env: Env, flow: Dataflow, klass: str | None) -> None:
        """Consumer evidence, and the ball points this call passes to project functions."""
        consumed = [(argument, Taint(HIGH), name) for argument, name in consumed_arguments(call, self.imports)]
        for argument in tangent_arguments(call, self.imports):
            key = self.values.carrier(argument)
            binding = flow.last_binding.get(key) if key is not None else None
            if key is not None and binding is not None:
                self.tangent_bindings.add((key, id(binding)))
                self.ball_bindings.pop((key, id(binding)), None)
        receiver = call.func.value if isinstance(call.func, cst.Attribute) else None
        manifolds = (receiver, declared_manifold(call, self.imports))
        if consumed and any(node is not None and self.values.other_manifold(node, env) for node in manifolds):
            consumed = []  # `sphere.dist(x, y)`, `ManifoldTensor(x, manifold=sphere)`: points of another manifold
        target = self._target(call.func, klass, env)
        callee = self._callee(target) if target is not None else None
        if target is not None and target[0] == "external":
            self.references.add(target[1])
        if callee is not None:
            params, _, _, consumes = callee
            for slot, argument in _slots(call):
                param = _parameter(params, slot)
                if param is not None and param in consumes:
                    consumed.append((argument, consumes[param], f"{self.values.short(call.func)} as `{param}`"))
        switch = hyperbolic_switch(flow.branches) if consumed else None
        for argument, why, callee_name in consumed:
            key = self.values.carrier(argument)
            binding = flow.last_binding.get(key) if key is not None else None
            if key is None or binding is None:
                continue
            if switch is not None:
                # `if is_hyperbolic: draw_geodesic(p1, p2)`: ball points only when the caller asks for the ball; no
                # evidence about what a parameter holds on the flat arm (R1704's Euclidean baseline shares the plotter)
                why = why.weaker(Step(f"only under `if {self.values.short(switch, 40)}:`", call))
            # through the names it views or converts (`x_t = ManifoldTensor(torch.tensor(x))`) and both arms of an `if`
            pending = [((key, id(binding)), why.then(Step(f"{key} is passed to {callee_name}", call)))]
            for _ in range(_MAX_VIEWS):
                following = []
                for bound, evidence in pending:
                    upgrade = switch is None and bound in self.switched_bindings  # seen unconditionally at last
                    if (bound in self.ball_bindings and not upgrade) or bound in self.tangent_bindings:
                        continue
                    self.ball_bindings[bound] = evidence
                    if switch is not None:
                        self.switched_bindings.add(bound)
                    else:
                        self.switched_bindings.discard(bound)
                    for source in flow.derived_from.get(bound, ()):
                        if bound in flow.keyed_reads and flow.filled_at_one_site(source[0]):
                            # every value of a store filled at one site comes from that site: all its keys hold points
                            step = evidence.then(Step(f"{source[0]} is filled at one site: its values are all like {bound[0]}", call))
                            step = step.at_most(MEDIUM)  # an inference about the other keys, not a chain to each
                            following.append((source, Taint(step.confidence, kind="container", parts=((EVERY_KEY, step),))))
                            continue
                        step = evidence if source[0] == bound[0] else evidence.then(Step(f"{bound[0]} views {source[0]}", call))
                        following.append((source, step))
                pending = following
        if target is None:
            return
        passed: dict[str, Taint] = {}
        curvatures = {"*": ""} if any(argument.star for argument in call.args) else {}
        # `else: info_nce_loss(anchor_emb, ...)` under `if is_hyperbolic:`: the flat arm passes Euclidean values
        flat = euclidean_context(flow.branches) is not None
        for slot, argument in _slots(call):
            taint = self.values.of(argument, env)
            on = taint.on if taint is not None and taint.kind == "point" else None
            curvatures[slot] = (on.c if on is not None else None) or ""
            if taint is not None and taint.kind in ("point", "container") and not flat:
                param = _parameter(callee[0], slot) if callee is not None else None
                head = f"{param} <- " if param is not None and target[0] == "local" else ""
                passed[slot] = taint.along(
                    Step(f"{head}argument of {self.values.short(call.func)}({self.values.short(argument, 30)})", call)
                )
        self.curvatures_out[id(call)] = (self._qualified(target), curvatures, call)
        if not passed:
            return
        if target[0] == "local":
            local = self.locals[target[1]]
            for slot, taint in passed.items():
                param = _parameter(local.params, slot)
                if param is not None and (param not in local.received or local.received[param].confidence < taint.confidence):
                    local.received[param] = taint.portable()
        else:
            arguments = self.calls_out.setdefault(target[1], {})
            for slot, taint in _exported_slots(passed):
                if slot not in arguments or arguments[slot].confidence < taint.confidence:
                    arguments[slot] = taint

    def _named_function(self, node: cst.Name | cst.Attribute, ancestors: Ancestors, klass: str | None) -> None:
        """A project function named but not called (`map(radius, zs)`, `fn = self.radius`) has callers the
        scan cannot see: recorded as a call that passes unknown values (`FileSummary.curvatures`)."""
        parent = ancestors[-1] if ancestors else None
        if isinstance(parent, cst.Call) and parent.func is node or isinstance(parent, cst.Arg) and parent.keyword is node:
            return  # a call of it, `f(radius=...)`
        if isinstance(parent, _NOT_A_USE):
            return  # a part of a longer dotted name (its outermost node counts), an import, a definition
        head = dotted(node)
        if head is None or head.partition(".")[0] not in self._function_heads:
            return
        target = self._target(node, klass)
        if target is not None and (target[0] == "external" or target[1] in self.locals):
            self.curvatures_out.setdefault(id(node), (self._qualified(target), {"*": ""}, node))

    def _call_sites(self, function: cst.FunctionDef) -> list[tuple[cst.Call, Ancestors]] | None:
        """Every call of `function` with its ancestors, when this file surely holds them all: a function defined at the
        top of a notebook (nothing imports a notebook) or a private one (`_helper`), its name used only to call it.
        None otherwise, or when nothing calls it (a vacuous "every caller" proves nothing)."""
        name = function.name.value
        if not (self.path.endswith(".ipynb") or name.startswith("_")) or not any(statement is function for statement in self.module.body):
            return None
        if self._names_of_functions is None:  # one walk for every function of the file
            self._names_of_functions = {}
            top = frozenset(qualname for qualname in self.locals if "." not in qualname)
            for use, above in names_within(self.module, top) if top else ():
                self._names_of_functions.setdefault(use.value, []).append((use, above))
        sites: list[tuple[cst.Call, Ancestors]] = []
        for use, above in self._names_of_functions.get(name, ()):
            if use is function.name:
                continue
            call = above[-1] if above else None
            if not isinstance(call, cst.Call) or call.func is not use:
                return None  # passed along, stored or rebound: its callers are not all in sight
            sites.append((call, above[:-1]))
        return sites or None

    def _curvature_calls(self) -> list[tuple[str, dict[str, str], str]]:
        """`FileSummary.curvatures`: each call passing points of a fixed curvature (rare) with its line; of the others,
        which pass nothing known to any parameter whatever their slots, the first call of each target with its code
        (it spares the positions of the whole file when the call's text is not unique, `_line`). The place is
        relative to this file (`:12`, ``: `f(x)` ``): `solve` puts the path in front, the summaries file stays small."""
        found: list[tuple[str, dict[str, str], str]] = []
        plain: set[str] = set()
        for target, slots, call in self.curvatures_out.values():
            if any(slots.values()):
                found.append((target, slots, f":{self._line(call)}"))
            elif target not in plain:
                plain.add(target)
                found.append((target, {}, f": `{self.values.short(call, 40)}`"))
        return found

    def _qualified(self, target: tuple[str, str]) -> str:
        """A call target as `solve` finds it in the whole project: this file's own functions by its module's name."""
        kind, name = target
        return f"{self.module_name}.{name}" if kind == "local" else name

    def _check_operation(self, node, ancestors: Ancestors, env: Env, judge: UsageJudge, place: Place) -> None:
        """Record a finding for the Euclidean operation at `node` (`ancestors` up to its statement, the one at `place`)."""
        op = match_euclidean(node, self.imports, self.code) or self._loss_module_call(node, env)
        if op is None:
            return
        measured = op.x  # `diff` of `diff / diff.norm()` (a direction), even when read as a distance below
        if op.kind == "norm" and isinstance(op.x, cst.Name) and judge.value_before is not None:
            bound = judge.value_before(op.x)  # `diff = x - y` ... `diff.norm(dim=-1)`: the distance between x and y
            # (not `x = x - lr * grad`: a step updates the points it starts from, it measures no difference)
            updated = isinstance(bound, cst.BinaryOperation) and isinstance(bound.left, cst.Name) and bound.left.value == op.x.value
            if isinstance(bound, cst.BinaryOperation) and isinstance(bound.operator, cst.Subtract) and not updated:
                op = replace(op, kind="distance", x=bound.left, y=bound.right, fixable=False)
        if op.covers is not None:
            self.covered.add(id(op.covers))
        x_taint = self._point(op.x, env)
        y_taint = self._point(op.y, env) if op.y is not None else None
        if op.kind == "distance" and op.y is not None and not self._same_points(op) and (x_taint is None or y_taint is None):
            return  # a distance needs BOTH operands on the ball (`z - mu` with mu a tangent vector is not one)
        if x_taint is None and y_taint is None:
            return
        if self.test_module and op.y is not None and not self._same_points(op) and printed_disagreement(node, ancestors):
            return  # a test prints how far two computations of the same points disagree
        if judge.exemption(node, ancestors, self.code(measured), radius=op.kind == "norm") is not None:
            return
        if deliberately_euclidean(ancestors, self.code, self.values.is_euclidean_name) or shown_as_euclidean(
            node, ancestors, self.code, place
        ):
            return
        statements, index = place
        following = statements[index + 1] if index + 1 < len(statements) else None
        if op.kind == "norm" and judge.printed_before_its_check(node, ancestors, following):
            return
        if op.kind == "norm" and (printed_maximum(node, ancestors) or judge.printed_maximum_by_name(node, ancestors)):
            return  # a look at how near the boundary the points come: a membership check by eye
        previous = self.hits.get(id(node))
        strength = _strength(x_taint, y_taint, op)
        if previous is None or _strength(previous[1], previous[2], op) < strength:
            self.hits[id(node)] = (op, x_taint, y_taint, self._function_now)

    def _preview_rules(self, call: cst.Call, ancestors: Ancestors, env: Env) -> None:
        """HYP004 (a Euclidean mean of ball points used as a centroid) and HYP005 (a hand-written distance)."""
        code = self.code
        operand = centroid_operand(call, ancestors, code)
        taint = self.values.point_of(operand, env) if operand is not None else None
        if taint is not None:
            self.other_hits[id(call)] = ("HYP004", call, RULES["HYP004"].message(x=code(operand).strip()), taint)
        elif not self.geometry_module and handwritten_distance(call, code):
            why = Taint(MEDIUM, (Step(f"`{self.values.short(call)}` spells out the Poincaré distance", call),))
            self.other_hits[id(call)] = ("HYP005", call, RULES["HYP005"].message(), why)

    def _other_finding(self, rule: str, node: cst.CSTNode, message: str, taint: Taint) -> Finding:
        evidence = tuple(self._describe(step) for step in reversed(taint.steps))
        return self._finding_at(node, rule, message, taint.confidence, evidence)

    def _finding_at(
        self, node: cst.CSTNode, rule: str, message: str, confidence: int, evidence: tuple[str, ...], fix: FixHint | None = None
    ) -> Finding:
        """A finding spanning `node`, columns 1-based as every output format shows them."""
        span = self._position(node)
        return Finding(
            path=self.path,
            rule=rule,
            message=message,
            line=span.start.line,
            col=span.start.column + 1,
            end_line=span.end.line,
            end_col=span.end.column + 1,
            confidence=CONFIDENCE_LEVELS[confidence],
            evidence=evidence,
            fix=fix,
        )

    def _same_points(self, op: EuclideanOp) -> bool:
        """`cdist(z, z)`, `z[:, None] - z[None, :]`: distances within one set of points."""
        return op.y is not None and _base_code(op.x, self.code) == _base_code(op.y, self.code)

    def _check_comprehension(self, node, ancestors: Ancestors, env: Env, judge: UsageJudge, flow, klass, check: bool) -> None:
        """`[z.norm() for z in points]`: the loop variables hold elements of what they iterate."""
        inner = ancestors + (node,)
        clause = node.for_in
        while clause is not None:
            self._check_expression(clause.iter, env, judge, flow, klass, check, inner)
            env = self.binder.bind_loop_target(clause.target, clause.iter, dict(env), node)
            for condition in clause.ifs:
                self._check_expression(condition.test, env, judge, flow, klass, check, inner)
            clause = clause.inner_for_in
        parts = (node.key, node.value) if isinstance(node, cst.DictComp) else (node.elt,)
        for part in parts:
            self._check_expression(part, env, judge, flow, klass, check, inner)

    def _loss_module_call(self, node: cst.CSTNode, env: Env) -> EuclideanOp | None:
        if not isinstance(node, cst.Call):
            return None
        module = self.values.of(node.func, env)
        return match_loss_module_call(node) if module is not None and module.kind == "mse-loss" else None

    def _point(self, node: cst.BaseExpression, env: Env) -> Taint | None:
        return self.values.point_of(node, env)

    def _finding(self, op: EuclideanOp, x_taint: Taint | None, y_taint: Taint | None, function: str | None) -> Finding:
        code = self.code
        x, y = operand_code(op, code)
        chains = sorted((self._evidence(op.x, x_taint), self._evidence(op.y, y_taint)), key=len)
        evidence = tuple(dict.fromkeys(step for chain in chains for step in chain))
        within = self._same_points(op)
        if within:
            x = _base_code(op.x, code)
        rule = {"norm": "HYP001", "squared": "HYP003"}.get(op.kind, "HYP002")
        message = RULES[rule].message(x=x, y=y, within=within or op.y is None)
        fix = None
        if op.fixable:
            fix = FixHint(
                function=op.function,
                x=operand_code(op, code)[0],
                y=operand_code(op, code)[1],
                dim=code(op.dim) if op.dim is not None else None,
                keepdim=code(op.keepdim) if op.keepdim is not None else None,
                p=code(op.p) if op.p is not None else None,
                backend=op.backend,
                **self._manifold_hint(op, x_taint, y_taint),
                **self._callers_curvature(function, x_taint, y_taint),
            )
        return self._finding_at(op.node, rule, message, _strength(x_taint, y_taint, op), evidence, fix)

    def _manifold_hint(self, op: EuclideanOp, x_taint: Taint | None, y_taint: Taint | None) -> dict[str, str]:
        """The manifold both operands lie on (FixHint's manifold fields), when each operand's taint tells the same one."""
        on = x_taint.on if x_taint is not None else None
        if on is None or on.passed_parameter() is not None or (op.y is not None and (y_taint is None or y_taint.on != on)):
            return {}
        return {"manifold": on.expression, "manifold_kind": on.kind, "manifold_origin": self._where(on.origin)}

    def _callers_curvature(self, function: str | None, *taints: Taint | None) -> dict[str, str]:
        """FixHint's curvature fields for points that are (views of) the function's parameters: the curvature every
        call passes (`curvature`, where it came from in `curvature_note`), or why none is certain (`curvature_note`)."""
        points = [taint for taint in taints if taint is not None]
        params = {taint.on.passed_parameter() if taint.on is not None else None for taint in points}
        known = self.inputs.curvatures.get(function or "", {})
        verdicts = {known.get(param) if param is not None else None for param in params}
        if not points or None in verdicts:
            return {}
        found = {c for c, _ in cast("set[tuple[str, str]]", verdicts)}
        if len(found) == 1 and "" not in found:
            c, note = next(iter(cast("set[tuple[str, str]]", verdicts)))
            return {"curvature": c, "curvature_note": note}
        why = next((note for c, note in cast("set[tuple[str, str]]", verdicts) if not c), "the operands' callers pass different curvatures")
        return {"curvature_note": why}

    def _where(self, step: Step) -> str:
        """`path:line` of a step in this file; a step from another file is that text already."""
        return step.text if step.node is None else f"{self.path}:{self._line(step.node)}"

    def _evidence(self, operand: cst.BaseExpression | None, taint: Taint | None) -> tuple[str, ...]:
        """The chain from the measured operand back to the source of its ball points, newest first."""
        if operand is None or taint is None:
            return ()
        steps = list(taint.steps)
        if not steps or last_name(operand) is None:
            steps.append(Step(f"`{self.values.short(operand)}` is a ball point", operand))
        return tuple(self._describe(step) for step in reversed(steps))

    def _describe(self, step: Step, with_path: bool = False) -> str:
        if step.node is None:
            return step.text
        line = self._line(step.node)
        return f"{step.text} ({self.path}:{line})" if with_path else f"{step.text} (line {line})"

    def _line(self, node: cst.CSTNode) -> int:
        """The line of an evidence step: from the text where it proves the line (`lines`), else from the
        positions of its top-level statement (`lines.Positions`); a file's summary renders its chains
        whether or not anything is reported, so the cheap way comes first."""
        # Each search reads the whole text: once positions are needed, or after `_TEXT_SEARCHES`, they answer (linear).
        if self._positions is None and self.text is not None and self._text_searches < _TEXT_SEARCHES:
            self._text_searches += 1
            line = line_by_text(self.text, self.module, node, self.code)
            if line is not None:
                return line
        return self._position(node).start.line

    def _position(self, node: cst.CSTNode) -> CodeRange:
        if self._positions is None:
            self._positions = Positions(self.module, self.text)
        return self._positions[node]


@overload
def _imported(fact: Fact, head: str = "", manifold: bool = False) -> Taint: ...
@overload
def _imported(fact: Fact | None, head: str = "", manifold: bool = False) -> Taint | None: ...
def _imported(fact: Fact | None, head: str = "", manifold: bool = False) -> Taint | None:
    """A fact from another file as evidence: its rendered chain, oldest step first (`head` prefixes the newest);
    with `manifold`, the manifold of an instance attribute's points (relative to the instance)."""
    if fact is None:
        return None
    confidence, chain, on = fact
    if chain and head:
        chain = (head + chain[0], *chain[1:])
    kept = Manifold(on[0], on[1], Step(on[2])) if manifold and on is not None else None
    return Taint(confidence, tuple(Step(text) for text in reversed(chain)), on=kept)


def _received(name: str, fact: Fact) -> Taint:
    """What a parameter (`z`) or a parameter's attribute (`code_emb.emb`) receives from call sites in other files:
    an attribute's manifold is spelled through the parameter (`code_emb.manifold`)."""
    owner, dot, _ = name.rpartition(".")
    taint = _imported(fact, f"{name} <- ", manifold=bool(dot))
    return taint.seen_through(owner) if dot else taint


def _by_name(method: str) -> tuple[str, str] | None:
    """The project's only method of that name, if the rule of `vaeaudit.scan.methods` allows the name."""
    target = target_by_name(method)
    return ("external", target) if target is not None else None


def _parameter(params: tuple[str, ...], slot: str) -> str | None:
    """The parameter an argument slot ("#1" or a keyword) binds."""
    if "." in slot:  # `#0.emb`: an attribute of the argument (`_exported_slots`)
        slot, dot, attribute = slot.partition(".")
        param = _parameter(params, slot)
        return f"{param}{dot}{attribute}" if param is not None else None
    if slot.startswith("#"):
        position = int(slot[1:])
        return params[position] if position < len(params) else None
    return slot if slot in params else None


def _exported_slots(passed: dict[str, Taint]):
    """Argument facts another file can receive: points as they are, an instance as one fact per
    attribute (`#0.emb`: the `emb` attribute of the first argument); other containers stay in the file."""
    for slot, taint in passed.items():
        if taint.kind == "point":
            yield slot, taint.portable()
        elif taint.is_instance():
            for key, part in taint.parts:
                if part.kind == "point":
                    yield f"{slot}{key}", part


def _slots(call: cst.Call):
    """("#0", value) for positional arguments, (keyword, value) for keyword ones."""
    position = 0
    for argument in call.args:
        if argument.star:
            return
        if argument.keyword is not None:
            yield argument.keyword.value, argument.value
        else:
            yield f"#{position}", argument.value
            position += 1


def _base_code(node: cst.BaseExpression, code) -> str:
    """`z` for `z`, `z[:, None]`, `z.detach()`: the tensor an operand views (`z[i]` and `z[j]` are two rows of it)."""
    while (isinstance(node, cst.Subscript) and _broadcast_only(node)) or (
        isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and not node.args
    ):
        node = node.value if isinstance(node, cst.Subscript) else cast(cst.Attribute, node.func).value
    return code(node).strip()


def _broadcast_only(node: cst.Subscript) -> bool:
    """`z[:, None]`, `z[None, ...]`: every element a full slice, a new axis or an ellipsis."""
    return all(
        (isinstance(element.slice, cst.Slice) and element.slice.lower is None and element.slice.upper is None)
        or (
            isinstance(element.slice, cst.Index)
            and isinstance(element.slice.value, (cst.Name, cst.Ellipsis))
            and dotted(element.slice.value) in (None, "None")
        )
        for element in node.slice
    )


# Where a name is not a use of the object it names (`_named_function`).
_NOT_A_USE = (cst.Attribute, cst.ImportAlias, cst.Param, cst.FunctionDef, cst.ClassDef)
# Evidence lines searched in a module's text before its positions answer instead: a search reads the whole text, so
# a file of 50,000 findings (a 2 MB generated function) would read it 100,000 times.
_TEXT_SEARCHES = 256
_LIBRARY_ROOTS = frozenset(
    "torch numpy scipy sklearn math pandas geoopt matplotlib os sys re json typing collections functools itertools".split()
)


# Keywords that hand a function the ball's curvature (`k` is left out: top-k and k-nearest are everywhere).
# Functions given a curvature that return something other than points: measurements (the names that
# never hold points), tangent vectors, conformal factors, layers and models, plots.
_NOT_POINTS = re.compile(
    MEASUREMENT_NAME.pattern + r"|log|tangent|transp|lambda|conformal|factor|"
    r"layer|linear|conv|mlp|model|net|encoder|decoder|attention|plot|scatter|hist|optim|manifold|ball",
    re.IGNORECASE,
)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
_COMPREHENSION_TYPES = frozenset(_COMPREHENSIONS)
# Nodes that hold statements (directly or through a block), for walks that skip expressions.
_STATEMENT_CONTAINERS = (
    cst.BaseCompoundStatement,
    cst.BaseSuite,
    cst.Else,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.Finally,
    cst.MatchCase,
)
# Last names of the calls `vaeaudit.scan.sinks` recognises (before import resolution); squared
# forms are caught by their `**`, `pow` or `square`, so `sum`/`mean` (everywhere) are not needed.
_OPERATION_NAMES = frozenset(
    {
        "norm",
        "vector_norm",
        "dist",
        "cdist",
        "pdist",
        "pairwise_distance",
        "pairwise_distances",
        "euclidean_distances",
        "euclidean",
        "sqrt",
        "pow",
        "square",
        "mse_loss",
        "MSELoss",
    }
)


def _strength(x_taint: Taint | None, y_taint: Taint | None, op: EuclideanOp) -> int:
    """Confidence of a finding: both operands of a distance hyperbolic, or one (one level less)."""
    taints = [t for t in (x_taint, y_taint) if t is not None]
    confidence = min(t.confidence for t in taints)
    if op.kind in ("distance", "squared") and op.y is not None and len(taints) == 1:
        confidence = max(0, confidence - 1)
    return confidence


def _declared_global(module: cst.Module) -> set[str]:
    """The names some function of `module` declares `global` (and so may rebind)."""
    names: set[str] = set()
    stack: list[cst.CSTNode] = [module]
    while stack:
        for child in children(stack.pop()):
            if isinstance(child, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                names.update(name for small in child.body if isinstance(small, cst.Global) for name in _global_names(small))
            elif isinstance(child, _STATEMENT_CONTAINERS):
                stack.append(child)
    return names


def _global_names(statement: cst.Global) -> list[str]:
    return [item.name.value for item in statement.names]


def _bound_in(function: cst.FunctionDef) -> set[str]:
    """The names `function` binds in its own scope (targets, loop variables, `as` names, imports, nested defs,
    walrus), less those it declares `global`: Python makes them local to the whole function."""
    bound: set[str] = set()
    declared: set[str] = set()
    for node, _ in walk(function.body, stop=(cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        if isinstance(node, cst.Global):
            declared.update(_global_names(node))
        elif isinstance(node, cst.AssignTarget):
            bound |= _target_names(node.target)
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
            bound |= _target_names(node.target)
        elif isinstance(node, cst.AsName):
            bound |= _target_names(node.name)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)) and node is not function:
            bound.add(node.name.value)
        elif isinstance(node, (cst.Import, cst.ImportFrom)) and not isinstance(node.names, cst.ImportStar):
            bound.update(_imported_name(alias) for alias in node.names)
    return bound - declared


def _imported_name(alias: cst.ImportAlias) -> str:
    """The name an import binds: `y` of `import x as y`, `x` of `import x.z`."""
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return (dotted(alias.name) or "").partition(".")[0]


def _target_names(target: cst.BaseExpression) -> set[str]:
    """`x`, `a, (b, *c)`: the names an assignment target binds (not `x.y` or `x[0]`, which bind nothing)."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {name for element in target.elements for name in _target_names(element.value)}
    return set()


def _defined_in(owner: cst.CSTNode) -> list[cst.FunctionDef | cst.ClassDef]:
    """The functions and classes `owner` defines in its own scope (in its blocks too, not in nested scopes), in
    source order. Only statements are visited: a `def` is a statement, and expressions are most of a tree's nodes."""
    found: list[cst.FunctionDef | cst.ClassDef] = []
    stack: list[cst.CSTNode] = [owner]
    while stack:
        node = stack.pop()
        if node is not owner and (type(node) is cst.FunctionDef or type(node) is cst.ClassDef):
            found.append(node)  # a scope of its own: what it defines is its own
            continue
        stack.extend(reversed([child for child in children(node) if isinstance(child, _STATEMENT_CONTAINERS)]))
    return found


class _UsesIndex:
    """Name -> every load of it in one scope, in source order, split by the stores between them."""

    def __init__(self, owner: cst.CSTNode) -> None:
        self.owner = owner
        self._index: dict[str, list[tuple[int, cst.Name, Ancestors, bool]]] | None = None
        self.order: dict[int, int] = {}
        # name -> (the order of each of its entries, the value of its last plain assignment up to each): for bisection,
        # so that a name read 50,000 times in one scope costs 50,000 lookups, not 50,000 scans of its reads
        self._orders: dict[str, tuple[list[int], list[cst.BaseExpression | None]]] = {}

    @property
    def index(self) -> dict[str, list[tuple[int, cst.Name, Ancestors, bool]]]:
        if self._index is None:
            self._index = {}
            order = 0
            for node, ancestors in walk(self.owner):
                order = self._add(node, ancestors, order)
                if type(node) is cst.Lambda and node is not self.owner:
                    # `sorted(keys, key=lambda k: norms[k])` reads `norms` where it is: a use of that binding
                    params = {param.name.value for param in all_params(node.params)}
                    for inner, above in walk(node.body, (*ancestors, node)):
                        if not (isinstance(inner, cst.Name) and inner.value in params):
                            order = self._add(inner, above, order)
        return self._index

    def _add(self, node: cst.CSTNode, ancestors: Ancestors, order: int) -> int:
        index = cast("dict[str, list[tuple[int, cst.Name, Ancestors, bool]]]", self._index)
        if isinstance(node, cst.Name) and not (ancestors and isinstance(ancestors[-1], cst.Attribute) and ancestors[-1].attr is node):
            parent = ancestors[-1] if ancestors else None
            # `for x in r` stores x and reads r; `y: T = x` and `y += x` read x
            store = isinstance(parent, (cst.AssignTarget, cst.AsName)) or (
                isinstance(parent, (cst.AnnAssign, cst.AugAssign, cst.For)) and parent.target is node
            )
            index.setdefault(node.value, []).append((order, node, ancestors, store))
            self.order[id(node)] = order
        return order + 1

    def __call__(self, name: str, binding: cst.CSTNode) -> list[tuple[cst.Name, Ancestors]]:
        """Loads of `name` reached by the store `binding`: after it, before the next store."""
        uses = []
        entries = self.index.get(name, [])
        start = self.order.get(id(binding), -1)
        rebinding: cst.CSTNode | None = None  # `x = f(x)`: the store is walked first, but the load runs first
        first = bisect_right(self._orders_of(name)[0], start) if entries else 0
        for _, node, ancestors, store in entries[first:]:
            if rebinding is not None and not any(above is rebinding for above in ancestors):
                break
            if store:
                if len(ancestors) < 2 or not isinstance(ancestors[-1], cst.AssignTarget):
                    break
                rebinding = ancestors[-2]
                continue
            uses.append((node, ancestors))
        return uses

    def value_before(self, load: cst.Name) -> cst.BaseExpression | None:
        """The value of the last plain assignment `name = value` before this load of `name`, if any."""
        entries = self.index.get(load.value)  # first: it numbers the loads (`order`)
        order = self.order.get(id(load))
        if order is None or not entries:
            return None
        orders, values = self._orders_of(load.value)
        before = bisect_left(orders, order)  # the entries before the load
        return values[before - 1] if before else None

    def _orders_of(self, name: str) -> tuple[list[int], list[cst.BaseExpression | None]]:
        found = self._orders.get(name)
        if found is None:
            orders: list[int] = []
            values: list[cst.BaseExpression | None] = []
            value = None
            for at, _, ancestors, store in self.index[name]:
                if store:  # a plain `name = value` gives its value; any other store, none
                    above = ancestors[-2] if len(ancestors) > 1 else None
                    value = above.value if isinstance(above, cst.Assign) and isinstance(ancestors[-1], cst.AssignTarget) else None
                orders.append(at)
                values.append(value)
            found = self._orders[name] = (orders, values)
        return found
