"""Reaching definitions over one function body, statement by statement.

libcst's ScopeProvider lists *every* assignment of a name, so `z = exp_map_zero(v); z =
torch.zeros(3); z.norm()` would look hyperbolic. Here the environment is rebuilt in
program order instead: an assignment replaces what a name held, the two arms of a branch
are analysed separately and merged (a name hyperbolic on one arm only becomes "possible",
one confidence level lower), loop bodies run twice so values from the previous iteration
reach the top. Every expression is handed to `on_expression` with the environment that
holds *at that point*, which is where the rules look for Euclidean operations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import libcst as cst

from vaeaudit.scan.names import dotted
from vaeaudit.scan.taint import HIGH, MEDIUM, Env, Step, Taint, ValueTaint
from vaeaudit.scan.vocabulary import EUCLIDEAN_ANNOTATION, HYPERBOLIC_ANNOTATION, HYPERBOLIC_DOCSTRING

OnExpression = Callable[[cst.CSTNode, Env], None]

_MAX_LOOP_DEPTH = 3


class Dataflow:
    def __init__(self, values: ValueTaint, on_expression: OnExpression) -> None:
        self.values = values
        self.on_expression = on_expression
        self.loop_depth = 0
        # id of each nested `def` met -> the environment where it is defined (its closure)
        self.definitions: dict[int, Env] = {}

    # -- entry points ---------------------------------------------------------------------

    def run_function(self, function: cst.FunctionDef, env: Env) -> None:
        """Analyse `function` starting from `env` (the class's attributes) plus its parameters."""
        env = dict(env)
        docstring = function.get_docstring() or ""
        for param in all_params(function.params):
            name = param.name.value
            if name in ("self", "cls"):
                env[name] = None
            else:
                env[name] = self._parameter_taint(param, docstring) or self.values.name_taint(name, param)
        self.run_block(function.body, env)

    def run_block(self, block: cst.BaseSuite | Sequence[cst.CSTNode], env: Env) -> Env:
        statements = block.body if isinstance(block, cst.BaseSuite) else block
        for statement in statements:
            env = self.run_statement(statement, env)
        return env

    # -- statements -----------------------------------------------------------------------

    def run_statement(self, statement: cst.CSTNode, env: Env) -> Env:
        if isinstance(statement, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in statement.body:
                self.on_expression(small, env)
                env = self._effect(small, env)
            return env
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            self.definitions[id(statement)] = env
            env = dict(env)
            env[statement.name.value] = None
            return env  # analysed as its own scope
        if isinstance(statement, cst.If):
            self.on_expression(statement.test, env)
            taken = self.run_block(statement.body, dict(env))
            if statement.orelse is None:
                other = env
            elif isinstance(statement.orelse, cst.If):
                other = self.run_statement(statement.orelse, dict(env))
            else:
                other = self.run_block(statement.orelse.body, dict(env))
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
            return self.run_block(statement.body, env)
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
                merged[key] = a if a.confidence <= b.confidence else b
            elif a is not None or b is not None:
                merged[key] = (a or b).weaker(Step(f"{key}: hyperbolic on some paths only", node))
            else:
                merged[key] = None
        return merged

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
            env = dict(env)
            for element in _elements(small.target):
                key = dotted(element)
                if key is not None:
                    env[key] = None
            return env
        return env

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None, taint: Taint | None, env: Env, where: cst.CSTNode) -> Env:
        """Record what `target` holds after `target = value` (value None: unknown)."""
        if isinstance(target, (cst.Tuple, cst.List)):
            return self._bind_unpacked(target, value, taint, env, where)
        if isinstance(target, cst.StarredElement):
            return self._bind(target.value, None, taint, env, where)
        key = dotted(target)
        if key is None:
            return env  # `x[i] = ...` changes an element, not what x is
        env = {k: v for k, v in env.items() if not k.startswith(key + ".")}
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
        if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(targets) and not any(
            isinstance(element, cst.StarredElement) for element in (*target.elements, *value.elements)
        ):
            for element_target, element in zip(targets, value.elements):
                env = self._bind(element_target, element.value, self.values.of(element.value, env), env, where)
            return env
        for element_target in targets:
            part = taint.weaker(Step(f"unpacked from {self.values.short(value)}", where)) if taint and value is not None else None
            env = self._bind(element_target, None, part, env, where)
        return env

    def bind_loop_target(self, target: cst.BaseExpression, iterable: cst.BaseExpression, env: Env, loop: cst.CSTNode) -> Env:
        """`for z in zs`, `for i, z in enumerate(zs)`, `for a, b in zip(xs, ys)`: elements of points are points."""
        if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and isinstance(target, cst.Tuple):
            parts = [element.value for element in target.elements]
            args = [argument.value for argument in iterable.args]
            if iterable.func.value == "enumerate" and len(parts) == 2 and args:
                env = self._bind(parts[0], None, None, env, loop)
                return self._bind(parts[1], args[0], self.values.of(args[0], env), env, loop)
            if iterable.func.value == "zip" and len(parts) == len(args):
                for part, argument in zip(parts, args):
                    env = self._bind(part, argument, self.values.of(argument, env), env, loop)
                return env
        return self._bind(target, iterable, self.values.of(iterable, env), env, loop)

    def _parameter_taint(self, param: cst.Param, docstring: str) -> Taint | None:
        """Parameters annotated (`z: PoincareTensor`) or documented as ball points."""
        name = param.name.value
        if param.annotation is not None:
            annotation = self.values.code(param.annotation.annotation)
            if HYPERBOLIC_ANNOTATION.search(annotation) and not EUCLIDEAN_ANNOTATION.search(annotation):
                return Taint(HIGH, (Step(f"{name}: parameter annotated `{annotation}`", param),))
        for line in docstring.splitlines():
            if re.search(rf"\b{re.escape(name)}\b", line) and HYPERBOLIC_DOCSTRING.search(line):
                return Taint(MEDIUM, (Step(f"{name}: docstring says {' '.join(line.split())[:60]!r}", param),))
        return None


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
