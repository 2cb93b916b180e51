"""The project's own geometry functions, found by name and read statically (never imported).

Research code usually has its own `poincare_distance` (or radius) in a geometry module; a fix
should call that, not add this tool's module to the user's code. A function counts when its
signature shows how to call it: the point parameters first, then a curvature parameter named
`c` or `curvature` (passed by keyword), and optionally `keepdim`. Anything else (a `k` with the
opposite sign, required extra parameters) is not used, and the fix falls back to the
configured module.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CURVATURE_PARAMETERS = ("c", "curvature")
SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", "site-packages", "node_modules", "build", "dist"}


@dataclass(frozen=True)
class Signature:
    """How to call one geometry function: where it lives, its curvature keyword, whether it takes keepdim."""

    module: str
    name: str
    curvature: str
    keepdim: bool


@lru_cache(maxsize=32)
def module_functions(source: str | bytes) -> dict[str, ast.arguments | None]:
    """The parameters of each module-level function of `source` (None for a name defined twice),
    parsed with `ast` once per module: the fix reads the same geometry module for many findings."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    functions: dict[str, ast.arguments | None] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[node.name] = None if node.name in functions else node.args
    return functions


def read_signature(source: str | bytes, module: str, name: str, points: int) -> Signature | None:
    """The module-level `def name` in `source`, if `points` point arguments then a curvature keyword fit it."""
    arguments = module_functions(source).get(name)
    if arguments is None:
        return None
    positional = [arg.arg for arg in arguments.posonlyargs + arguments.args]
    keywords = positional[len(arguments.posonlyargs) :] + [arg.arg for arg in arguments.kwonlyargs]
    curvature = next((param for param in CURVATURE_PARAMETERS if param in keywords), None)
    if curvature is None or len(positional) < points or curvature in positional[:points]:
        return None
    defaults = len(arguments.defaults)
    required = positional[: len(positional) - defaults] + [
        arg.arg for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if default is None
    ]
    if any(param not in (*positional[:points], curvature) for param in required):
        return None
    return Signature(module, name, curvature, "keepdim" in keywords)


class ProjectGeometry:
    """Geometry functions defined in the scanned project, indexed on first use (one pass over its files)."""

    def __init__(self, root: Path | None) -> None:
        self._root = root
        self._sources: dict[str, Path] | None = None
        self._defined: dict[tuple[str, int], Signature | None] = {}

    def defined(self, name: str, points: int) -> Signature | None:
        """The project's unique module-level `def name` with a usable signature, or None."""
        if (name, points) not in self._defined:
            self._defined[name, points] = self._search(name, points)
        return self._defined[name, points]

    def _search(self, name: str, points: int) -> Signature | None:
        hits = [
            signature
            for module, path in self._modules().items()
            if f"def {name}(" in (text := _read(path))
            for signature in [read_signature(text, module, name, points)]
            if signature is not None
        ]
        return hits[0] if len(hits) == 1 else None

    def imported(self, module: str, name: str, points: int) -> Signature | None:
        """The signature of `module.name` when `module` is a file of the project."""
        path = self._modules().get(module)
        return None if path is None else read_signature(_read(path), module, name, points)

    def source(self, module: str) -> str | None:
        """The text of `module`: this tool's own geometry, or a file of the project; None when neither."""
        if module in OWN_GEOMETRY_MODULES:
            return _own_geometry_source()
        path = self._modules().get(module)
        return None if path is None else _read(path)

    def _modules(self) -> dict[str, Path]:
        if self._sources is None:
            self._sources = {}
            if self._root is not None and self._root.is_dir():
                for path in sorted(self._root.rglob("*.py")):
                    relative = path.relative_to(self._root)
                    if SKIP_DIRS.intersection(relative.parts[:-1]) or not all(part.isidentifier() for part in relative.parts[:-1]):
                        continue
                    parts = list(relative.with_suffix("").parts)
                    if parts[-1] == "__init__":
                        parts.pop()
                    # This tool's own geometry file (scanning a checkout of this tool) is imported as
                    # `vaeaudit.geometry`, not by its path: it is the fallback target, never a project module.
                    if parts and all(part.isidentifier() for part in parts) and path.resolve() != _own_geometry_path():
                        self._sources[".".join(parts)] = path
        return self._sources


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


# The names under which this tool's geometry is imported (the implementation is ternary_vae/geometry.py).
OWN_GEOMETRY_MODULES = ("vaeaudit.geometry", "vaeaudit.ternary_vae.geometry")


@lru_cache(maxsize=1)
def _own_geometry_path() -> Path | None:
    """Where this tool's geometry module lies (found, never imported: that would import torch)."""
    import importlib.util

    spec = importlib.util.find_spec("vaeaudit.ternary_vae")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / "geometry.py"
        if path.is_file():
            return path.resolve()
    return None


def _own_geometry_source() -> str | None:
    """This tool's geometry module, read."""
    path = _own_geometry_path()
    return None if path is None else _read(path)


@lru_cache(maxsize=8)
def project_geometry(root: Path | None) -> ProjectGeometry:
    """One index per project root for the whole run (every file of a `fix` run shares it)."""
    return ProjectGeometry(root)
