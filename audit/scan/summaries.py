"""Project-wide knowledge of ball points: per-file summaries and their fixpoint.

Analysing one file yields a `FileSummary`: for each of its functions, which parameters
reach hyperbolic consumers, whether it returns ball points (or a dict/tuple holding them,
by key or position), and which ball points it passes to functions of *other* modules.
`solve` joins the summaries of every scanned file: arguments become `received`
parameters of the callee's file, and returns/consumers become `external` knowledge of
the caller's file. The runner re-analyses a file whenever what it receives changes, until
nothing changes (a fixpoint); summaries are plain JSON, cached with the file's findings,
so a warm scan re-solves without parsing anything.

A fact is (confidence, chain): the chain is the evidence as rendered text, newest step
first, each step naming its file and line (`embeddings <- argument of radial_loss(z_hyp)
(train.py:210)`), so a finding can show where a ball point came from across files.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

from vaeaudit.scan.methods import BY_NAME, target_by_name
from vaeaudit.scan.settings import LOW, MEDIUM

# (confidence, chain, manifold): the manifold an instance attribute's points lie on, as
# (expression relative to the instance such as "self.manifold", geoopt class, where it was built), else None.
Fact = tuple[int, tuple[str, ...], tuple[str, str, str] | None]


@dataclass
class FunctionSummary:
    params: tuple[str, ...]  # positional order; `self`/`cls` of methods left out
    returns: Fact | None = None
    parts: dict[str, Fact] = field(default_factory=dict)  # "key" of a returned dict, "#0" of a tuple, ".emb" of a constructed instance
    consumes: dict[str, Fact] = field(default_factory=dict)  # parameter -> why it must be a ball point
    # The parameter it hands back (every return a view of it, `to_np(x)`) when its callers are all it knows of it:
    # each caller gets back what it gave, not what another caller gave.
    hands_back: str | None = None
    # The method of `self` whose result it returns (`return self.hyperbolic_forward(x)` of a base class's `forward`):
    # for a subclass, what the subclass's override returns (`_dispatched`).
    delegates: str | None = None

    def knows_something(self) -> bool:
        return bool(self.returns or self.parts or self.consumes)


@dataclass
class FileSummary:
    module: str
    functions: dict[str, FunctionSummary] | None = None  # local qualname (`f`, `Model.encode`); None: not analysed
    calls: list[tuple[str, dict[str, Fact]]] = field(default_factory=list)  # (imported target, "#0"/keyword/"#0.emb" -> fact)
    references: tuple[str, ...] = ()  # imported targets this file calls
    # Calls of project functions (this file's own too): (target, slot -> the literal curvature c of the ball point it
    # passes, "" for any other value; "*" when it unpacks arguments, its place in this file: ":line" or ": `code`").
    # A call that passes no literal curvature is kept once per target, with empty slots: each says the same.
    curvatures: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    # Dotted string keys the file reads (`state["model"]["lt.weight"]`): maybe a saved module's parameters.
    keys: tuple[str, ...] = ()
    # Files on disk it loads by a literal path (`vaeaudit.scan.artifacts`), and those whose loaded values it
    # proves to be ball points (passes them to a ball consumer), with the proof.
    loads: tuple[str, ...] = ()
    artifacts: dict[str, Fact] = field(default_factory=dict)
    stars: tuple[str, ...] = ()  # the modules it imports with `from M import *`, absolute
    exports: tuple[str, ...] | None = None  # its `__all__`, when written as a literal (`names.exported_names`)
    # Its top-level classes' base classes that may be the project's, dotted (`hyperbolic_nn.core.base.HyperbolicModule`):
    # a method a class inherits from a base in another file (`layer(x)` runs `HyperbolicModule.forward`).
    bases: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class Inputs:
    """What the rest of the project tells one file."""

    received: dict[str, dict[str, Fact]] = field(default_factory=dict)  # local qualname -> parameter -> fact
    # The same from calls that reach the method by its name alone (`BY_NAME`): kept apart, a `def` of the
    # name in a file the scan did not analyse withdraws them (`withdraw_unseen_calls`).
    received_by_name: dict[str, dict[str, Fact]] = field(default_factory=dict)
    external: dict[str, FunctionSummary] = field(default_factory=dict)  # imported target (or `*.method`) -> callee's summary
    # local qualname -> parameter -> (c, where it comes from) when every call passes points of one literal curvature,
    # else ("", why not); only for parameters some call passes such points to.
    curvatures: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    # a key the file reads -> the ball parameter of a project class whose state-dict key it is (`lt.weight`)
    state_keys: dict[str, Fact] = field(default_factory=dict)
    # an artifact the file loads -> another file's proof that it holds ball points
    artifacts: dict[str, Fact] = field(default_factory=dict)
    # a module the file star-imports -> the names that import binds -> the full name of each (`_star_names`)
    stars: dict[str, dict[str, str]] = field(default_factory=dict)

    def digest(self) -> str:
        """Equal digests: the same facts (confidence, manifold) at the same places, whatever their evidence says.
        The fixpoint iterates on facts: evidence that goes round a cycle of calls between files can change its
        wording at every round (Greedy-Routing-Poincare's `routing.py` and its five callers did, forever)."""
        told = (self.received, self.received_by_name, self.external, self.curvatures, self.state_keys, self.artifacts, self.stars)
        if not any(told):
            return EMPTY_DIGEST  # most files are told nothing: no JSON to build (5,000 dumps cost 0.15 s per solve)
        return _digest_of(self)


def module_name(path: str, root: Path) -> str:
    """`src/models/vae.py` -> `src.models.vae` relative to the project root (`__init__` is its package)."""
    # As the import system sees the file: absolute, symlinks kept (no syscall per path component).
    relative = os.path.relpath(os.path.abspath(path), _absolute(root))
    if _outside(relative):  # maybe through a symlink: compare real paths
        relative = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    parts = list(Path(path).with_suffix("").parts[-3:] if _outside(relative) else Path(relative).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(part for part in parts if part not in ("", ".", "..")) or Path(path).stem


@functools.lru_cache(maxsize=16)
def _absolute(root: Path) -> str:
    return os.path.abspath(root)


def _outside(relative: str) -> bool:
    return relative == os.pardir or relative.startswith(os.pardir + os.sep)


def stronger(first: Fact | None, second: Fact) -> Fact:
    """The better of two facts about one value: higher confidence, then the shorter chain; a manifold
    only when both tell the same one (values from two callers may lie on different manifolds)."""
    if first is None:
        return second
    confidence, chain, manifold = min(first, second, key=lambda fact: (-fact[0], len(fact[1]), fact[1]))
    return confidence, chain, manifold if first[2] == second[2] else None


class _Index:
    """Function names of the whole scan, reachable by full dotted name or a unique suffix.

    Research code imports its own modules relative to wherever it is run from
    (`from models.losses import radial_loss` for `src/models/losses.py`), so a target
    that names no module exactly is matched by its unique dotted suffix.
    """

    def __init__(self, summaries: dict[str, FileSummary]) -> None:
        self.full: dict[str, tuple[str, str]] = {}
        self.modules: dict[str, str] = {}
        # last two names -> (path, qualname, full dotted name) of every function so ending: a dotted suffix is
        # looked up among the few functions of its last two names when a call asks (most are never asked for)
        self.tails: dict[str, list[tuple[str, str, str]]] = {}
        named: dict[str, tuple[str, str] | None] = {}  # last name -> its only function or method (None: several)
        self.classes: set[str] = set()  # the names of the project's classes (`Model` of `models.Model`)
        self.bases: dict[str, tuple[str, ...]] = {}  # full class name -> its bases that may be the project's
        classes_named: dict[str, list[str]] = {}  # class name -> the full names of the classes with bases so named
        module_suffixes: dict[str, set[str]] = {}
        for path, summary in summaries.items():
            self.modules[summary.module] = path
            parts = summary.module.split(".")
            for start in range(len(parts)):
                module_suffixes.setdefault(".".join(parts[start:]), set()).add(path)
            for klass, bases in summary.bases.items():
                self.bases[f"{summary.module}.{klass}"] = bases
                classes_named.setdefault(klass, []).append(f"{summary.module}.{klass}")
            for qualname in summary.functions or {}:
                key = f"{summary.module}.{qualname}"
                self.full[key] = (path, qualname)
                self.tails.setdefault(_last_two(key), []).append((path, qualname, key))
                klass, dot, name = qualname.rpartition(".")
                named[name] = None if name in named else (path, qualname)
                if dot:
                    self.classes.add(klass.rpartition(".")[2])
        self.module_suffixes = {key: next(iter(found)) for key, found in module_suffixes.items() if len(found) == 1}
        self.only_class_named = {name: full[0] for name, full in classes_named.items() if len(full) == 1}
        self.unanalysed = {path for path, summary in summaries.items() if summary.functions is None}
        self.by_name = {name: method for name, method in named.items() if method is not None and "." in method[1]}
        self._found: dict[str, tuple[str, str] | None] = {}
        self.module_at = {path: summary.module for path, summary in summaries.items()}  # path -> its module
        self._by_last_name: dict[str, list[tuple[str, str, str]]] | None = None

    def suffix(self, dotted: str) -> tuple[str, str] | None:
        """The one function whose full name ends with `dotted` (two names or more, short of the full name)."""
        if "." not in dotted:
            return None
        found = {(path, qualname) for path, qualname, key in self.tails.get(_last_two(dotted), ()) if key.endswith(f".{dotted}")}
        return found.pop() if len(found) == 1 else None

    def function(self, target: str) -> tuple[str, str] | None:
        """The (path, qualname) a call target names; memoised: a project calls the same targets over and over."""
        if target not in self._found:
            self._found[target] = None  # a class hierarchy with a cycle (`_inherited`) ends here
            self._found[target] = self._function(target)
        return self._found[target]

    def _function(self, target: str) -> tuple[str, str] | None:
        if target.startswith(BY_NAME):  # the project's only method of that name (and no function so named)
            return self.by_name.get(target[len(BY_NAME) :])
        for candidate in (target, f"{target}.__init__"):
            found = self.full.get(candidate) or self.suffix(candidate)
            if found is not None:
                return found
        klass, _, method = target.rpartition(".")
        class_name = klass.rpartition(".")[2]
        owner = self.module_of(target)
        if owner is None:
            return None  # not the project's
        if class_name in self.classes or method in self.classes:
            # a class a package of the project re-exports (`hypll.nn.HEmbedding`): its method or constructor by its suffix
            found = self.suffix(f"{class_name}.{method}") or self.suffix(f"{method}.__init__")
            if found is not None:
                return found
        if klass and owner.endswith("__init__.py") and self.modules.get(klass, self.module_suffixes.get(klass)) == owner:
            found = self._reexported(self.module_at[owner], method)
            if found is not None:
                return found
        inherited = self._inherited(klass, method, reexported=owner.endswith("__init__.py"))
        if inherited is not None:
            return inherited
        if owner in self.unanalysed:
            return None  # the class's own methods are unknown (p-adic-ml's ConditionalBetaVAE has its own reparameterize)
        if class_name[:1].isupper() and target_by_name(method) is not None:
            # a method a class of the project inherits (maybe a class without methods of its own): the project's only
            # method of that name, under the rule of `vaeaudit.scan.methods`
            return self.by_name.get(method)
        return None

    def _inherited(self, klass: str, method: str, *, reexported: bool) -> tuple[str, str] | None:
        """`method` of the class `klass` names (by its full name; through a package that re-exports it, the one class
        of the project so named) that the class does not define: its bases' method, in the order they are listed.
        A class of the project's module by its full name but without project bases inherits nothing of the project,
        whatever a class of the same name elsewhere inherits."""
        full = klass if klass in self.bases else self.only_class_named.get(klass.rpartition(".")[2]) if reexported else None
        bases = self.bases[full] if full is not None else ()
        return next((found for base in bases if (found := self.function(f"{base}.{method}")) is not None), None)

    def _reexported(self, package: str, name: str) -> tuple[str, str] | None:
        """`from manifold import geodesic_distance` of a package whose `__init__` re-exports it from a module
        inside (`from .poincare import geodesic_distance`): the package's only function of that name."""
        found = {(path, qualname) for path, qualname, key in self._functions_named().get(name, ()) if key.startswith(f"{package}.")}
        return found.pop() if len(found) == 1 else None

    def _functions_named(self) -> dict[str, list[tuple[str, str, str]]]:
        """Module-level functions by their name; built on first use (only re-exports ask for it)."""
        if self._by_last_name is None:
            self._by_last_name = {}
            for entries in self.tails.values():
                for path, qualname, key in entries:
                    if "." not in qualname:
                        self._by_last_name.setdefault(qualname, []).append((path, qualname, key))
        return self._by_last_name

    def module_of(self, target: str) -> str | None:
        """The file whose module `target` (`pkg.mod.f`) lives in, even when it was not analysed."""
        module = target
        while "." in module:
            module = module.rpartition(".")[0]
            path = self.module_path(module)
            if path is not None:
                return path
        return None

    def module_path(self, module: str) -> str | None:
        """The file of the module an import names: by its full name, or by a dotted suffix only it has."""
        return self.modules.get(module) or self.module_suffixes.get(module)


def _last_two(dotted: str) -> str:
    return ".".join(dotted.rsplit(".", 2)[-2:])


_last_index: tuple[tuple, _Index] | None = None


def _index_of(summaries: dict[str, FileSummary]) -> _Index:
    """The index of these summaries' functions; the last one again while no module or function name changed
    (the rounds of one scan solve the same project several times, mostly with the same functions)."""
    global _last_index
    # `None` (not analysed) is not `()` (no functions): the index treats an unanalysed module's classes apart
    names = tuple((path, s.module, None if s.functions is None else tuple(s.functions)) for path, s in summaries.items())
    if _last_index is None or _last_index[0] != names:
        _last_index = (names, _Index(summaries))
    return _last_index[1]


def solve(summaries: dict[str, FileSummary]) -> tuple[dict[str, Inputs], set[str]]:
    """What every file receives from the others, and the unanalysed files something calls into."""
    index = _index_of(summaries)
    inputs = {path: Inputs() for path in summaries}
    wanted: set[str] = set()
    for caller, summary in summaries.items():
        for target, arguments in summary.calls:
            found = index.function(target)
            if found is None:
                owner = index.module_of(target)
                if owner is not None and summaries[owner].functions is None:
                    wanted.add(owner)
                continue
            path, qualname = found
            callee = cast("dict[str, FunctionSummary]", summaries[path].functions)[qualname]
            given = inputs[path].received_by_name if target.startswith(BY_NAME) else inputs[path].received
            received = given.setdefault(qualname, {})
            for slot, fact in arguments.items():
                param = _parameter(callee, slot)
                if param is not None:
                    received[param] = stronger(received.get(param), fact)
        for target in summary.references:
            found = index.function(target)
            if found is not None:
                path, qualname = found
                callee = cast("dict[str, FunctionSummary]", summaries[path].functions)[qualname]
                callee = _dispatched(target, qualname, index, summaries, callee)
                if callee.knows_something() and (path != caller or target.startswith(BY_NAME)):
                    inputs[caller].external[target] = callee
    for (path, qualname, param), seen in _curvatures_passed(summaries, index).items():
        if any(seen):
            inputs[path].curvatures.setdefault(qualname, {})[param] = curvature_verdict(seen)
    parameters = _ball_parameters(summaries)
    for path, summary in summaries.items():
        for key in summary.keys:
            for fact in _state_key_facts(key, parameters):
                inputs[path].state_keys[key] = stronger(inputs[path].state_keys.get(key), fact)
    _artifact_facts(summaries, inputs)
    for path, summary in summaries.items():
        for module in summary.stars:
            names = _star_names(module, index, summaries, wanted, set())
            if names:
                inputs[path].stars[module] = names
    return inputs, wanted


def _dispatched(target: str, qualname: str, index: _Index, summaries: dict[str, FileSummary], callee: FunctionSummary) -> FunctionSummary:
    """A template method: `layer(x)` of a `HyperbolicLinear` runs its base class's `forward`, which returns
    `self.hyperbolic_forward(x)`; for this class that is the class's own override, so the call returns what the
    override returns (the base's summary knows only its own, often abstract, method)."""
    klass, defining = target.rpartition(".")[0], qualname.rpartition(".")[0]
    if callee.delegates is None or callee.returns is not None or not defining or klass.rpartition(".")[2] == defining.rpartition(".")[2]:
        return callee
    found = index.function(f"{klass}.{callee.delegates}")
    if found is None or found[1] == f"{defining}.{callee.delegates}":
        return callee
    override = cast("dict[str, FunctionSummary]", summaries[found[0]].functions)[found[1]]
    return replace(callee, returns=override.returns, parts={**callee.parts, **override.parts})


def _star_names(module: str, index: _Index, summaries: dict[str, FileSummary], wanted: set[str], seen: set[str]) -> dict[str, str]:
    """What `from module import *` binds among the project's functions and classes (a class by its methods: one
    without methods is not bound): each public name (no `_` prefix, and listed in `__all__` when the module
    writes one) -> its full dotted name, through the module's own star imports too (a package's
    `from .layers import *`; not its explicit re-exports). A module not analysed yet is `wanted`."""
    path = index.module_path(module)
    if path is None or path in seen:
        return {}
    seen.add(path)
    summary = summaries[path]
    if summary.functions is None:
        wanted.add(path)
        return {}
    names: dict[str, str] = {}
    for star in summary.stars:
        names.update(_star_names(star, index, summaries, wanted, seen))
    for qualname in summary.functions:
        name = qualname.partition(".")[0]
        if not name.startswith("_") or summary.exports is not None:
            names[name] = f"{summary.module}.{name}"
    if summary.exports is not None:  # `__all__` decides, `_` prefix or not
        names = {name: target for name, target in names.items() if name in summary.exports}
    return names


def _artifact_facts(summaries: dict[str, FileSummary], inputs: dict[str, Inputs]) -> None:
    """A file that loads an artifact another file proves to hold ball points gets that proof, at most medium:
    the two loads name one path, but the file may have been written again in between by other code."""
    proofs: dict[str, list[tuple[str, Fact]]] = {}
    for path, summary in summaries.items():
        for artifact, fact in summary.artifacts.items():
            proofs.setdefault(artifact, []).append((path, fact))
    if not proofs:
        return
    for path, summary in summaries.items():
        for artifact in summary.loads:
            for prover, (confidence, chain, _) in proofs.get(artifact, ()):
                if prover != path:  # its own proof already reaches its own loads
                    shown = f"{artifact} holds ball points, as another file's load of it shows"
                    proof: Fact = (min(confidence, MEDIUM), (shown, *chain), None)
                    inputs[path].artifacts[artifact] = stronger(inputs[path].artifacts.get(artifact), proof)


def _ball_parameters(summaries: dict[str, FileSummary]) -> dict[tuple[str, ...], list[tuple[str, Fact]]]:
    """Attribute paths of the project's classes that hold ball points as saved parameters, by their state-dict
    key (`("lt", "weight")` for a ball embedding table `self.lt`), with the class and the evidence. Only paths of
    two names or more: a lone `weight` or `embed` would name half the parameters of any model."""
    found: dict[tuple[str, ...], list[tuple[str, Fact]]] = {}
    for summary in summaries.values():
        for qualname, function in (summary.functions or {}).items():
            klass, _, method = qualname.rpartition(".")
            if method != "__init__":
                continue
            for part, fact in function.parts.items():
                names = tuple(part.lstrip(".").split("."))
                if part.startswith(".") and len(names) >= 2:
                    found.setdefault(names, []).append((f"{summary.module}.{klass}", fact))
    return found


def _state_key_facts(key: str, parameters: dict[tuple[str, ...], list[tuple[str, Fact]]]) -> Iterable[Fact]:
    """`module.lt.weight` read from a loaded checkpoint is the saved parameter `lt.weight` of a class whose table
    holds ball points: at most low (another model saved with the same attribute names may be Euclidean)."""
    names = tuple(key.split("."))
    for length in range(2, len(names) + 1):
        for owner, (_, chain, _) in parameters.get(names[-length:], ()):
            path = ".".join(names[-length:])
            yield LOW, (f"'{key}': the saved parameter {owner.rpartition('.')[2]}.{path}", *chain), None


def target_names(summaries: dict[str, FileSummary]) -> set[str]:
    """Every name the project's call targets spell (`models.Encoder.encode`: models, Encoder, encode), and
    STAR + M for every module M a star import reaches (as `solve` resolves it: every name M defines is bound).

    Which function a target reaches (`_Index`) depends only on the functions whose names it spells:
    by full name, by dotted suffix, by its last name (`BY_NAME`), by its class. A function none of
    these names is reached by no call, so its summary tells no other file anything (`inert_edit`)."""
    index = _index_of(summaries)  # the last solve's, as a rule: the same files, the same functions
    names: set[str] = set()
    for summary in summaries.values():
        for target in (*(target for target, _ in summary.calls), *summary.references, *(target for target, _, _ in summary.curvatures)):
            names.update(target.removeprefix(BY_NAME).split("."))
        for module in summary.stars:
            path = index.module_path(module)
            if path is not None:
                names.add(STAR + summaries[path].module)
    return names


STAR = "*"


def inert_edit(before: FileSummary, after: FileSummary, targets: set[str], named_unanalysed: Callable[[set[str]], bool]) -> bool:
    """True when a file's new summary tells the rest of the project exactly what its old one did, so the
    last fixpoint still holds for every file: the same module, calls, references, curvatures, keys, loads,
    artifacts, star imports and `__all__`, and every function added, removed or changed (a new helper, a new
    parameter, a new producer) named by no call target of the project (`target_names`, taken at the last solve).
    A function is seen by other files only through a call that reaches it (`solve`: `received`, `external`,
    curvatures) and, when it returns ball points, through the text of the files the project did not analyse
    (a deferred file that names it or its class is analysed: `runner._deferred_callers`); `named_unanalysed`
    answers whether the text of any such file names one of a set of functions (by their local qualnames)."""
    if before.functions is None or after.functions is None:
        return False  # an unanalysed file: its text, not its summary, is what the project knows of it
    old, new = summary_to_json(before), summary_to_json(after)
    old_functions, new_functions = old.pop("functions"), new.pop("functions")
    if old != new:
        return False
    changed = {name for name in old_functions.keys() | new_functions.keys() if old_functions.get(name) != new_functions.get(name)}
    if changed and STAR + after.module in targets:
        return False  # a file star-imports this module: a new name is bound there (`_star_names`)
    if any(targets.intersection(name.split(".")) for name in changed):
        return False
    producers = {
        name
        for functions in (before.functions, after.functions)
        for name in changed
        if name in functions and (functions[name].returns or functions[name].parts)
    }
    return not producers or not named_unanalysed(producers)


def withdraw_unseen_calls(inputs: dict[str, Inputs], unanalysed: Iterable[bytes]) -> None:
    """A curvature every seen call proves stands only while no file the scan did not analyse (a file without a
    Euclidean operation or ball points, a notebook) names the function: its calls there are unseen.
    A method reached by its name alone stands only while no such file defines another of that name."""
    texts = list(unanalysed)
    if any(given.received_by_name or any(target.startswith(BY_NAME) for target in given.external) for given in inputs.values()):
        _withdraw_ambiguous_names(inputs, set().union(*map(_defined_names, texts)))
    for given in inputs.values():
        for qualname, params in given.curvatures.items():
            name = qualname.rpartition(".")[2]
            if any(c for c, _ in params.values()) and any(name.encode() in text for text in texts):
                why = f"`{name}` is named in a file the scan did not analyse: not every call is known"
                given.curvatures[qualname] = {param: ("", why) for param in params}


_DEFINED = re.compile(rb"\bdef\s+([A-Za-z_][A-Za-z0-9_]*)")


@functools.lru_cache(maxsize=4096)
def _defined_names(text: bytes) -> frozenset[str]:
    """The functions a file defines, by name; cached: every round of a scan asks again of the same unanalysed files."""
    return frozenset(name.decode() for name in _DEFINED.findall(text))


def _withdraw_ambiguous_names(inputs: dict[str, Inputs], defined: set[str]) -> None:
    for given in inputs.values():
        given.external = {
            target: function
            for target, function in given.external.items()
            if not (target.startswith(BY_NAME) and target[len(BY_NAME) :] in defined)
        }
        given.received_by_name = {
            qualname: params for qualname, params in given.received_by_name.items() if qualname.rpartition(".")[2] not in defined
        }


def _curvatures_passed(summaries: dict[str, FileSummary], index: _Index) -> dict[tuple[str, str, str], dict[str, str]]:
    """(callee's path, qualname, parameter) -> the curvatures its calls pass ("" any other value) -> the first call's place.

    A parameter a call leaves to its default, or fills from `*args`/`**kwargs`, receives something else than points.
    Module-level functions only: a method is also called through receivers the scan cannot type (`model.radius(x)`)."""
    passed: dict[tuple[str, str, str], dict[str, str]] = {}
    for caller, summary in summaries.items():
        for target, slots, place in summary.curvatures:
            found = index.function(target)
            if found is None or "." in found[1]:
                continue
            path, qualname = found
            callee = cast("dict[str, FunctionSummary]", summaries[path].functions)[qualname]
            given = {param: c for slot, c in slots.items() if (param := _parameter(callee, slot)) is not None}
            for param in callee.params:
                c = "" if "*" in slots else given.get(param, "")
                passed.setdefault((path, qualname, param), {}).setdefault(c, f"{caller}{place}")
    return passed


def curvature_verdict(seen: dict[str, str]) -> tuple[str, str]:
    """(c, where it comes from) when every call passes points of one curvature c, else ("", why not)."""
    if "" in seen:
        return "", f"not every call passes points of a ball of fixed curvature ({seen['']} does not)"
    if len(seen) > 1:
        each = ", ".join(f"c={c} at {where}" for c, where in sorted(seen.items()))
        return "", f"callers pass points of different curvatures ({each})"
    c, where = next(iter(seen.items()))
    return c, f"every call passes points of a ball of curvature c={c} ({where})"


def _parameter(callee: FunctionSummary, slot: str) -> str | None:
    """The parameter a slot binds (`#1`, a keyword), or its attribute (`#0.emb` -> `code_emb.emb`)."""
    if "." in slot:
        slot, dot, attribute = slot.partition(".")
        param = _parameter(callee, slot)
        return f"{param}{dot}{attribute}" if param is not None else None
    if slot.startswith("#"):
        position = int(slot[1:])
        return callee.params[position] if position < len(callee.params) else None
    return slot if slot in callee.params else None


# -- JSON (the cache) ----------------------------------------------------------------------


def _fact_json(fact: Fact | None):
    return None if fact is None else [fact[0], list(fact[1]), None if fact[2] is None else list(fact[2])]


def _fact(data) -> Fact | None:
    if data is None:
        return None
    manifold = data[2] if len(data) > 2 and data[2] is not None else None
    return int(data[0]), tuple(data[1]), None if manifold is None else (str(manifold[0]), str(manifold[1]), str(manifold[2]))


def function_to_json(function: FunctionSummary) -> dict:
    return {
        "params": list(function.params),
        "returns": _fact_json(function.returns),
        "parts": {key: _fact_json(fact) for key, fact in sorted(function.parts.items())},
        "consumes": {key: _fact_json(fact) for key, fact in sorted(function.consumes.items())},
        "hands_back": function.hands_back,
        "delegates": function.delegates,
    }


def function_from_json(data: dict) -> FunctionSummary:
    return FunctionSummary(
        tuple(data["params"]),
        _fact(data["returns"]),
        {key: cast("Fact", _fact(value)) for key, value in data["parts"].items()},
        {key: cast("Fact", _fact(value)) for key, value in data["consumes"].items()},
        data.get("hands_back"),
        data["delegates"],
    )


def summary_to_json(summary: FileSummary) -> dict:
    return {
        "module": summary.module,
        "functions": None if summary.functions is None else {name: function_to_json(f) for name, f in summary.functions.items()},
        "calls": [[target, {slot: _fact_json(fact) for slot, fact in arguments.items()}] for target, arguments in summary.calls],
        "references": list(summary.references),
        "curvatures": [[target, slots, where] for target, slots, where in summary.curvatures],
        "keys": list(summary.keys),
        "loads": list(summary.loads),
        "artifacts": {artifact: _fact_json(fact) for artifact, fact in sorted(summary.artifacts.items())},
        "stars": list(summary.stars),
        "exports": None if summary.exports is None else list(summary.exports),
        "bases": {klass: list(bases) for klass, bases in summary.bases.items()},
    }


def summary_from_json(data: dict) -> FileSummary:
    functions = data["functions"]
    return FileSummary(
        data["module"],
        None if functions is None else {name: function_from_json(f) for name, f in functions.items()},
        [(target, {slot: cast("Fact", _fact(fact)) for slot, fact in arguments.items()}) for target, arguments in data["calls"]],
        tuple(data["references"]),
        [(target, dict(slots), where) for target, slots, where in data["curvatures"]],
        tuple(data["keys"]),
        tuple(data["loads"]),
        {artifact: cast("Fact", _fact(fact)) for artifact, fact in data["artifacts"].items()},
        tuple(data["stars"]),
        None if data["exports"] is None else tuple(data["exports"]),
        {klass: tuple(bases) for klass, bases in data["bases"].items()},
    )


def inputs_to_json(inputs: Inputs) -> dict:
    return {
        "received": {
            name: {param: _fact_json(fact) for param, fact in sorted(params.items())} for name, params in sorted(inputs.received.items())
        },
        "received_by_name": {
            name: {param: _fact_json(fact) for param, fact in sorted(params.items())}
            for name, params in sorted(inputs.received_by_name.items())
        },
        "external": {target: function_to_json(function) for target, function in sorted(inputs.external.items())},
        "curvatures": {
            name: {param: list(verdict) for param, verdict in sorted(params.items())} for name, params in sorted(inputs.curvatures.items())
        },
        "state_keys": {key: _fact_json(fact) for key, fact in sorted(inputs.state_keys.items())},
        "artifacts": {artifact: _fact_json(fact) for artifact, fact in sorted(inputs.artifacts.items())},
        "stars": {module: dict(sorted(names.items())) for module, names in sorted(inputs.stars.items())},
    }


def _shape(fact: Fact | None) -> list | None:
    return None if fact is None else [fact[0], None if fact[2] is None else list(fact[2][:2])]


def _inputs_shape(inputs: Inputs) -> dict:
    """`inputs_to_json` without the evidence: what `Inputs.digest` compares."""

    def received(table: dict[str, dict[str, Fact]]) -> dict:
        return {name: {param: _shape(fact) for param, fact in params.items()} for name, params in table.items()}

    def function(summary: FunctionSummary) -> list:
        facts = [{key: _shape(fact) for key, fact in table.items()} for table in (summary.parts, summary.consumes)]
        return [list(summary.params), _shape(summary.returns), *facts, summary.hands_back]

    return {
        "received": received(inputs.received),
        "received_by_name": received(inputs.received_by_name),
        "external": {target: function(summary) for target, summary in inputs.external.items()},
        "curvatures": {name: {param: c for param, (c, _) in params.items()} for name, params in inputs.curvatures.items()},
        "state_keys": {key: _shape(fact) for key, fact in inputs.state_keys.items()},
        "artifacts": {artifact: _shape(fact) for artifact, fact in inputs.artifacts.items()},
        "stars": inputs.stars,
    }


def inputs_from_json(data: dict) -> Inputs:
    """The inverse of `inputs_to_json` (the cache keeps each file's last inputs for an incremental re-scan)."""

    def received(table: dict) -> dict[str, dict[str, Fact]]:
        return {name: {param: cast("Fact", _fact(fact)) for param, fact in params.items()} for name, params in table.items()}

    return Inputs(
        received(data["received"]),
        received(data["received_by_name"]),
        {target: function_from_json(function) for target, function in data["external"].items()},
        {name: {param: (str(c), str(why)) for param, (c, why) in params.items()} for name, params in data["curvatures"].items()},
        {key: cast("Fact", _fact(fact)) for key, fact in data["state_keys"].items()},
        {artifact: cast("Fact", _fact(fact)) for artifact, fact in data["artifacts"].items()},
        {module: {str(name): str(target) for name, target in names.items()} for module, names in data["stars"].items()},
    )


def _digest_of(inputs: Inputs) -> str:
    return hashlib.blake2b(json.dumps(_inputs_shape(inputs), sort_keys=True).encode(), digest_size=12).hexdigest()


EMPTY_DIGEST = _digest_of(Inputs())
