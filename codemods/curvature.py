"""Find the curvature a rewritten call should pass, and say where it came from.

A wrong curvature changes every distance, so only a binding that *is* a curvature counts:
a positive number, a parameter or config key named (or annotated) as curvature, or a
Poincaré-ball manifold's `c` (a κ-stereographic manifold's `k` with its sign: c = −k).
A name that merely reads `c` (a loop index, a colour, a pytest fixture, `self.c =
channels`) does not. Tried in order: the producer of the operand (`exp_map_zero(mu,
c=k)` → k), a manifold the class holds (it owns the learnable curvature, so a plain
`self.c` beside it may be stale), then the configured expressions. When nothing
qualifies the caller falls back to the configured default and marks the fix unsafe.

A manifold counts only when its class is geoopt's (imported from a `geoopt` package): a
project's own `PoincareBall`, hypll's (whose `c` is a module) or a Lorentz model may mean
something else by `c`, `dist` and `dist0`. `find_manifold` names the object itself, whose
own `dist`/`dist0` then measures (a rescaled `Scaled(ball, s)` included: its `c` is the
base ball's, its metric s times larger).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Literal, NamedTuple, cast

import libcst as cst
from libcst.metadata import Assignment, ClassScope, Scope

from vaeaudit.codemods.project_geometry import module_functions
from vaeaudit.scan.names import ImportMap, dotted, last_name
from vaeaudit.scan.taint import negative_k

CURVATURE_WORDS = ("curvature", "curv")
# A parameter named `c` is the curvature when typed as a real number (a pytest fixture or a channel count is not).
CURVATURE_TYPES = {"float", "Tensor", "Curvature"}
# Manifold classes whose `.c` is the (positive) curvature parameter c of the ball.
BALL_CLASSES = {"PoincareBall", "PoincareBallExact"}
# κ-stereographic classes: the ball of curvature c has k = −c.
STEREOGRAPHIC_CLASSES = {"Stereographic", "StereographicExact"}
# Producers of ball points whose curvature keyword tells the operand's curvature.
PRODUCER_KEYWORDS = ("c", "curvature", "k")
# Callee names of ball-point producers: exp maps, projections, Möbius operations, the ball's own methods.
PRODUCER_WORDS = ("exp", "proj", "mobius", "poincare", "hyp", "ball", "retr")
# Where research code keeps the curvature besides the configured expressions: the key names it.
WHERE_CONFIGS_KEEP_IT = (
    "self.config.curvature",
    "self.cfg.curvature",
    "self.args.curvature",
    "self.model.curvature",
    "config.curvature",
    "cfg.curvature",
    "args.curvature",
    "model.curvature",
)
TENSOR_WRAPPERS = {"Parameter", "tensor", "as_tensor", "float", "Tensor", "full", "ones"}
# Methods that return the same points (a copy, on another device, in another dtype, read out as numpy).
SAME_POINTS = {"detach", "cpu", "numpy", "clone", "float", "double", "contiguous"}
# geoopt's wrapper that rescales a manifold's metric: `Scaled(ball, s).dist0` is s times `ball.dist0`.
SCALED = "Scaled"


class Meta(NamedTuple):
    """The module's metadata the search reads."""

    parents: Mapping[cst.CSTNode, cst.CSTNode]
    scopes: Mapping[cst.CSTNode, Scope | None]
    named: dict[Scope, list[str]]  # per scope: its names that say curvature (filled on demand)
    # module name -> its source, when it can be read (this tool's geometry, a project module); else None.
    sources: Callable[[str], str | None] | None = None
    # Every dotted attribute target assigned in the module (`attribute_facts`): `ball.k = ...` changes a manifold.
    assigned: frozenset[str] = frozenset()
    # Every dotted attribute the module spells (`attribute_facts`): a config key it never reads may not exist.
    spelled: frozenset[str] = frozenset()
    # The module's imports (relative ones, the project's own, left out): what a constructor call builds.
    imports: ImportMap | None = None


@dataclass(frozen=True)
class Found:
    """A curvature expression valid at the call, and a phrase saying where it came from."""

    expression: str
    source: str


@dataclass(frozen=True)
class OwnManifold:
    """A geoopt manifold object valid at the call, that made the operand: its own `dist`/`dist0` measures it.

    `curvature` is c as an expression (`ball.c`, `-ball.k`), None when the metric is rescaled (`Scaled`),
    where no c gives its distances."""

    expression: str
    kind: str
    origin: str
    curvature: str | None


def find_manifold(call: cst.CSTNode, operands: list[cst.BaseExpression], meta: Meta) -> OwnManifold | None:
    """The manifold whose method made the first operand (`z = sball.expmap0(v)` ... `z.norm()`), when its
    class is certain: bound once, the same object where the point is made and where it is measured, no
    attribute of it assigned in the module (`ball.k = ...` would measure with another curvature than made
    the point). A second operand made by another object refuses."""
    receivers: list[cst.BaseExpression] = []
    for operand in operands:
        producer = traced(operand, meta)
        is_made = isinstance(producer, cst.Call) and isinstance(producer.func, cst.Attribute)
        made = cast(cst.Call, producer) if is_made else None
        if made is None or not any(word in cast(cst.Attribute, made.func).attr.value.lower() for word in PRODUCER_WORDS):
            if not receivers:
                return None
            continue
        receivers.append(cast(cst.Attribute, made.func).value)
    spelled = {dotted(receiver) for receiver in receivers}
    if len(spelled) != 1 or None in spelled:
        return None
    expression = cast(str, spelled.pop())
    if _changed(expression, meta):
        return None
    root, _, rest = expression.partition(".")
    if root == "self":
        klass = _enclosing_class(call, meta.parents)
        if klass is None or "." in rest or not _in_method(call, meta):
            return None
        bound = [value for name, value in _self_assignments(klass) if name == rest]
        kind = _manifold_kind(bound[0], meta) if len(bound) == 1 else None
    elif rest:
        return None  # `model.ball`: where the attribute was set is not read here
    else:
        binding = _single_binding(call, root, meta)
        if binding is None or any(_single_binding(receiver, root, meta) is not binding for receiver in receivers):
            return None
        kind = _manifold_kind(_assigned_value(binding, meta.parents), meta) or _annotated_kind(binding, meta)
    if kind is None:
        return None
    name, curvature = kind
    return OwnManifold(expression, name, f"{name}, its one binding here", curvature and curvature.format(expression))


def _manifold_kind(value: cst.BaseExpression | None, meta: Meta) -> tuple[str, str | None] | None:
    """(class, c as a template on the object `{}`) of a geoopt ball constructor call, or of a name bound once to
    one, or of an `__init__` parameter annotated with a geoopt ball class; `Scaled` of a ball has no c."""
    if isinstance(value, cst.Name):
        binding = _single_binding(value, value.value, meta)
        if binding is None:
            return None
        return _manifold_kind(_assigned_value(binding, meta.parents), meta) or _annotated_kind(binding, meta)
    if not isinstance(value, cst.Call):
        return None
    name = geoopt_class(value.func, meta)
    if name in BALL_CLASSES:
        return name, "{}.c"
    if name in STEREOGRAPHIC_CLASSES and negative_k(value):  # k of unknown sign: maybe a sphere
        return name, "-{}.k"
    if name == SCALED and value.args and value.args[0].keyword is None and not value.args[0].star:
        base = _manifold_kind(value.args[0].value, meta)
        return (f"{SCALED}({base[0]})", None) if base is not None else None
    return None


def _annotated_kind(binding: Assignment, meta: Meta) -> tuple[str, str | None] | None:
    """`def f(ball: geoopt.PoincareBall)`: the author states the class (a Stereographic one may be a sphere)."""
    node = binding.node
    if not isinstance(node, cst.Param) or node.annotation is None:
        return None
    name = geoopt_class(node.annotation.annotation, meta)
    return (name, "{}.c") if name in BALL_CLASSES else None


def geoopt_class(reference: cst.BaseExpression, meta: Meta) -> str | None:
    """The class name `reference` (`PoincareBall`, `geoopt.PoincareBall`, `gt.manifolds.Scaled`) names when it is
    imported from geoopt (or a vendored copy: a `geoopt` package in its module path), else None."""
    spelled = dotted(reference)
    if spelled is None:
        return None
    root, _, rest = spelled.partition(".")
    binding = _single_binding(reference, root, meta)
    node = binding.node if binding is not None else None
    if isinstance(node, cst.ImportFrom) and not rest and not node.relative and node.module is not None:
        if isinstance(node.names, cst.ImportStar) or "geoopt" not in (dotted(node.module) or "").split("."):
            return None
        return next((dotted(alias.name) for alias in node.names if _alias_local(alias) == root), None)
    if isinstance(node, cst.Import) and rest:
        for alias in node.names:
            module = dotted(alias.name) or ""
            local = _alias_local(alias) if alias.asname is not None else module.partition(".")[0]
            if local == root and "geoopt" in module.split("."):
                return rest.rpartition(".")[2]
    return None


def traced(expression: cst.BaseExpression, meta: Meta) -> cst.BaseExpression:
    """What `expression` holds, read back through the steps that keep its points on their ball: a name's single
    plain binding, `.detach()`/`.cpu()`/`.numpy()`..., a centroid `.mean(dim=0)` (the ball is convex),
    `store["z"]` of a dict literal that is only ever read, and a helper that returns its one argument
    (`def unpack(v): return v`)."""
    for _ in range(64):  # a chain of bindings is finite; the bound only guards against a cycle through helpers
        step = _traced_step(expression, meta, frozenset())
        if step is None:
            return expression
        expression = step
    return expression


def _traced_step(expression: cst.BaseExpression, meta: Meta, helpers: frozenset[cst.FunctionDef]) -> cst.BaseExpression | None:
    if isinstance(expression, cst.Name):
        binding = _single_binding(expression, expression.value, meta)
        return _assigned_value(binding, meta.parents) if binding is not None else None
    if isinstance(expression, cst.Subscript):
        return _stored(expression, meta)
    if not isinstance(expression, cst.Call) or any(arg.star for arg in expression.args):
        return None
    func = expression.func
    if isinstance(func, cst.Attribute):
        method, args = func.attr.value, expression.args
        if method in SAME_POINTS and not args:
            return func.value
        if method == "mean" and len(args) == 1 and (args[0].keyword is None or args[0].keyword.value == "dim"):
            over = args[0].value
            return func.value if isinstance(over, cst.Integer) and over.value == "0" else None
        return None
    if isinstance(func, cst.Name) and len(expression.args) == 1 and expression.args[0].keyword is None:
        binding = _single_binding(func, func.value, meta)
        helper = binding.node if binding is not None else None
        if isinstance(helper, cst.FunctionDef) and helper not in helpers and _returns_its_argument(helper, meta, helpers | {helper}):
            return expression.args[0].value
    return None


def _returns_its_argument(function: cst.FunctionDef, meta: Meta, helpers: frozenset[cst.FunctionDef]) -> bool:
    """`def unpack(v): return v` (or `out = {"z": v}; return out["z"]`): one parameter, no decorator, a body of
    plain assignments and the return only (no call statement that could change the argument in place)."""
    params = function.params
    if function.decorators or function.asynchronous or params.star_arg != cst.MaybeSentinel.DEFAULT or params.star_kwarg:
        return False
    if len(params.params) != 1 or params.posonly_params or params.kwonly_params or not isinstance(function.body, cst.IndentedBlock):
        return False
    body = list(function.body.body)
    if body and function.get_docstring() is not None:
        body = body[1:]
    if not body or not all(isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 for line in body):
        return False
    statements = [cast(cst.SimpleStatementLine, line).body[0] for line in body]
    last = statements[-1]
    if not isinstance(last, cst.Return) or last.value is None or not all(isinstance(s, cst.Assign) for s in statements[:-1]):
        return False
    returned: cst.BaseExpression | None = last.value
    for _ in range(len(statements) + 1):
        if isinstance(returned, cst.Name):
            binding = _single_binding(returned, returned.value, meta)
            if binding is not None and binding.node is params.params[0]:
                return True
        returned = _traced_step(returned, meta, helpers) if returned is not None else None
    return False


def _stored(read: cst.Subscript, meta: Meta) -> cst.BaseExpression | None:
    """`store["z"]` where `store = {"z": value, ...}` is bound once and every other use of it is a read by key."""
    if not isinstance(read.value, cst.Name) or len(read.slice) != 1 or not isinstance(read.slice[0].slice, cst.Index):
        return None
    key = read.slice[0].slice.value
    binding = _single_binding(read.value, read.value.value, meta)
    literal = _assigned_value(binding, meta.parents) if binding is not None else None
    if not isinstance(key, cst.SimpleString) or not isinstance(literal, cst.Dict):
        return None
    for access in binding.references if binding is not None else ():
        use = meta.parents.get(access.node)
        if not isinstance(use, cst.Subscript) or use.value is not access.node or _is_target(use, meta.parents):
            return None  # `store.update(...)`, `store["z"] = w`, `del store["z"]`, `f(store)`: its items may change
    values = [e.value for e in literal.elements if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)]
    keys = [cast(cst.SimpleString, e.key).evaluated_value for e in literal.elements if isinstance(e, cst.DictElement)]
    if len(values) != len(literal.elements) or keys.count(key.evaluated_value) != 1:
        return None  # a `**splat` or a computed key may hold the same key
    return values[keys.index(key.evaluated_value)]


def _is_target(node: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> bool:
    parent = parents.get(node)
    if isinstance(parent, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign)):
        return getattr(parent, "target", None) is node
    return isinstance(parent, (cst.Del, cst.Element, cst.StarredElement, cst.For, cst.WithItem, cst.CompFor))


def find_curvature(
    call: cst.CSTNode,
    operand: cst.BaseExpression,
    expressions: tuple[str, ...],
    meta: Meta,
) -> Found | None:
    """The curvature to pass at `call` whose point is `operand`, or None when none is certain."""
    found = _from_producer(operand, meta)
    if found is False:
        return None
    if found is not None:
        return found
    found = _from_docstring(operand, meta)
    if found is not None:
        return found
    klass = _enclosing_class(call, meta.parents)
    if klass is not None:
        found = _from_manifold(klass, meta, _maker_attribute(operand, meta))
        if found is not None:
            return found
    for expression in chain(expressions, WHERE_CONFIGS_KEEP_IT, _named_curvatures(call, meta)):
        found = _from_expression(call, expression, klass, meta)
        if found is not None:
            return found
    return None


def _named_curvatures(call: cst.CSTNode, meta: Meta) -> Iterator[str]:
    """Names visible at the call that say they hold a curvature (curvature_value, CURVATURE ...), innermost first.

    Computed lazily and once per scope: a function with a thousand findings is read once.
    """
    scope = meta.scopes.get(call)
    while scope is not None:
        if not isinstance(scope, ClassScope):  # a class body's names are not visible in its methods
            if scope not in meta.named:
                meta.named[scope] = sorted({a.name for a in scope.assignments if isinstance(a, Assignment) and _names_curvature(a.name)})
            yield from meta.named[scope]
        scope = None if scope is scope.globals else scope.parent


def _from_producer(operand: cst.BaseExpression, meta: Meta) -> Found | None | Literal[False]:
    """`z = exp_map_zero(mu, c=k)` ... `z.norm()` (or the call inline): k, when z has that single
    binding and k is still k. False when the point comes from a producer that does not say its
    curvature (`exp_map_zero(mu)` uses the producer's own default, which no other binding tells)."""
    shown = operand.value if isinstance(operand, cst.Name) else _code(operand)
    producer = traced(operand, meta)
    if not isinstance(producer, cst.Call):
        return None
    name = (last_name(producer.func) or "").lower()
    if not any(word in name for word in PRODUCER_WORDS):
        return None  # `c=` of an unrelated call (a layer's channels) says nothing about the curvature
    for arg in producer.args:
        if arg.keyword is not None and arg.keyword.value in PRODUCER_KEYWORDS and arg.star == "":
            value = arg.value
            sign = "-" if arg.keyword.value == "k" else ""
            if _is_positive_number(value) and not sign:
                return Found(_code(value), f"the curvature of `{last_name(producer.func)}` that made `{shown}`")
            spelled = dotted(value)
            if spelled is not None and _single_binding(operand, spelled.partition(".")[0], meta) is not None:
                return Found(sign + spelled, f"`{spelled}`, the curvature given to `{last_name(producer.func)}`")
            return False
    is_method = isinstance(producer.func, cst.Attribute)  # `ball.expmap0(u)`: the manifold knows its c
    if is_method:
        receiver = cast(cst.Attribute, producer.func).value
        if isinstance(receiver, cst.Name) and len(_visible_bindings(receiver, receiver.value, meta)) > 1:
            return False  # a manifold variable rebound: which ball made the point, no other binding tells
        found = _from_manifold_variable(producer, operand, meta)
        if found is not None:
            return found
        # The maker is known and only it knows its c: a ball built in place, a parameter, another object's
        # attribute. No other binding in scope (a config key, a `curvature` variable) tells the c of *that* ball;
        # `self.<manifold>` is the class's own, which `_from_manifold` reads.
        return None if (dotted(receiver) or "").partition(".")[0] == "self" else False
    return _from_signature(producer, operand, shown, meta) or False


# A docstring line documenting parameters: `z: ...`, `x, y: ...`, `:param z: ...`, `z (Tensor) -- ...`.
_DOCUMENTED = re.compile(r"^\s*(?::param\s+)?(?P<names>\w+(?:\s*,\s*\w+)*)\s*(?:\(|:|--)")
# What states the curvature on that line: `curvature -1` / `curvature = -0.5` (K = -c < 0), or `c = 0.5`.
_STATED = re.compile(r"curvature\s*(?:of\s+|=\s*|:\s*)?-\s*(?P<k>\d+(?:\.\d*)?)|(?<![\w.])c\s*=\s*(?P<c>\d+(?:\.\d*)?)(?![\w.])")


def _from_docstring(operand: cst.BaseExpression, meta: Meta) -> Found | None:
    """`def size(emb): \"\"\"emb: points on the Poincare ball (curvature -1)\"\"\"`: the author states the curvature of
    the parameter the operand reads (its only binding), on the line that documents it."""
    root = operand
    while isinstance(root, (cst.Attribute, cst.Subscript)) or (isinstance(root, cst.Call) and isinstance(root.func, cst.Attribute)):
        root = root.value if isinstance(root, (cst.Attribute, cst.Subscript)) else cast(cst.Attribute, root.func).value
    if not isinstance(root, cst.Name):
        return None
    binding = _single_binding(root, root.value, meta)
    if binding is None or not isinstance(binding.node, cst.Param):
        return None
    function = meta.parents.get(binding.node)
    while function is not None and not isinstance(function, cst.FunctionDef):
        function = meta.parents.get(function)
    if function is None:
        return None
    for line in (function.get_docstring() or "").splitlines():
        documented = _DOCUMENTED.match(line)
        stated = _STATED.search(line)
        if documented is None or stated is None or root.value not in re.split(r"\s*,\s*", documented["names"]):
            continue
        value = stated["k"] or stated["c"]
        if float(value) > 0:
            return Found(value, f"the docstring of `{function.name.value}` ({' '.join(line.split())[:60]!r})")
    return None


def _from_manifold_variable(producer: cst.Call, operand: cst.BaseExpression, meta: Meta) -> Found | None:
    """`ball = PoincareBall(c=...)` ... `z = ball.expmap0(u)`: `ball.c` (a κ-stereographic manifold's `-ball.k`),
    when `ball` has that single binding both where the point is made and where it is measured."""
    func = producer.func
    if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Name):
        return None
    name = func.value.value
    binding = _single_binding(func.value, name, meta)
    if binding is None or _single_binding(operand, name, meta) is not binding:
        return None
    return _manifold_curvature(name, _manifold_kind(_assigned_value(binding, meta.parents), meta), meta)


def _changed(manifold: str, meta: Meta) -> bool:
    """Is an attribute of the manifold object assigned anywhere in the module (`ball.k = ...`, `self.ball.k = ...`)?"""
    return any(target.startswith(f"{manifold}.") for target in meta.assigned)


def _manifold_curvature(expression: str, kind: tuple[str, str | None] | None, meta: Meta) -> Found | None:
    """The curvature `c` of the manifold `expression` of `kind` (from `_manifold_kind`), None when no c tells it
    (or the module assigns the manifold's attributes: its c at the call need not be the one that made the point)."""
    if kind is None or kind[1] is None or _changed(expression, meta):
        return None
    c = kind[1].format(expression)
    return Found(c, f"{c}, the {kind[0]}'s curvature" + (" (k = -c)" if kind[0] in STEREOGRAPHIC_CLASSES else ""))


def _from_signature(producer: cst.Call, operand: cst.BaseExpression, shown: str, meta: Meta) -> Found | None:
    """What the producer's own signature says: `exp_map_zero(mu)` with `def exp_map_zero(v, c=1.0)`
    made a point of curvature 1.0, and `exp_map_zero(mu, k)` one of curvature k. Only a function
    found statically (defined in this file, or imported from a module whose source is read) with a
    curvature parameter named `c` or `curvature` counts; its default must be a positive number."""
    if not isinstance(producer.func, cst.Name) or any(arg.star for arg in producer.args):
        return None
    params = _producer_params(producer.func, meta)
    if params is None:
        return None
    positional = [arg.value for arg in producer.args if arg.keyword is None]
    name = producer.func.value
    for index, (param, keyword_only, default) in enumerate(params):
        if param not in ("c", "curvature"):
            continue
        if not keyword_only and index < len(positional):
            value = positional[index]
            if _is_positive_number(value):
                return Found(_code(value), f"the curvature given to `{name}` that made `{shown}`")
            spelled = dotted(value)
            if spelled is not None and _single_binding(operand, spelled.partition(".")[0], meta) is not None:
                return Found(spelled, f"`{spelled}`, the curvature given to `{name}`")
            return None
        if default is not None and _is_positive_number(default):
            return Found(_code(default), f"the default curvature of `{name}` ({param}={_code(default)}) that made `{shown}`")
        return None
    return None


def _producer_params(callee: cst.Name, meta: Meta) -> list[tuple[str, bool, cst.BaseExpression | None]] | None:
    """(name, keyword-only, default) of each parameter of the function `callee` names, when it is found statically."""
    bindings = _visible_bindings(callee, callee.value, meta)
    if len(bindings) != 1:
        return None
    node = bindings[0].node
    if isinstance(node, cst.FunctionDef):
        params = node.params
        return [(p.name.value, False, p.default) for p in (*params.posonly_params, *params.params)] + [
            (p.name.value, True, p.default) for p in params.kwonly_params
        ]
    if not isinstance(node, cst.ImportFrom) or node.relative or node.module is None or meta.sources is None:
        return None
    if isinstance(node.names, cst.ImportStar):
        return None
    original = next((dotted(alias.name) for alias in node.names if _alias_local(alias) == callee.value), None)
    module = dotted(node.module)
    source = meta.sources(module) if module and original else None
    if source is None or original is None:
        return None
    arguments = module_functions(source).get(original)
    return None if arguments is None else _parameters(arguments)


def _parameters(arguments: ast.arguments) -> list[tuple[str, bool, cst.BaseExpression | None]]:
    """(name, keyword-only, default) of each parameter."""
    positional = arguments.posonlyargs + arguments.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    params = [(arg.arg, False, _expression(default)) for arg, default in zip(positional, defaults, strict=True)]
    keyword_only = zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
    return params + [(arg.arg, True, _expression(default)) for arg, default in keyword_only]


def _expression(node: ast.expr | None) -> cst.BaseExpression | None:
    if node is None:
        return None
    try:
        return cst.parse_expression(ast.unparse(node))
    except (cst.ParserSyntaxError, ValueError):
        return None


def _alias_local(alias: cst.ImportAlias) -> str | None:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return dotted(alias.name)


def _from_manifold(klass: cst.ClassDef, meta: Meta, maker: str | None) -> Found | None:
    """`self.ball = PoincareBall(c=...)` (or `= ball` of an `__init__(self, ball: PoincareBall)`): `self.ball.c` is the
    curvature, learnable or not (when the class binds `self.ball` once: a ball swapped later need not be the one the
    points were made on). When a method of `self.<maker>` made the point, only that attribute's ball counts;
    else the class must hold one ball (of two, which one the point lies on is not known)."""
    assignments = _self_assignments(klass)
    names = [name for name, _ in assignments]
    found = [
        _manifold_curvature(f"self.{attribute}", _manifold_kind(value, meta), meta)
        for attribute, value in assignments
        if names.count(attribute) == 1 and maker in (None, attribute)
    ]
    balls = [ball for ball in found if ball is not None]
    return balls[0] if len(balls) == 1 else None


def _maker_attribute(operand: cst.BaseExpression, meta: Meta) -> str | None:
    """`x` when the operand was made by a method of `self.x` (`z = self.x.expmap0(u)`), else None."""
    producer = traced(operand, meta)
    if isinstance(producer, cst.Call) and isinstance(producer.func, cst.Attribute):
        receiver = dotted(producer.func.value) or ""
        root, _, attribute = receiver.partition(".")
        return attribute if root == "self" and attribute and "." not in attribute else None
    return None


def _from_expression(call: cst.CSTNode, expression: str, klass: cst.ClassDef | None, meta: Meta) -> Found | None:
    root, _, rest = expression.partition(".")
    if root == "self":
        if klass is None or not _in_method(call, meta):
            return None
        attribute, _, tail = rest.partition(".")
        verdicts = [_is_curvature_value(v, meta) for name, v in _self_assignments(klass) if name == attribute]
        verdicts += _class_level_verdicts(klass, attribute, meta)
        if tail:  # self.config.curvature: the key names a curvature; self.config must be set and the key read
            if verdicts and _names_curvature(tail.rpartition(".")[2]) and expression in meta.spelled:
                return Found(expression, f"{expression}, the configured curvature")
            return None
        if not verdicts or not all(verdicts):
            return None
        return Found(expression, f"{expression}, set from a curvature in the class")
    bindings = _visible_bindings(call, root, meta)
    if not bindings:
        return None
    if rest:  # model.curvature, config.curvature: the key says it is the curvature, where the module reads it
        if (
            _names_curvature(rest.rpartition(".")[2])
            and expression in meta.spelled
            and not any(_made_by_a_foreign_class(binding, meta) for binding in bindings)
        ):
            return Found(expression, f"{expression}, the configured curvature")
        return None
    if all(_binding_is_curvature(binding, meta) for binding in bindings):
        return Found(expression, f"`{root}`, {_describe(bindings[0])}")
    return None


def _visible_bindings(node: cst.CSTNode, name: str, meta: Meta) -> list[Assignment]:
    scope = meta.scopes.get(node)
    if scope is None:
        return []
    return [a for a in scope[name] if isinstance(a, Assignment)]


def _single_binding(node: cst.CSTNode, name: str, meta: Meta) -> Assignment | None:
    bindings = _visible_bindings(node, name, meta)
    return bindings[0] if len(bindings) == 1 else None


def _binding_is_curvature(binding: Assignment, meta: Meta) -> bool:
    """A parameter named/annotated as curvature (or with a positive default), or `name = <curvature value>`."""
    node = binding.node
    if isinstance(node, cst.Param):
        annotation = _code(node.annotation.annotation) if node.annotation else ""
        return (
            _names_curvature(node.name.value)
            or _names_curvature(annotation)
            or (node.name.value == "c" and annotation.rpartition(".")[2] in CURVATURE_TYPES)
            or (node.default is not None and _is_positive_number(node.default))
        )
    if isinstance(node, cst.Name):
        return _is_curvature_value(_assigned_value(binding, meta.parents), meta)
    return False  # a def, a class, an import, a loop target, a with-target ...


def _made_by_a_foreign_class(binding: Assignment, meta: Meta) -> bool:
    """`model = PoincareModel(...)` with the class imported from a library the project does not hold (gensim):
    nothing says such an object has a `curvature` (gensim's has none), so `model.curvature` is no curvature."""
    value = _assigned_value(binding, meta.parents)
    if not isinstance(value, cst.Call) or not (last_name(value.func) or "")[:1].isupper() or meta.imports is None:
        return False
    qualified = meta.imports.qualify(value.func)  # None for the module's own classes and relative imports
    return qualified is not None and (meta.sources is None or meta.sources(qualified.rpartition(".")[0]) is None)


def _assigned_value(binding: Assignment, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> cst.BaseExpression | None:
    """The right side of a plain `name = value` binding, or the matching element of `x, name = a, value`;
    else None (loops, other unpacking, walrus ...)."""
    target = parents.get(binding.node)
    if isinstance(target, cst.Element):
        return _unpacked_value(target, parents)
    if isinstance(target, cst.AssignTarget):
        statement = parents.get(target)
        if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
            return statement.value
    if isinstance(target, cst.AnnAssign) and target.target is binding.node:
        return target.value
    return None


def _unpacked_value(element: cst.Element, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> cst.BaseExpression | None:
    """`value` for the `name` of `x, name = a, value` (one target, a tuple of the same length, nothing starred)."""
    targets = parents.get(element)
    assign_target = parents.get(targets) if isinstance(targets, (cst.Tuple, cst.List)) else None
    statement = parents.get(assign_target) if isinstance(assign_target, cst.AssignTarget) else None
    if not isinstance(statement, cst.Assign) or len(statement.targets) != 1 or not isinstance(statement.value, (cst.Tuple, cst.List)):
        return None
    names, values = cast(cst.Tuple, targets).elements, statement.value.elements
    if len(names) != len(values) or any(isinstance(e, cst.StarredElement) for e in (*names, *values)):
        return None
    return values[list(names).index(element)].value


def _is_curvature_value(value: cst.BaseExpression | None, meta: Meta) -> bool:
    """A positive number, a key/attribute named as curvature, a curvature parameter, or one wrapped in a tensor."""
    if value is None:
        return False
    if _is_positive_number(value):
        return True
    if isinstance(value, cst.Call) and last_name(value.func) in TENSOR_WRAPPERS and value.args:
        return _is_curvature_value(value.args[0].value, meta)
    if isinstance(value, cst.Subscript) and len(value.slice) == 1 and isinstance(value.slice[0].slice, cst.Index):
        key = value.slice[0].slice.value
        return isinstance(key, cst.SimpleString) and _names_curvature(str(key.evaluated_value))
    if isinstance(value, cst.Attribute):
        return _names_curvature(value.attr.value)
    if isinstance(value, cst.Name):
        bindings = _visible_bindings(value, value.value, meta)
        return bool(bindings) and all(isinstance(b.node, cst.Param) and _binding_is_curvature(b, meta) for b in bindings)
    return False


def _is_positive_number(value: cst.BaseExpression) -> bool:
    if isinstance(value, (cst.Integer, cst.Float)):
        number = ast.literal_eval(value.value)
        return 0 < number < float("inf")
    return False


def _names_curvature(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in CURVATURE_WORDS)


def _self_assignments(klass: cst.ClassDef) -> list[tuple[str, cst.BaseExpression | None]]:
    """(attribute, value) for every `self.attribute = value` in the class's methods."""
    collector = _SelfAssignments()
    klass.visit(collector)
    return collector.found


def _class_level_verdicts(klass: cst.ClassDef, attribute: str, meta: Meta) -> list[bool]:
    """For each class-body binding of `attribute`: is it a curvature? A property counts when its name says so."""
    verdicts: list[bool] = []
    for statement in klass.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == attribute:
            verdicts.append(_names_curvature(attribute))
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == attribute for t in small.targets):
                verdicts.append(_is_curvature_value(small.value, meta))
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.target.value == attribute:
                verdicts.append(_is_curvature_value(small.value, meta))
    return verdicts


def _enclosing_class(node: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> cst.ClassDef | None:
    current = parents.get(node)
    while current is not None and not isinstance(current, cst.ClassDef):
        current = parents.get(current)
    return current


def _in_method(call: cst.CSTNode, meta: Meta) -> bool:
    """`self` is the first parameter of the function around the call (not rebound)."""
    bindings = _visible_bindings(call, "self", meta)
    return len(bindings) == 1 and isinstance(bindings[0].node, cst.Param)


def _describe(binding: Assignment) -> str:
    return "a curvature parameter" if isinstance(binding.node, cst.Param) else "a curvature constant"


class _SelfAssignments(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[str, cst.BaseExpression | None]] = []

    def _add(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Attribute) and dotted(target.value) == "self":
            # Anything but a plain `self.x = value` (augmented, unpacked) makes the value unknown.
            self.found.append((target.attr.value, value))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, (cst.Tuple, cst.List)):
                for element in target.target.elements:
                    self._add(element.value, None)
            else:
                self._add(target.target, node.value if len(node.targets) == 1 else None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._add(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(node.target, None)


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def manifold_reason(call: cst.CSTNode, expression: str, meta: Meta) -> str | None:
    """Why the manifold object `expression` (`ball`, `self.manifold`, `code_emb.manifold`), named by the scanner,
    may not be the one the point lies on at `call`; None when its binding is certain there.

    The root name must have one binding visible at the call (a parameter, one assignment), so the
    object the scanner followed is the one the call reads; `self.m` must be bound once in the class,
    and `a.m` not among the module's assigned attribute targets (`meta.assigned`)."""
    try:
        parsed = cst.parse_expression(expression)
    except cst.ParserSyntaxError:
        return f"`{expression}` is not an expression"
    if dotted(parsed) != expression:
        return f"`{expression}` is not a plain name or attribute"
    if _changed(expression, meta):
        return f"an attribute of `{expression}` is assigned in this module: its curvature need not be the one that made the points"
    root, _, rest = expression.partition(".")
    if root == "self":
        klass = _enclosing_class(call, meta.parents)
        attribute = rest.partition(".")[0]
        if klass is None or not _in_method(call, meta):
            return "`self` is not the method's instance here"
        if [name for name, _ in _self_assignments(klass)].count(attribute) != 1:
            return f"`self.{attribute}` is bound more than once in the class: which manifold it holds is not certain"
        return None
    if _single_binding(call, root, meta) is None:
        return f"`{root}` has more than one binding (or none) where the distance is taken"
    if rest and expression in meta.assigned:
        return f"`{expression}` is assigned in this module: which manifold it holds is not certain"
    return None


def attribute_facts(module: cst.Module) -> tuple[frozenset[str], frozenset[str]]:
    """(every dotted attribute target assigned anywhere in the module (`a.manifold = ...`), every dotted
    attribute the module spells anywhere (`args.curvature`)), in one walk."""
    collector = _AttributeTargets()
    module.visit(collector)
    return frozenset(collector.found), frozenset(collector.spelled)


class _AttributeTargets(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: set[str] = set()
        self.spelled: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        spelled = dotted(node)
        if spelled is not None:
            self.spelled.add(spelled)

    def _add(self, target: cst.BaseExpression) -> None:
        spelled = dotted(target)
        if spelled is not None and "." in spelled:
            self.found.add(spelled)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._add(node.target)
        if isinstance(node.target, (cst.Tuple, cst.List)):
            for element in node.target.elements:
                self._add(element.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._add(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(node.target)
