"""Reaching definitions over one function body, statement by statement.

libcst's ScopeProvider lists *every* assignment of a name, so `z = exp_map_zero(v); z =
torch.zeros(3); z.norm()` would look hyperbolic. Here the environment is rebuilt in
program order instead: an assignment replaces what a name held, the two arms of a branch
are analysed separately and merged (a name hyperbolic on one arm only becomes "possible",
one confidence level lower), loop bodies run twice so values from the previous iteration
reach the top. Every expression is handed to `on_expression` with the environment that
holds *at that point*, which is where the rules look for Euclidean operations.

The environment is updated in place along straight-line code and copied only where paths
split, so a scope of n assignments costs O(n), not O(n²). While it runs, the flow knows
which assignment of each name was met last (`last_binding`, for consumer evidence: a name
passed to `poincare_distance` is a ball point at every use of *that* binding), which branch
conditions hold (`branches`, for Euclidean branches such as `if c == 0:`) and what each
`return` gives back (`returned`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import cast

import libcst as cst

from vaeaudit.scan.artifacts import loaded_path, opened_path
from vaeaudit.scan.names import dotted, last_name
from vaeaudit.scan.taint import EVERY_KEY, LOW, MEDIUM, Env, Manifold, Step, Taint, ValueTaint, join, string_key
from vaeaudit.scan.tree import Place, walk
from vaeaudit.scan.vocabulary import EUCLIDEAN_ANNOTATION, EUCLIDEAN_DOCSTRING, HYPERBOLIC_ANNOTATION, HYPERBOLIC_DOCSTRING

OnExpression = Callable[[cst.CSTNode, Env], None]

_MAX_LOOP_DEPTH = 3


class Dataflow:
    def __init__(self, values: ValueTaint, on_expression: OnExpression, ball_bindings: dict[tuple[str, int], Taint] | None = None) -> None:
        self.values = values
        self.on_expression = on_expression
        self.loop_depth = 0
        # id of each nested `def` met -> the environment where it is defined (its closure)
        self.definitions: dict[int, Env] = {}
        # (name, id of its binding node) -> why that binding holds ball points (consumer evidence)
        self.ball_bindings = ball_bindings if ball_bindings is not None else {}
        self.last_binding: dict[str, cst.CSTNode] = {}
        # (name, id of its binding) -> the bindings it views or converts (`x_t = torch.tensor(x)`), or, for the
        # join of an `if` whose arms bind the name differently, both arms' bindings: consumer evidence about the
        # first is evidence about each of them (`ball.dist(x_t, y_t)` says x holds points)
        self.derived_from: dict[tuple[str, int], list[tuple[str, int]]] = {}
        # (name, id of its binding) of `z1 = store["s1"]`: the binding reads one string key of `store`; consumer
        # evidence about it says the same of every value of `store` only when `store` is filled at one site
        self.keyed_reads: set[tuple[str, int]] = set()
        self._scope: Sequence[cst.CSTNode] = ()
        self._one_site: dict[str, bool] = {}
        self.branches: list[tuple[cst.BaseExpression, bool]] = []  # enclosing `if` tests (and arm) and `with` items
        self.returned: list[tuple[cst.BaseExpression, Taint | None]] = []
        self._dotted_heads: set[str] = set()
        self.place: Place = ((), 0)  # the block being run, and where in it the statement being run is
        self._empty_bindings: set[tuple[str, int]] = set()  # (name, id of its binding) of `xs = []`
        # The function being run: the binding of an attribute it reads before binding it (`self.emb` on entry),
        # so consumer evidence about `u = self.emb[i]` says that `self.emb` holds points, and so `self.emb[j]`.
        self._entry: cst.FunctionDef | None = None
        self.artifact_bindings: dict[tuple[str, int], str] = {}  # (name, id of its binding) -> the artifact it loads

    # -- entry points ---------------------------------------------------------------------

    def run_function(self, function: cst.FunctionDef, env: Env, received: dict[str, Taint] | None = None) -> None:
        """Analyse `function` from `env` (closure or class attributes) plus its parameters.

        `received` holds what call sites pass (project-wide summaries); what the
        parameter's own annotation, docstring or consumers say comes first.
        """
        env = dict(env)
        docstring = function.get_docstring() or ""
        for param in all_params(function.params):
            name = param.name.value
            self.last_binding[name] = param
            if name in ("self", "cls"):
                env[name] = None
                continue
            given = (received or {}).get(name)
            env[name] = (
                self.ball_bindings.get((name, id(param)))
                or (given if given is not None and given.klass is not None else None)  # `emb: HyperbolicEmbedding`: an instance
                or self.values.annotated_ball(param)  # `manifold: geoopt.PoincareBall` holds the ball, not its points
                or self._parameter_taint(param, docstring)
                or given
                or self.values.name_taint(name, param)
            )
            taint = env[name]
            if taint is not None and taint.kind == "point" and taint.on is None:
                env[name] = replace(taint, on=Manifold.of_parameter(name))  # so a return of it is known as it
        for key, taint in (received or {}).items():
            if "." in key and key.partition(".")[0] in env:  # `code_emb.emb`: an attribute of what a caller passes
                env.setdefault(key, taint)
        self._entry = function
        for (key, binding), taint in self.ball_bindings.items():
            if binding == id(function) and env.get(key) is None:  # an attribute a view of which is consumed
                env[key] = taint
        self.run_block(function.body, env)

    def run_block(self, block: cst.BaseSuite | Sequence[cst.CSTNode], env: Env) -> Env:
        statements = block.body if isinstance(block, cst.BaseSuite) else block
        if not self._scope:
            self._scope = statements
        guards = 0
        for index, statement in enumerate(statements):
            self.place = (statements, index)
            env = self.run_statement(statement, env)
            if isinstance(statement, cst.If) and statement.orelse is None and _exits(statement.body):
                # `if hasattr(m, "manifold"): return m.dist(x, y)` -- what follows is the other arm
                self.branches.append((statement.test, False))
                guards += 1
        if guards:
            del self.branches[len(self.branches) - guards :]
        return env

    # -- statements -----------------------------------------------------------------------

    def run_statement(self, statement: cst.CSTNode, env: Env) -> Env:
        if isinstance(statement, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in statement.body:
                self.on_expression(small, env)
                if isinstance(small, cst.Return) and small.value is not None:
                    self.returned.append((small.value, self.values.of(small.value, env)))
                env = self._effect(small, env)
            return env
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            self.definitions[id(statement)] = dict(env)
            env[statement.name.value] = None
            return env  # analysed as its own scope
        if isinstance(statement, cst.If):
            self.on_expression(statement.test, env)
            self.branches.append((statement.test, True))
            bound_before = dict(self.last_binding)
            taken = self.run_block(statement.body, dict(env))
            bound_taken, self.last_binding = self.last_binding, bound_before
            self.branches[-1] = (statement.test, False)
            if statement.orelse is None:
                other = env
            elif isinstance(statement.orelse, cst.If):
                other = self.run_statement(statement.orelse, dict(env))
            else:
                other = self.run_block(statement.orelse.body, dict(env))
            self.branches.pop()
            # After the join a name has one binding if both arms agree. When one arm only reshapes the other's
            # points (`if x.dim() == 1: x = x.unsqueeze(0)`), the join stands for both; any other rebinding
            # (`if hyperbolic: z = ball.expmap0(z)`) leaves no binding: the arms may hold different geometries.
            for name, node in list(self.last_binding.items()):
                arm = bound_taken.get(name)
                if arm is node:
                    continue
                if arm is not None and (name, id(node)) in self.derived_from.get((name, id(arm)), ()):
                    self.derived_from[(name, id(statement))] = [(name, id(arm)), (name, id(node))]
                    self.last_binding[name] = statement
                else:
                    del self.last_binding[name]
            return self._merge(taken, other, statement)
        if isinstance(statement, (cst.For, cst.While)):
            return self._loop(statement, env)
        if isinstance(statement, (cst.Try, cst.TryStar)):
            return self._try(statement, env)
        if isinstance(statement, cst.With):
            for item in statement.items:
                self.on_expression(item.item, env)
                if item.asname is not None:
                    env = self._bind(item.asname.name, item.item, None, env, statement)
            self.branches.extend((item.item, True) for item in statement.items)  # `with pytest.raises(...)` is a context too
            env = self.run_block(statement.body, env)
            del self.branches[len(self.branches) - len(statement.items) :]
            return env
        if isinstance(statement, cst.Match):
            self.on_expression(statement.subject, env)
            merged = env
            for case in statement.cases:
                merged = self._merge(merged, self.run_block(case.body, dict(env)), statement)
            return merged
        return env

    def _loop(self, loop: cst.For | cst.While, env: Env) -> Env:
        header = loop.iter if isinstance(loop, cst.For) else loop.test
        self.on_expression(header, env)
        passes = 2 if self.loop_depth < _MAX_LOOP_DEPTH else 1
        self.loop_depth += 1
        state = env
        for _ in range(passes):
            body_env = dict(state)
            if isinstance(loop, cst.For):
                body_env = self.bind_loop_target(loop.target, loop.iter, body_env, loop)
            state = self._merge(env, self.run_block(loop.body, body_env), loop)
        self.loop_depth -= 1
        if loop.orelse is not None:
            state = self.run_block(loop.orelse.body, state)
        return state

    def _try(self, statement: cst.Try | cst.TryStar, env: Env) -> Env:
        after_body = self.run_block(statement.body, dict(env))
        if statement.orelse is not None:
            after_body = self.run_block(statement.orelse.body, after_body)
        result = after_body
        for handler in statement.handlers:
            handler_env = self.run_block(handler.body, self._merge(env, after_body, handler))
            result = self._merge(result, handler_env, handler)
        if statement.finalbody is not None:
            result = self.run_block(statement.finalbody.body, result)
        return result

    def _merge(self, first: Env, second: Env, node: cst.CSTNode) -> Env:
        """Join two paths: hyperbolic on both stays, on one only becomes "possible"."""
        if first is second:
            return first
        merged: Env = {}
        for key in first.keys() | second.keys():
            a = self.values.lookup(first, key, node)
            b = self.values.lookup(second, key, node)
            if a is not None and b is not None:
                merged[key] = join(a, b, Step(f"{key}: an instance of another class on some paths", node))
            elif (a is not None or b is not None) and self._empty_so_far(key):
                merged[key] = a or b  # `xs = []` then `xs.append(z)` in a loop: the empty list holds nothing else
            elif a is not None or b is not None:
                merged[key] = cast("Taint", a or b).weaker(Step(f"{key}: hyperbolic on some paths only", node))
            else:
                merged[key] = None
        return merged

    def _empty_so_far(self, key: str) -> bool:
        """Whether both paths still hold the binding `key = []` (an empty list, dict, set or buffer that only
        `append`/`extend` or item assignments fill): a path that left it empty adds no other kind of value."""
        binding = self.last_binding.get(key)
        return binding is not None and (key, id(binding)) in self._empty_bindings

    # -- assignments ----------------------------------------------------------------------

    def _effect(self, small: cst.BaseSmallStatement, env: Env) -> Env:
        if isinstance(small, cst.Assign):
            taint = self.values.of(small.value, env)
            for target in small.targets:
                env = self._bind(target.target, small.value, taint, env, small)
            return env
        if isinstance(small, cst.AnnAssign) and small.value is not None:
            return self._bind(small.target, small.value, self.values.of(small.value, env), env, small)
        if isinstance(small, cst.AugAssign):
            return self._bind(small.target, None, None, env, small)
        if isinstance(small, cst.Del):
            for element in _elements(small.target):
                key = dotted(element)
                if key is not None:
                    env[key] = None
            return env
        if isinstance(small, cst.Expr):
            _forget_manifold_if_changed_in_place(small.value, env)
            return self._collect(small.value, env)
        return env

    def _collect(self, call: cst.BaseExpression, env: Env) -> Env:
        """`points.append(z)` / `points.extend(zs)`: the list now holds ball points."""
        if not (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value in ("append", "extend")
            and call.args
        ):
            return env
        taint = self.values.point_of(call.args[0].value, env)
        key, lists = _collected_in(call.func.value)
        if key is None or taint is None or self.values.lookup(env, key, call) is not None:
            return env
        taint = taint.then(Step(f"{self.values.short(call.func.value)} collects {self.values.short(call.args[0].value)}", call))
        # `groups[label].append(c)`: a dict of lists, each list of ball points (read back as `groups[k]`)
        env[key] = Taint(taint.confidence, kind="container", parts=((EVERY_KEY, taint),)) if lists else taint
        return env

    def _fill(self, key: str | None, value: cst.BaseExpression | None, taint: Taint | None, env: Env, where: cst.CSTNode) -> Env:
        """`settled[mask] = settle(v)`, `out[i] = expmap0(v[i])`: a buffer that held nothing known now holds ball points
        (as a list does once `append` gives it one)."""
        if key is None or value is None or taint is None or taint.kind != "point" or self.values.lookup(env, key, where) is not None:
            return env
        env[key] = taint.then(Step(f"{key}[...] <- {self.values.short(value)}", where))
        return env

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None, taint: Taint | None, env: Env, where: cst.CSTNode) -> Env:
        """Record what `target` holds after `target = value` (value None: unknown)."""
        if isinstance(target, (cst.Tuple, cst.List)):
            return self._bind_unpacked(target, value, taint, env, where)
        if isinstance(target, cst.StarredElement):
            return self._bind(target.value, None, taint, env, where)
        key = dotted(target)
        if key is None:
            if isinstance(target, cst.Subscript):  # `x[i] = ...` changes an element, not what x is,
                _forget_manifold_of(dotted(target.value), env)  # but that element may come from another ball
                return self._fill(dotted(target.value), value, taint, env, where)
            return env
        head, dot, _ = key.rpartition(".")
        if dot:
            self._dotted_heads.add(head)
        if key in self._dotted_heads:  # rebinding `self`/`out` forgets `self.z`/`out.z`
            for stale in [k for k in env if k.startswith(key + ".")]:
                del env[stale]
        source = self.values.carrier(value) if value is not None else None
        if source is None and _rescales(value, key):
            source = key  # `x = x / norm * 0.99` (a projection back into the ball): the same points, rescaled
        if source is not None and "." in source and source not in self.last_binding and self._entry is not None:
            self.last_binding[source] = self._entry  # `u = self.emb[i]` views the attribute as the function found it
        if source is not None and source in self.last_binding:  # `x = x.unsqueeze(0)` views its earlier binding
            self.derived_from[(key, id(where))] = [(source, id(self.last_binding[source]))]
            if _reads_string_key(value, source):
                self.keyed_reads.add((key, id(where)))
        self.last_binding[key] = where
        opened = opened_path(value)
        if opened is not None:
            self.values.opened[key] = opened
        else:
            self.values.opened.pop(key, None)
        artifact = loaded_path(value, self.values.imports, self.values.opened) if isinstance(value, cst.Call) else None
        if artifact is not None:  # consumer evidence about this binding proves what the file on disk holds
            self.artifact_bindings[(key, id(where))] = artifact
        if value is not None and _empty_container(value):
            self._empty_bindings.add((key, id(where)))
        consumed = self.ball_bindings.get((key, id(where)))
        if consumed is not None and (taint is None or taint.kind != "point" or taint.confidence < consumed.confidence):
            taint = consumed  # the binding is still named by its value: the chain then says how it is consumed
        if taint is not None:
            described = self.values.short(value) if value is not None else "..."
            env[key] = taint.then(Step(f"{key} <- {described}", where))
        elif self.values.is_known_euclidean(value):
            env[key] = None
        else:
            env[key] = self.values.name_taint(key, target)
        return env

    def _bind_unpacked(self, target, value, taint, env, where) -> Env:
        targets = [element.value if isinstance(element, cst.Element) else element for element in target.elements]
        if (
            isinstance(value, (cst.Tuple, cst.List))
            and len(value.elements) == len(targets)
            and not any(isinstance(element, cst.StarredElement) for element in (*target.elements, *value.elements))
        ):
            for element_target, element in zip(targets, value.elements, strict=False):
                env = self._bind(element_target, element.value, self.values.of(element.value, env), env, where)
            return env
        for index, element_target in enumerate(targets):
            if taint is not None and taint.kind == "container":
                part = taint.part(f"#{index}")  # `z, mu = encode(x)` of a function returning `(z, mu)`
            else:
                part = taint.weaker(Step(f"unpacked from {self.values.short(value)}", where)) if taint and value is not None else None
            env = self._bind(element_target, None, part, env, where)
        return env

    def filled_at_one_site(self, name: str) -> bool:
        """`name` is bound once in this scope, to an empty dict or list, never passed on or aliased, and
        filled by one statement (`store[key] = f(x)` in a loop): all its values come from that expression."""
        if name not in self._one_site:
            self._one_site[name] = _filled_at_one_site(self._scope, name)
        return self._one_site[name]

    def bind_loop_target(self, target: cst.BaseExpression, iterable: cst.BaseExpression, env: Env, loop: cst.CSTNode) -> Env:
        """`for z in zs`, `for i, z in enumerate(zs)`, `for a, b in zip(xs, ys)`: elements of points are points."""
        if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and isinstance(target, cst.Tuple):
            parts = [element.value for element in target.elements]
            args = [argument.value for argument in iterable.args]
            if iterable.func.value == "enumerate" and len(parts) == 2 and args:
                env = self._bind(parts[0], None, None, env, loop)
                return self._bind(parts[1], args[0], self.values.of(args[0], env), env, loop)
            if iterable.func.value == "zip" and len(parts) == len(args):
                for part, argument in zip(parts, args, strict=False):
                    env = self._bind(part, argument, self.values.of(argument, env), env, loop)
                return env
        if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute) and iterable.func.attr.value in ("items", "values"):
            # `for label, group in groups.items()` of a store whose every value holds ball points (`groups[k].append(z)`)
            store = self.values.of(iterable.func.value, env)
            every = store.part(EVERY_KEY) if store is not None and store.kind == "container" else None
            if store is not None and store.kind == "point":  # a dict of ball points (`id -> vector`, loaded from disk)
                every = store.then(Step(f"a value of {self.values.short(iterable.func.value)}", loop))
            if iterable.func.attr.value == "values":
                return self._bind(target, None, every, env, loop)
            if isinstance(target, cst.Tuple) and len(target.elements) == 2:
                env = self._bind(target.elements[0].value, None, None, env, loop)
                return self._bind(target.elements[1].value, None, every, env, loop)
        return self._bind(target, iterable, self.values.of(iterable, env), env, loop)

    def _parameter_taint(self, param: cst.Param, docstring: str) -> Taint | None:
        """Parameters annotated (`z: PoincareTensor`, medium) or documented (low) as ball points.

        Only a line that documents the parameter counts (`z: points on the ball`, `:param z:`,
        `z (Tensor) -- ...`); a line that also says "Euclidean"/"tangent" describes an input that is
        mapped onto the ball, not a ball point.
        """
        name = param.name.value
        if param.annotation is not None:
            annotation = self.values.code(param.annotation.annotation)
            if HYPERBOLIC_ANNOTATION.search(annotation) and not EUCLIDEAN_ANNOTATION.search(annotation):
                return Taint(MEDIUM, (Step(f"{name}: parameter annotated `{annotation}`", param),))
        lines = docstring.splitlines()
        for index, line in enumerate(lines):
            if re.match(rf"\s*(:param\s+)?{re.escape(name)}\b\s*(\(|:|--|-)", line):
                entry = " ".join([line, *_continuation(lines, index)])
                if HYPERBOLIC_DOCSTRING.search(entry) and not EUCLIDEAN_DOCSTRING.search(entry):
                    return Taint(LOW, (Step(f"{name}: docstring says {' '.join(entry.split())[:60]!r}", param),))
        return None


# A docstring's own `Returns` section: Google (`Returns:` then indented lines), numpydoc (`Returns` over dashes), Sphinx.
_RETURNS_SECTION = re.compile(r"^\s*(returns?|:returns?:)\s*:?\s*$", re.IGNORECASE)
_RETURNS_PHRASE = re.compile(r"\breturns?\b|^\s*(->|:returns?:)", re.IGNORECASE)


def return_descriptions(docstring: str) -> list[str]:
    """The docstring text that describes what a function returns: each line that says "returns ..." and each
    `Returns` section's entry (the lines indented under its header, or numpydoc's lines after the dashes). A section
    of several entries describes a tuple (`h_proj: ...`, `scores: ...`): no one description is the return's."""
    lines = docstring.splitlines()
    described = []
    for index, line in enumerate(lines):
        if _RETURNS_SECTION.match(line):
            after = lines[index + 1 :]
            if after and after[0].strip() and not after[0].strip().strip("-"):  # numpydoc: `Returns` / `-------`
                entry = list(itertools.takewhile(str.strip, itertools.dropwhile(lambda text: not text.strip(), after[1:])))
                heads = [text for text in entry if _indent(text) == _indent(entry[0])] if entry else []
            else:
                entry = _continuation(lines, index)
                heads = [text for text in entry if _indent(text) == _indent(entry[0]) and _NAMED_ENTRY.match(text)] if entry else []
            if len(heads) <= 1:
                described.append(" ".join(entry))
        elif _RETURNS_PHRASE.search(line):
            described.append(line)
    return described


_NAMED_ENTRY = re.compile(r"\s*[\w.\[\]]+\s*(\([^)]*\))?\s*:\s")  # Google's `h_proj (Tensor): ...` of one returned value


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _continuation(lines: list[str], index: int) -> list[str]:
    """The lines indented under a parameter's line: its description in numpydoc (`z : ndarray` then
    `    Poincaré disk coordinates.`) and in wrapped Google/Sphinx entries."""
    indent = len(lines[index]) - len(lines[index].lstrip())
    following = []
    for line in lines[index + 1 :]:
        if not line.strip() or len(line) - len(line.lstrip()) <= indent:
            break
        following.append(line)
    return following


# In-place methods that keep a tensor what it was (gradient bookkeeping, not values).
_KEEPING_IN_PLACE = frozenset("requires_grad_ retain_grad share_memory_ pin_memory_".split())


def _reads_string_key(value: cst.BaseExpression | None, container: str) -> bool:
    """`value` is `container["key"]`, maybe viewed or converted (`container["key"].squeeze(0).numpy()`)."""
    node = value
    while isinstance(node, (cst.Call, cst.Attribute, cst.Subscript)):
        if isinstance(node, cst.Subscript) and dotted(node.value) == container:
            return string_key(node) is not None
        node = node.func if isinstance(node, cst.Call) else node.value
    return False


_CODE = cst.Module([]).code_for_node  # the source text of a node (the same whatever module holds it)
_EMPTY_CONTAINERS = frozenset({"dict", "list", "OrderedDict", "defaultdict", "collections.OrderedDict", "collections.defaultdict"})
_FILLING_METHODS = frozenset({"append", "extend", "insert", "update", "setdefault"})


def _filled_at_one_site(scope: Sequence[cst.CSTNode], name: str) -> bool:
    bindings: list[cst.CSTNode] = []  # the statement binding `name` (an Assign when it is `name = {}`)
    fills: set[int] = set()
    for statement in scope:
        for node, ancestors in walk(statement):
            if not (isinstance(node, cst.Name) and node.value == name and ancestors):
                continue
            parent, grandparent = ancestors[-1], ancestors[-2] if len(ancestors) > 1 else None
            if isinstance(parent, cst.AssignTarget):
                bindings.append(grandparent if grandparent is not None else parent)
            elif isinstance(parent, cst.AnnAssign | cst.AugAssign | cst.For | cst.AsName | cst.NamedExpr | cst.CompFor):
                bindings.append(parent)
            elif isinstance(parent, cst.Subscript) and isinstance(grandparent, cst.AssignTarget | cst.AugAssign):
                fills.add(id(grandparent))
                statement_node = ancestors[-3] if isinstance(grandparent, cst.AssignTarget) and len(ancestors) > 2 else grandparent
                if _value_depends_on_key(statement_node, parent):
                    return False  # `out[k] = d[k]`: each key's value comes from elsewhere
            elif isinstance(parent, cst.Attribute) and parent.attr.value in _FILLING_METHODS:
                fills.add(id(parent))
            elif isinstance(parent, cst.Arg | cst.Assign | cst.Return | cst.Element | cst.DictElement | cst.Yield):
                return False  # passed on or aliased: others may fill it
    if len(bindings) != 1 or len(fills) != 1 or not isinstance(bindings[0], cst.Assign):
        return False
    value = bindings[0].value
    if isinstance(value, cst.Dict | cst.List):
        return not value.elements
    if not isinstance(value, cst.Call):
        return False
    function = dotted(value.func)
    return function is not None and function in _EMPTY_CONTAINERS and (function.endswith("defaultdict") or not value.args)


def _value_depends_on_key(statement: cst.CSTNode, target: cst.Subscript) -> bool:
    """The stored value picks its source by the key: `out[k] = d[k]`, `out[k] = getattr(model, k)`."""
    value = getattr(statement, "value", None)
    if value is None:
        return False
    key = _CODE(target.slice[0].slice) if len(target.slice) == 1 else None
    for node, _ in walk(value):
        if isinstance(node, cst.Subscript) and len(node.slice) == 1 and _CODE(node.slice[0].slice) == key:
            return True
        if isinstance(node, cst.Call) and dotted(node.func) == "getattr":
            return True
    return False


def _forget_manifold_of(key: str | None, env: Env) -> None:
    """`key` (a point or a container of points) was changed in part: it stays what it was, on no known manifold."""
    taint = env.get(key) if key is not None else None
    if key is not None and taint is not None:
        env[key] = _without_manifold(taint)


def _without_manifold(taint: Taint) -> Taint:
    if taint.kind == "point":
        return replace(taint, on=None) if taint.on is not None else taint
    if taint.parts:
        return replace(taint, parts=tuple((name, _without_manifold(part)) for name, part in taint.parts))
    return taint


def _forget_manifold_if_changed_in_place(expression: cst.BaseExpression, env: Env) -> None:
    """`v.mul_(2)`, `z.copy_(other)`: the values changed in place may lie on no ball, or on another one;
    they stay points (a later norm is still judged) but of no known manifold, so no fix trusts its curvature."""
    if not (isinstance(expression, cst.Call) and isinstance(expression.func, cst.Attribute)):
        return
    method = expression.func.attr.value
    if not method.endswith("_") or method.startswith("_") or method in _KEEPING_IN_PLACE:
        return
    _forget_manifold_of(dotted(expression.func.value), env)


def _exits(body: cst.BaseSuite) -> bool:
    """Whether a block always leaves (its last statement returns, raises, breaks or continues)."""
    last = body.body[-1] if body.body else None
    if isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return isinstance(last.body[-1], (cst.Return, cst.Raise, cst.Break, cst.Continue))
    return False


def all_params(params: cst.Parameters) -> list[cst.Param]:
    found = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            found.append(star)
    return found


def _elements(target: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        return [element.value for element in target.elements]
    return [target]


def _rescales(value: cst.BaseExpression | None, key: str) -> bool:
    """`key * s`, `key / r * 0.99`: a product or quotient whose leftmost factor is `key` itself."""
    while isinstance(value, cst.BinaryOperation) and isinstance(value.operator, (cst.Multiply, cst.Divide)):
        value = value.left
    return value is not None and dotted(value) == key


def _collected_in(receiver: cst.BaseExpression) -> tuple[str | None, bool]:
    """The name an `append` fills, and whether it is a dict of lists: `points` of `points.append(z)`,
    `groups` of `groups[label].append(z)` and of `groups.setdefault(label, []).append(z)`."""
    if isinstance(receiver, cst.Subscript):
        return dotted(receiver.value), True
    if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute) and receiver.func.attr.value == "setdefault":
        return dotted(receiver.func.value), True
    return dotted(receiver), False


def _empty_container(value: cst.BaseExpression) -> bool:
    """`[]`, `{}`, `list()`, `dict()`, `set()`, `defaultdict(list)`, or a buffer allocated to be filled (`torch.empty_like(v)`,
    `np.zeros((n, d))`: zeros are the ball's origin, so rows left unfilled are ball points too)."""
    if isinstance(value, (cst.List, cst.Dict)):
        return not value.elements
    if not isinstance(value, cst.Call):
        return False
    if isinstance(value.func, cst.Name) and value.func.value in ("list", "dict", "set", "OrderedDict"):
        return not value.args
    return isinstance(value.func, (cst.Name, cst.Attribute)) and last_name(value.func) in _BUFFERS


_BUFFERS = frozenset("empty empty_like zeros zeros_like new_empty new_zeros defaultdict".split())  # `defaultdict(list)` too
