"""Learned ball embeddings: the table of a class trained with a Poincaré distance holds ball points.

Poincaré embeddings (Nickel & Kiela's code and its many copies) keep their points in a plain
`nn.Embedding` table (`max_norm=1` or a projecting optimiser keeps the rows inside the ball) and
train it through a hand-written Poincaré distance: nothing on the table says "ball", the class's
distance does. An embedding table `self.T = nn.Embedding(...)` of a class is a table of ball points
when the class's distance is a Poincaré distance:

- a method of the class spells it out (`Model.dist` computing `acosh(1 + 2‖u−v‖²/((1−‖u‖²)(1−‖v‖²)))`
  in any arrangement: `vaeaudit.scan.rules.hyp005.spells_poincare_distance`), or an attribute is bound to a class or function of the
  module that does, or to a known Poincaré distance (`poincare_distance`): unconditional, *medium*
  (the rows are trained as ball points; that they stay inside is the training code's business);
- a constructor parameter that *defaults* to one (`dist=PoincareDistance`): a caller may pass the
  Euclidean distance class instead, so *low*;
- a function of the module trains the rows itself: it passes lookups of an instance (`u = model(idx)`,
  where `forward` returns `self.T(idx)`) to a Poincaré distance, as a training script's loop does (*medium*).

A class that maps anything onto the ball itself (an exponential map or another producer) is left
alone: its table more likely holds the tangent vectors it maps. The rows (`self.T(idx)`), the weight
(`self.T.weight`) and the parameters (`self.T.parameters()`) of such a table are ball points
(`vaeaudit.scan.taint`, kind "table").
"""

from __future__ import annotations

import re
from collections.abc import Callable

import libcst as cst

from vaeaudit.scan.dataflow import all_params
from vaeaudit.scan.names import ImportMap, dotted, last_name
from vaeaudit.scan.rules.hyp005 import spells_poincare_distance
from vaeaudit.scan.taint import LOW, MEDIUM, MODULE_SELF_METHODS, Step, Taint
from vaeaudit.scan.tree import walk
from vaeaudit.scan.vocabulary import PROJECTION_ONTO_THE_BALL

_EMBEDDING_TABLES = frozenset({"torch.nn.Embedding", "torch.nn.modules.sparse.Embedding"})
# Known Poincaré distances by name (`vaeaudit.scan.consumers` takes their arguments as ball points).
_KNOWN_DISTANCES = frozenset({"poincare_distance", "poincare_distance_matrix"})
_MAPS_ONTO_THE_BALL = re.compile(r"exp_?map", re.IGNORECASE)


class BallTables:
    """Finds the ball-point embedding tables of the classes of one module."""

    def __init__(
        self,
        module: cst.Module,
        imports: ImportMap,
        code: Callable[[cst.CSTNode], str],
        producers: frozenset[str],
        carrier: Callable[[cst.BaseExpression], str | None],
    ) -> None:
        self.imports = imports
        self.code = code
        self.producers = producers
        self.carrier = carrier  # the name whose rows an argument views (`ValueTaint.carrier`)
        self.definitions = {s.name.value: s for s in module.body if isinstance(s, (cst.ClassDef, cst.FunctionDef))}
        self._spelled: dict[int, bool] = {}
        self._found: dict[int, dict[str, Taint]] = {}

    def of(self, klass: cst.ClassDef) -> dict[str, Taint]:
        """`self.T` -> a "table" taint for each ball-point embedding table of `klass`."""
        if id(klass) not in self._found:
            self._found[id(klass)] = self._tables(klass)
        return self._found[id(klass)]

    def _tables(self, klass: cst.ClassDef) -> dict[str, Taint]:
        methods = [statement for statement in klass.body.body if isinstance(statement, cst.FunctionDef)]
        tables: list[tuple[str, cst.Assign, str]] = []
        for method in methods:
            for node, _ in walk(method.body):
                if type(node) is cst.Assign and len(node.targets) == 1:
                    key = dotted(node.targets[0].target)
                    bound = self._max_norm(node.value, method)
                    if key is not None and key.startswith("self.") and key.count(".") == 1 and bound is not None:
                        tables.append((key, node, bound))
                elif type(node) is cst.Call and self._maps_onto_the_ball(node):
                    return {}
        if not tables:
            return {}
        distance = self._distance(klass, methods) or self._caller_distance(klass, methods, {key for key, _, _ in tables})
        if distance is None:
            return {}
        confidence, why = distance
        return {
            key: Taint(
                confidence,
                (why, Step(f"`{key} = {self._short(assign.value)}`{bound}: an embedding table of `{klass.name.value}`", assign)),
                kind="table",
            )
            for key, assign, bound in tables
        }

    def _maps_onto_the_ball(self, call: cst.Call) -> bool:
        name = last_name(call.func) or ""
        return name in self.producers or (_MAPS_ONTO_THE_BALL.search(name) or PROJECTION_ONTO_THE_BALL.search(name)) is not None

    def _max_norm(self, value: cst.BaseExpression, method: cst.FunctionDef) -> str | None:
        """For `nn.Embedding(...)` (also `.to(device)`): ", rows kept within max_norm=1" when its max_norm is at most 1
        (literal, or a parameter's default), else ""; None for anything but an embedding table."""
        while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value in MODULE_SELF_METHODS:
            value = value.func.value
        if not isinstance(value, cst.Call) or self.imports.qualify(value.func) not in _EMBEDDING_TABLES:
            return None
        bound = next((arg.value for arg in value.args if arg.keyword is not None and arg.keyword.value == "max_norm"), None)
        if isinstance(bound, cst.Name):
            bound = _default(method, bound.value)
        if isinstance(bound, (cst.Integer, cst.Float)) and 0 < float(bound.evaluated_value) <= 1:
            return f", rows kept within max_norm={self.code(bound)}"
        return ""

    def _distance(self, klass: cst.ClassDef, methods: list[cst.FunctionDef]) -> tuple[int, Step] | None:
        """(confidence, why) when the class's distance is a Poincaré distance: unconditional first."""
        name = klass.name.value
        for method in methods:
            if self._spells(method):
                return MEDIUM, Step(f"`{name}.{method.name.value}` spells out the Poincaré distance", method)
        conditional = None
        for method in methods:
            for node, _ in walk(method.body):
                if type(node) is not cst.Assign or not any((dotted(t.target) or "").startswith("self.") for t in node.targets):
                    continue
                value = node.value.func if isinstance(node.value, cst.Call) else node.value
                target = self.code(node.targets[0].target)
                if isinstance(value, cst.Name) and (default := _default(method, value.value)) is not None:
                    if conditional is None and self._is_poincare_distance(default):
                        why = f"whose `{target}` defaults to `{self._short(default)}`, a Poincaré distance (a caller may pass another)"
                        conditional = LOW, Step(why, node)
                elif self._is_poincare_distance(value):
                    return MEDIUM, Step(f"whose `{target}` is `{self._short(value)}`, a Poincaré distance", node)
        return conditional

    def _caller_distance(self, klass: cst.ClassDef, methods: list[cst.FunctionDef], keys: set[str]) -> tuple[int, Step] | None:
        """(MEDIUM, why) when a function of the module trains the class's rows with a Poincaré distance: the
        class's `forward` looks a table up, and the function passes such lookups of an instance to the distance
        (`model = Klass(...)`, `u = model(idx)`, `poincare_distance(u, v)`: a training script's own loop)."""
        forward = next((method for method in methods if method.name.value == "forward"), None)
        returned = [node.value for node, _ in walk(forward.body) if type(node) is cst.Return] if forward is not None else []
        if not returned or not all(isinstance(value, cst.Call) and dotted(value.func) in keys for value in returned):
            return None
        for function in self.definitions.values():
            if not isinstance(function, cst.FunctionDef):
                continue
            instances: set[str] = set()
            rows: set[str] = set()
            for node, _ in walk(function.body):
                if type(node) is cst.Assign and len(node.targets) == 1:
                    for target, value in _pairs(node.targets[0].target, node.value):
                        if target is None or not isinstance(value, cst.Call):
                            continue
                        if dotted(_receiver(value)) == klass.name.value:
                            instances.add(target)
                        elif dotted(value.func) in instances:
                            rows.add(target)
                elif type(node) is cst.Call and instances and self._is_poincare_distance(node.func):
                    if any(self.carrier(argument.value) in rows or _looked_up(argument.value, instances) for argument in node.args):
                        why = f"whose rows `{function.name.value}` passes to `{self._short(node)}`, a Poincaré distance"
                        return MEDIUM, Step(why, node)
        return None

    def _is_poincare_distance(self, value: cst.BaseExpression) -> bool:
        """A known Poincaré distance, or a class/function of this module that spells one out."""
        value = value.func if isinstance(value, cst.Call) else value
        name = last_name(value)
        if name in _KNOWN_DISTANCES:
            return True
        definition = self.definitions.get(name or "") if isinstance(value, cst.Name) else None
        return definition is not None and self._spells(definition)

    def _spells(self, definition: cst.ClassDef | cst.FunctionDef) -> bool:
        if id(definition) not in self._spelled:
            self._spelled[id(definition)] = spells_poincare_distance(self.code(definition))
        return self._spelled[id(definition)]

    def _short(self, node: cst.CSTNode) -> str:
        text = " ".join(self.code(node).split())
        return text if len(text) <= 50 else text[:47] + "..."


def _receiver(call: cst.Call) -> cst.BaseExpression:
    """`Klass` of `Klass(n, d).to(device)`: the constructor under module methods that return the module."""
    while isinstance(call.func, cst.Attribute) and call.func.attr.value in MODULE_SELF_METHODS and isinstance(call.func.value, cst.Call):
        call = call.func.value
    return call.func


def _pairs(target: cst.BaseExpression, value: cst.BaseExpression) -> list[tuple[str | None, cst.BaseExpression]]:
    """(name, value) of `x = v` and of each element of `a, b = f(i), f(j)`."""
    if isinstance(target, cst.Tuple) and isinstance(value, cst.Tuple) and len(target.elements) == len(value.elements):
        return [(dotted(t.value), v.value) for t, v in zip(target.elements, value.elements, strict=True)]
    return [(dotted(target), value)]


def _looked_up(value: cst.BaseExpression, instances: set[str]) -> bool:
    """`model(i)` passed straight to the distance."""
    return isinstance(value, cst.Call) and dotted(value.func) in instances


def _default(method: cst.FunctionDef, name: str) -> cst.BaseExpression | None:
    """The default value of the parameter `name` of `method`, if it has one."""
    return next((param.default for param in all_params(method.params) if param.name.value == name), None)
