"""Which files a scan looks at: Python files under the given roots, minus what is ignored.

Folders are pruned by `exclude`/`extend-exclude` (globs relative to the project root) and
by every `.gitignore` met on the way down (own matcher: no git binary or repository needed).
Symlinked folders are followed only when they stay inside the root being walked and have
not been seen before, so a symlink loop or a link to `/` cannot run away or leave the
paths the user gave. Files named explicitly are always scanned, as ruff does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vaeaudit.scan.globs import any_match, glob_match
from vaeaudit.scan.settings import Settings

# Not .pyi: stubs hold signatures, never a computation to report.
PYTHON_SUFFIXES = (".py",)


@dataclass(frozen=True)
class _IgnoreRule:
    folder: Path
    pattern: str
    negated: bool
    directory_only: bool
    anchored: bool


def iter_python_files(paths: Iterable[str | Path], settings: Settings) -> Iterator[Path]:
    """Yield each Python file under `paths` once, in a stable (sorted) order."""
    seen: set[str] = set()
    for given in paths:
        root = Path(given)
        found = [root] if root.is_file() else _walk(root, settings) if root.is_dir() else []
        for path in found:
            real = os.path.realpath(path)
            if real not in seen:
                seen.add(real)
                yield path


def is_excluded(path: Path, settings: Settings) -> bool:
    """Whether `exclude`/`extend-exclude` exclude `path`, found while walking a given root.

    A pattern without a slash matches the entry's own name (`.venv`, `*.egg-info`), so
    the folders *above* a root the user named (say `.venv/lib/.../torch`) never exclude
    it; a pattern with a slash is anchored at the project root.
    """
    patterns = (*settings.exclude, *settings.extend_exclude)
    if any(glob_match(path.name, pattern) for pattern in patterns if "/" not in pattern.rstrip("/")):
        return True
    anchored = [pattern for pattern in patterns if "/" in pattern.rstrip("/")]
    if not anchored:
        return False
    try:
        relative = path.resolve().relative_to(settings.project_root.resolve()).as_posix()
    except ValueError:
        return False
    return any_match(relative, anchored)


def _walk(root: Path, settings: Settings) -> Iterator[Path]:
    real_root = root.resolve()
    visited = {real_root}
    stack: list[tuple[Path, tuple[_IgnoreRule, ...]]] = [(root, _inherited_gitignores(root, settings))]
    while stack:
        folder, rules = stack.pop()
        if settings.respect_gitignore:
            rules = rules + _read_gitignore(folder)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
                is_link = entry.is_symlink()
            except OSError:
                continue
            if is_excluded(path, settings) or _gitignored(path, is_dir, rules):
                continue
            if is_link and not _inside(path.resolve(), real_root):
                continue
            if is_dir:
                real = path.resolve()
                if real in visited:
                    continue
                visited.add(real)
                subfolders.append((path, rules))
            elif entry.name.endswith(PYTHON_SUFFIXES):
                try:
                    if entry.is_file():
                        yield path
                except OSError:
                    continue
        stack.extend(reversed(subfolders))


def _inside(real_path: Path, real_root: Path) -> bool:
    return real_path == real_root or real_root in real_path.parents


def _inherited_gitignores(root: Path, settings: Settings) -> tuple[_IgnoreRule, ...]:
    """The .gitignore files above `root` up to the project root (they apply below too)."""
    if not settings.respect_gitignore:
        return ()
    real_root = root.resolve()
    project = settings.project_root.resolve()
    if not _inside(real_root, project) or real_root == project:
        return ()
    rules: tuple[_IgnoreRule, ...] = ()
    for folder in reversed(real_root.parents):
        if _inside(folder, project):
            rules += _read_gitignore(folder)
            # A root the user named inside an ignored folder is scanned all the same.
            if folder != real_root.parent and _gitignored(real_root, True, rules):
                return ()
    return () if _gitignored(real_root, True, rules) else rules


def _read_gitignore(folder: Path) -> tuple[_IgnoreRule, ...]:
    try:
        text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line[1:] if negated else line
        line = line[1:] if line.startswith("\\") else line
        directory_only = line.endswith("/")
        anchored = "/" in line.rstrip("/")
        line = line.strip("/")
        if line:
            rules.append(_IgnoreRule(folder, line, negated, directory_only, anchored))
    return tuple(rules)


def _gitignored(path: Path, is_dir: bool, rules: tuple[_IgnoreRule, ...]) -> bool:
    """Last matching rule wins, as in git."""
    ignored = False
    for rule in rules:
        if rule.directory_only and not is_dir:
            continue
        try:
            relative = path.relative_to(rule.folder).as_posix()
        except ValueError:
            try:
                relative = path.resolve().relative_to(rule.folder.resolve()).as_posix()
            except ValueError:
                continue
        if glob_match(relative, rule.pattern, rule.anchored):
            ignored = not rule.negated
    return ignored
