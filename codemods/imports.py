"""How a rewritten call names poincare_distance and torch, and the imports that makes necessary.

An existing import (or alias) is reused. A new import is added only when the name is
free: libcst's AddImportsVisitor would add `from m import poincare_distance` even when
a local `def poincare_distance` shadows it, silently calling the wrong function, so a
name bound to anything else (at module level or in the function around the call) makes
the fix refused with a reason instead.
"""

from __future__ import annotations

from collections.abc import Mapping

import libcst as cst
from libcst.metadata import Assignment, ImportAssignment, Scope

from vaeaudit.scan.names import dotted
from vaeaudit.codemods.outcome import Refused

TORCH = "torch"


class ImportResolver:
    """Answers "what do I write to call X here?" and records the imports the answers rely on."""

    def __init__(self, module: cst.Module, scopes: Mapping[cst.CSTNode, Scope | None], lines: Mapping) -> None:
        self._module, self._scopes, self._lines = module, scopes, lines
        self._global = scopes[module]

    def function(self, call: cst.CSTNode, module_name: str, name: str) -> str:
        """The expression naming `module_name.name` at `call`, e.g. "poincare_distance" or "geo.poincare_distance"."""
        reference = self._existing_reference(module_name, name)
        if reference is None:
            self._require_free(name, f"from {module_name} import {name}")
            reference = name
        self._require_not_shadowed(call, reference)
        return reference

    def torch_module(self, call: cst.CSTNode) -> str:
        """The name the torch module is bound to at `call` ("torch", "th", ...)."""
        reference = self._existing_reference(None, TORCH)
        if reference is None:
            self._require_free(TORCH, "import torch")
            reference = TORCH
        self._require_not_shadowed(call, reference)
        return reference

    def add_imports(self, module: cst.Module, needed: list[tuple[str | None, str]]) -> cst.Module:
        """`module` plus the imports in `needed` ((module, name), or (None, "torch")) not already present.

        A name is merged into an existing `from module import ...` when there is one.
        """
        missing = [(m, n) for m, n in dict.fromkeys(needed) if self._existing_reference(m, n) is None]
        body = list(module.body)
        new_statements: list[cst.BaseStatement] = []
        if (None, TORCH) in missing:
            new_statements.append(cst.parse_statement("import torch\n"))
        for module_name in dict.fromkeys(m for m, _ in missing if m is not None):
            names = [n for m, n in missing if m == module_name]
            if not _merge_into_existing(body, module_name, names):
                new_statements.append(cst.parse_statement(f"from {module_name} import {', '.join(names)}\n"))
        at = _import_insertion_index(body)
        body[at:at] = new_statements
        return module.with_changes(body=body)

    def _existing_reference(self, module_name: str | None, name: str) -> str | None:
        """A top-level import that already provides `module_name.name` (or the module `name`)."""
        for statement in self._module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if module_name is not None and _imports_names_from(small, module_name):
                    for alias in small.names:
                        if _dotted(alias.name) == name:
                            return alias.asname.name.value if alias.asname else name
                elif isinstance(small, cst.Import):
                    for alias in small.names:
                        imported = _dotted(alias.name)
                        if module_name is None and (imported == name or imported.startswith(name + ".")):
                            if alias.asname is None or imported == name:
                                return alias.asname.name.value if alias.asname else name
                        elif module_name is not None and imported == module_name:
                            return f"{alias.asname.name.value if alias.asname else module_name}.{name}"
        return None

    def _require_free(self, name: str, wanted: str) -> None:
        for assignment in self._global[name]:
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
                aliases = list(small.names)
                last = aliases[-1]
                separator = aliases[-2].comma if len(aliases) > 1 else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                aliases[-1] = last.with_changes(comma=separator)
                for name in names[:-1]:
                    aliases.append(cst.ImportAlias(name=cst.Name(name), comma=separator))
                aliases.append(cst.ImportAlias(name=cst.Name(names[-1]), comma=last.comma))
                smalls = list(statement.body)
                smalls[position] = small.with_changes(names=aliases)
                body[index] = statement.with_changes(body=smalls)
                return True
    return False


def _import_insertion_index(body: list[cst.BaseStatement]) -> int:
    """After the module docstring and the leading run of import statements."""
    index = 0
    for position, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine):
            break
        if position == 0 and _is_docstring(statement):
            index = 1
        elif all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body):
            index = position + 1
        else:
            break
    return index


def _is_docstring(statement: cst.SimpleStatementLine) -> bool:
    return isinstance(statement.body[0], cst.Expr) and isinstance(
        statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)
    )


def _imports_names_from(small: cst.BaseSmallStatement, module_name: str) -> bool:
    """Is `small` an absolute `from module_name import a, b` (not `*`)?"""
    return (
        isinstance(small, cst.ImportFrom)
        and not small.relative
        and _dotted(small.module) == module_name
        and not isinstance(small.names, cst.ImportStar)
    )


def _dotted(node: cst.CSTNode | None) -> str:
    return "" if node is None else (dotted(node) or "")
