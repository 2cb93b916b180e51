"""How a rewritten call names poincare_distance and torch, and the imports that makes necessary.

An existing import (or alias) is reused. A new import is added only when the name is
free: libcst's AddImportsVisitor would add `from m import poincare_distance` even when
a local `def poincare_distance` shadows it, silently calling the wrong function, so a
name bound to anything else (at module level or in the function around the call) makes
the fix refused with a reason instead.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import libcst as cst
from libcst.metadata import Assignment, ImportAssignment, Scope

from vaeaudit.codemods.outcome import Refused
from vaeaudit.scan.names import dotted


class ImportResolver:
    """Answers "what do I write to call X here?" and records the imports the answers rely on."""

    def __init__(
        self, module: cst.Module, scopes: Mapping[cst.CSTNode, Scope | None], lines: Mapping, project_root: Path | None = None
    ) -> None:
        self._module, self._scopes, self._lines = module, scopes, lines
        self._global = scopes[module]
        self._project_root = project_root

    def function(self, call: cst.CSTNode, module_name: str, name: str) -> str:
        """The expression naming `module_name.name` at `call`, e.g. "poincare_distance" or "geo.poincare_distance"."""
        reference = self._existing_reference(module_name, name)
        if reference is None:
            self._require_free(name, f"from {module_name} import {name}")
            self._require_importable(module_name)
            reference = name
        self._require_not_shadowed(call, reference)
        return reference

    def imported_anywhere(self, name: str) -> tuple[str, str] | None:
        """(module, local name) of a top-level `from module import name [as local]`, whatever the module."""
        for statement in self._module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and not small.relative and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        if _dotted(alias.name) == name:
                            return _dotted(small.module), _local_name(alias, name)
        return None

    def require_not_shadowed(self, call: cst.CSTNode, reference: str) -> None:
        """Refuse when `reference` means something else at `call` (a local, a parameter, a later def)."""
        self._require_not_shadowed(call, reference)

    def module(self, call: cst.CSTNode, name: str) -> str:
        """The name module `name` (torch, numpy) is bound to at `call` ("torch", "th", "np" ...)."""
        reference = self._existing_reference(None, name)
        if reference is None:
            self._require_free(name, f"import {name}")
            reference = name
        self._require_not_shadowed(call, reference)
        return reference

    def add_imports(self, module: cst.Module, needed: list[tuple[str | None, str]]) -> cst.Module:
        """`module` plus the imports in `needed` ((module, name), or (None, "torch") for `import torch`) not already present.

        A name is merged into an existing `from module import ...` when there is one.
        """
        missing = [(m, n) for m, n in dict.fromkeys(needed) if self._existing_reference(m, n) is None]
        body: list[cst.BaseStatement] = list(module.body)
        new_statements: list[cst.BaseStatement] = []
        for module_name, name in missing:
            if module_name is None:
                new_statements.append(cst.parse_statement(f"import {name}\n"))
        for module_name in dict.fromkeys(m for m, _ in missing if m is not None):
            names = sorted((n for m, n in missing if m == module_name), key=str.lower)
            if not _merge_into_existing(body, module_name, names):
                new_statements.append(cst.parse_statement(f"from {module_name} import {', '.join(names)}\n"))
        for statement in new_statements:
            at = _import_insertion_index(body, _sort_key(statement))
            body.insert(at, statement)
        return module.with_changes(body=body)

    def _existing_reference(self, module_name: str | None, name: str) -> str | None:
        """A top-level import that already provides `module_name.name` (or the module `name`)."""
        for statement in self._module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if module_name is not None and _imports_names_from(small, module_name):
                    for alias in _names(small):
                        if _dotted(alias.name) == name:
                            return _local_name(alias, name)
                elif isinstance(small, cst.Import):
                    for alias in small.names:
                        imported = _dotted(alias.name)
                        if module_name is None and (imported == name or imported.startswith(name + ".")):
                            if alias.asname is None or imported == name:
                                return _local_name(alias, name)
                        elif module_name is not None and imported == module_name:
                            return f"{_local_name(alias, module_name)}.{name}"
        return None

    def _require_importable(self, module_name: str) -> None:
        """The module must exist for the fixed program: installed here, or a package of the project."""
        top = module_name.partition(".")[0]
        if importlib.util.find_spec(top) is not None:
            return
        root = self._project_root
        if root is not None and ((root / top).is_dir() or (root / f"{top}.py").is_file() or (root / "src" / top).is_dir()):
            return
        raise Refused(f"`{module_name}` is neither installed nor a package of this project; set `poincare-import` to your geometry module")

    def _require_free(self, name: str, wanted: str) -> None:
        for assignment in self._global[name] if self._global is not None else ():
            if isinstance(assignment, Assignment):
                raise Refused(f"`{name}` is already bound to {self._describe(assignment)}; `{wanted}` would shadow it")

    def _require_not_shadowed(self, call: cst.CSTNode, reference: str) -> None:
        root = reference.partition(".")[0]
        scope = self._scopes.get(call)
        for assignment in scope[root] if scope is not None else ():
            if not isinstance(assignment, Assignment):
                continue
            if assignment.scope is not self._global:
                raise Refused(f"`{root}` is rebound to {self._describe(assignment)} around this call")
            if not isinstance(assignment, ImportAssignment):
                raise Refused(f"`{root}` is also bound to {self._describe(assignment)} in this module")

    def _describe(self, assignment: Assignment) -> str:
        node = assignment.node
        kind = {
            cst.FunctionDef: "a def",
            cst.ClassDef: "a class",
            cst.Import: "an import",
            cst.ImportFrom: "an import",
            cst.Param: "a parameter",
        }.get(type(node), "an assignment")
        if node in self._lines:
            return f"{kind} (line {self._lines[node].start.line})"
        return kind


def _merge_into_existing(body: list[cst.BaseStatement], module_name: str, names: list[str]) -> bool:
    """Append `names` to the first top-level `from module_name import ...`; False if there is none."""
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for position, small in enumerate(statement.body):
            if _imports_names_from(small, module_name):
                aliases = list(_names(small))
                last = aliases[-1]
                separator = aliases[-2].comma if len(aliases) > 1 else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                added = [cst.ImportAlias(name=cst.Name(name)) for name in names]
                uniform = isinstance(separator, cst.Comma) and all(
                    isinstance(alias.comma, cst.Comma) and alias.comma.deep_equals(separator) for alias in aliases[:-1]
                )
                keys = [_dotted(alias.name).lower() for alias in aliases]
                if uniform and keys == sorted(keys):  # a sorted list stays sorted
                    aliases = sorted(aliases + added, key=lambda alias: _dotted(alias.name).lower())
                else:
                    aliases += added
                aliases = [alias.with_changes(comma=separator) for alias in aliases[:-1]] + [aliases[-1].with_changes(comma=last.comma)]
                smalls = list(statement.body)
                smalls[position] = small.with_changes(names=aliases)
                body[index] = statement.with_changes(body=smalls)
                return True
    return False


def _import_insertion_index(body: list[cst.BaseStatement], key: str) -> int:
    """Where a new top-level import goes: in sorted position inside the last run of top-level
    imports before the first def/class (so below any `sys.path.insert(...)` the imports rely
    on); after the docstring and `__future__` imports when the module has none."""
    runs: list[list[int]] = []
    floor = 0
    for position, statement in enumerate(body):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) or (
            isinstance(statement, cst.SimpleStatementLine) and not _is_docstring(statement) and _mutates_path(statement)
        ):
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                break
            runs, floor = [], position + 1  # imports above a sys.path change are not where new ones go
            continue
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        if position == 0 and _is_docstring(statement):
            floor = 1
        elif all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body):
            if _sort_key(statement) == "__future__":
                floor = position + 1
            elif runs and runs[-1][-1] == position - 1:
                runs[-1].append(position)
            else:
                runs.append([position])
    if not runs:
        return floor
    run = runs[-1]
    for position in run:
        if _sort_key(body[position]) > key:
            return position
    return run[-1] + 1


def _mutates_path(statement: cst.SimpleStatementLine) -> bool:
    """`sys.path.insert(...)`, `sys.path.append(...)`, `sys.path += ...`: later imports depend on it."""
    return "sys.path" in cst.Module(body=[]).code_for_node(statement)


def _sort_key(statement: cst.BaseStatement) -> str:
    """The module an import statement names, lowercased (the order isort and ruff keep within a block)."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return ""
    small = statement.body[0]
    if isinstance(small, cst.ImportFrom):
        return "." * len(small.relative) + _dotted(small.module).lower()
    if isinstance(small, cst.Import):
        return _dotted(small.names[0].name).lower()
    return ""


def _is_docstring(statement: cst.SimpleStatementLine) -> bool:
    return isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def _imports_names_from(small: cst.BaseSmallStatement, module_name: str) -> bool:
    """Is `small` an absolute `from module_name import a, b` (not `*`)?"""
    return (
        isinstance(small, cst.ImportFrom)
        and not small.relative
        and _dotted(small.module) == module_name
        and not isinstance(small.names, cst.ImportStar)
    )


def _dotted(node: cst.CSTNode | None) -> str:
    return dotted(node) or "" if isinstance(node, cst.BaseExpression) else ""


def _names(small: cst.BaseSmallStatement) -> Sequence[cst.ImportAlias]:
    """The aliases of an import statement (none for `*` or anything else)."""
    names = getattr(small, "names", ())
    return () if isinstance(names, cst.ImportStar) else names


def _local_name(alias: cst.ImportAlias, default: str) -> str:
    """The name an import alias binds: its `as` name, else `default`."""
    return cst.ensure_type(alias.asname.name, cst.Name).value if alias.asname is not None else default


def drop_imports_made_unused(before: cst.Module, after: cst.Module) -> cst.Module:
    """`after` without the top-level import aliases it no longer uses but `before` did.

    Only what the rewrite made unused goes (an import the user never used stays), and a
    name still spelled in any string (`__all__`, a string annotation) counts as used.
    """
    used_before, used_after = _uses(before), _uses(after)
    gone = {name for name, count in used_before.items() if count and not used_after.get(name)}
    if not gone:
        return after
    body: list[cst.BaseStatement] = []
    # The leading lines of a removed statement pass to the next one (no blank line piles up), but a `def` or
    # `class` below a kept statement keeps its own blank lines when it has more.
    inherited = None
    for statement in after.body:
        if isinstance(statement, cst.SimpleStatementLine):
            smalls = [_without(small, gone) for small in statement.body]
            kept = [small for small in smalls if small is not None]
            if not kept:
                inherited = statement.leading_lines if inherited is None else inherited
                continue
            if len(kept) != len(statement.body):
                kept[-1] = kept[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
            statement = statement.with_changes(body=kept)
        if inherited is not None:
            compound = body and not isinstance(statement, cst.SimpleStatementLine)
            statement = statement.with_changes(leading_lines=max(inherited, statement.leading_lines, key=len) if compound else inherited)
            inherited = None
        body.append(statement)
    return after.with_changes(body=body)


def _without(small: cst.BaseSmallStatement, gone: set[str]) -> cst.BaseSmallStatement | None:
    """The import `small` minus the aliases binding a name in `gone`; None when nothing is left."""
    if not isinstance(small, (cst.Import, cst.ImportFrom)) or isinstance(small.names, cst.ImportStar):
        return small
    if isinstance(small, cst.ImportFrom) and _dotted(small.module) == "__future__":
        return small
    aliases = [alias for alias in small.names if _bound_name(alias) not in gone]
    if len(aliases) == len(small.names):
        return small
    if not aliases:
        return None
    aliases[-1] = aliases[-1].with_changes(comma=small.names[-1].comma if small.names[-1] in aliases else cst.MaybeSentinel.DEFAULT)
    return small.with_changes(names=aliases)


def _bound_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None:
        return cst.ensure_type(alias.asname.name, cst.Name).value
    return _dotted(alias.name).partition(".")[0]


def _uses(module: cst.Module) -> dict[str, int]:
    """Reads of each name outside import statements; names inside strings count too."""
    counter = _NameUses()
    module.visit(counter)
    return counter.counts


class _NameUses(cst.CSTVisitor):
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.counts[node.value] = self.counts.get(node.value, 0) + 1

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", node.value):
            self.counts[word] = self.counts.get(word, 0) + 1
