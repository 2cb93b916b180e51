"""What a name in the source refers to: dotted chains and the file's import aliases.

`import torch as T`, `from torch import linalg`, `from torch.linalg import vector_norm as vn`
all make different local names mean the same library function; rules match on the
canonical dotted name so every import style is recognised.
"""

from __future__ import annotations

import libcst as cst


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a chain of Name/Attribute nodes, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def last_name(node: cst.BaseExpression) -> str | None:
    """The final identifier of a callee: `vn` for `vn`, `expmap0` for `self.manifold.expmap0`."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


class ImportMap:
    """Local name -> fully qualified module or object, from every import in a module.

    A module-level `def`/`class` after an import rebinds the name (`from torch import
    norm` then `def norm(x): ...`): from there on it is the local object, not torch's.
    """

    def __init__(self, module: cst.Module, package: str | None = None) -> None:
        """`package` (the dotted package of the file) resolves relative imports: `from .losses import f`."""
        self.aliases: dict[str, str] = {}
        collector = _ImportCollector(self.aliases, package)
        module.visit(collector)

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


class _ImportCollector(cst.CSTVisitor):
    def __init__(self, aliases: dict[str, str], package: str | None) -> None:
        self.aliases = aliases
        self.package = package
        self.depth = 0  # of nested functions and classes: their names are local to them

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._define(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._define(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.depth -= 1

    def _define(self, name: str) -> None:
        if self.depth == 0:
            self.aliases.pop(name, None)
        self.depth += 1

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            full = dotted(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.aliases[alias.asname.name.value] = full
            else:
                head = full.partition(".")[0]
                self.aliases[head] = head
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if isinstance(node.names, cst.ImportStar):
            return False
        module = dotted(node.module) if node.module is not None else ""
        if node.relative:
            if self.package is None or module is None:
                return False
            base = self.package.split(".") if self.package else []
            base = base[: len(base) - (len(node.relative) - 1)] if len(node.relative) > 1 else base
            module = ".".join(part for part in (*base, module) if part)
        if not module:
            return False
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            self.aliases[local] = f"{module}.{name}"
        return False

    # Expressions never contain imports; skipping them keeps the walk cheap.
    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return any(isinstance(statement, (cst.Import, cst.ImportFrom)) for statement in node.body)
