"""What a name in the source refers to: dotted chains and the file's import aliases.

`import torch as T`, `from torch import linalg`, `from torch.linalg import vector_norm as vn`
all make different local names mean the same library function; rules match on the
canonical dotted name so every import style is recognised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import libcst as cst

from vaeaudit.scan.tree import walk


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a chain of Name/Attribute nodes, else None.

    `type(node) is` rather than isinstance here and in `last_name`, the scan's hottest helpers:
    libcst's node classes are ABCs, whose isinstance takes a slow path (2-6x the whole call).
    """
    if type(node) is cst.Name:
        return node.value
    parts = []
    while type(node) is cst.Attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is not cst.Name:
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def last_name(node: cst.BaseExpression) -> str | None:
    """The final identifier of a callee: `vn` for `vn`, `expmap0` for `self.manifold.expmap0`."""
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        return node.attr.value
    return None


class ImportMap:
    """Local name -> fully qualified module or object, from every import in a module.

    A module-level `def`/`class` after an import rebinds the name (`from torch import
    norm` then `def norm(x): ...`): from there on it is the local object, not torch's.
    Only statements are read, in source order: expressions never hold an import, and a
    visitor that entered them (every `if` test, default value and decorator) cost ~10 % of
    a scan.
    """

    def __init__(self, module: cst.Module, package: str | None = None, stars: Mapping[str, Mapping[str, str]] | None = None) -> None:
        """`package` (the dotted package of the file) resolves relative imports: `from .losses import f`.
        `stars`: for a module this file star-imports, the names that import binds and what each one is
        (`vaeaudit.scan.summaries.solve` knows them from the project's summaries; a file alone does not)."""
        self.aliases: dict[str, str] = {}
        self.package = package
        self.star_modules: list[str] = []  # the modules of `from M import *`, absolute, in source order
        self._stars = stars or {}
        self._read(module.body, top=True)

    def qualify(self, node: cst.BaseExpression) -> str | None:
        """The canonical dotted name of `node` when its head is an imported name, else None."""
        chain = dotted(node)
        if chain is None:
            return None
        head, _, rest = chain.partition(".")
        target = self.aliases.get(head)
        if target is None:
            return None
        return f"{target}.{rest}" if rest else target

    def called_name(self, func: cst.BaseExpression) -> str | None:
        """The name a call's function goes by where it is defined: `ManifoldParameter` for `MP` of
        `from geoopt import ManifoldParameter as MP`, else its last name (`expmap0` of `ball.expmap0`)."""
        if isinstance(func, cst.Name):
            qualified = self.qualify(func)
            if qualified is not None:
                return qualified.rpartition(".")[2]
        return last_name(func)

    def _read(self, statements, top: bool) -> None:
        """Imports of `statements` and of every block inside them; at the top level, a `def`
        or `class` rebinds its name (inside a function or class it is local to it)."""
        for statement in statements:
            if isinstance(statement, (cst.SimpleStatementLine, cst.BaseSmallStatement)):
                # a line of small statements, or one of a suite on its header's line (`if not re: import re`)
                for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else (statement,):
                    if isinstance(small, cst.Import):
                        self._import(small)
                    elif isinstance(small, cst.ImportFrom):
                        self._import_from(small)
                continue
            if top and isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                self.aliases.pop(statement.name.value, None)
            inner_top = top and not isinstance(statement, (cst.FunctionDef, cst.ClassDef))
            for block in _blocks(statement):
                self._read(block, inner_top)

    def _import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.aliases[alias.asname.name.value] = full
            else:
                head = full.partition(".")[0]
                self.aliases[head] = head

    def _import_from(self, node: cst.ImportFrom) -> None:
        module = dotted(node.module) if node.module is not None else ""
        if node.relative:
            if self.package is None or module is None:
                return
            base = self.package.split(".") if self.package else []
            base = base[: len(base) - (len(node.relative) - 1)] if len(node.relative) > 1 else base
            module = ".".join(part for part in (*base, module) if part)
        if not module:
            return
        if isinstance(node.names, cst.ImportStar):
            self.star_modules.append(module)
            self.aliases.update(self._stars.get(module, {}))
            return
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            self.aliases[local] = f"{module}.{name}"


def exported_names(module: cst.Module) -> tuple[str, ...] | None:
    """The names a module's `__all__` lists, which are all that `from module import *` binds; None when it has
    no `__all__` written as one literal list or tuple of strings and never touched again (`__all__.append(...)`,
    `__all__ += [...]` under an `if`: then the scan cannot tell which names, and binds every public one)."""
    literal = next(
        (
            small.value
            for statement in module.body
            if isinstance(statement, cst.SimpleStatementLine)
            for small in statement.body
            if isinstance(small, cst.Assign) and [dotted(target.target) for target in small.targets] == ["__all__"]
        ),
        None,
    )
    if not isinstance(literal, (cst.List, cst.Tuple)):
        return None
    strings = [element.value for element in literal.elements]
    if not all(isinstance(string, cst.SimpleString) for string in strings):
        return None
    # Mentioned once, where it is assigned (only modules with a literal `__all__` pay for this walk).
    if sum(1 for node, _ in walk(module) if isinstance(node, cst.Name) and node.value == "__all__") > 1:
        return None
    return tuple(str(cast(cst.SimpleString, string).evaluated_value) for string in strings)


def _blocks(statement: cst.CSTNode) -> list:
    """The statement lists of a compound statement, in source order: its body, then its
    `elif`/`else`, `except`, `finally` and `case` clauses."""
    blocks = []
    body = getattr(statement, "body", None)
    if isinstance(body, cst.BaseSuite):
        blocks.append(body.body)
    for clause in (*getattr(statement, "handlers", ()), *getattr(statement, "cases", ())):
        blocks.append(clause.body.body)
    for name in ("orelse", "finalbody"):
        clause = getattr(statement, name, None)
        if isinstance(clause, cst.If):
            blocks.append([clause])  # `elif`: an If of its own
        elif clause is not None:
            blocks.append(clause.body.body)
    return blocks
