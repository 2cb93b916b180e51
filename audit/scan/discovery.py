"""Which files a scan looks at: Python files and notebooks under the given roots, minus what is ignored.

A folder walk takes the files whose name matches `include`/`extend-include` and prunes
entries by `exclude`/`extend-exclude` (globs relative to the project root) and by every
`.gitignore` met on the way down (pathspec's gitignore semantics: no git binary or
repository needed). Each folder is judged by its own settings when a `SettingsResolver`
is given, so a sub-project's configuration governs its own tree, as in ruff.
Symlinked folders are followed only when they stay inside the root being walked and have
not been seen before, so a symlink loop or a link to `/` cannot run away or leave the
paths the user gave. Files named explicitly are always scanned, as ruff does, unless
`force-exclude` asks that `exclude` apply to them too (pre-commit passes every file).

A walk's outcome depends only on the folders it listed, the `.gitignore` files it read and
the configuration files that govern it; `discover` keeps that outcome in the scan cache with
the stat of each of them and, while none has changed, answers without walking (as git's
untracked cache does): compiling a research tree's `.gitignore` patterns and matching every
entry against them costs more than the rest of a re-scan after one edit.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vaeaudit import __version__
from vaeaudit.config import CONFIG_NAMES
from vaeaudit.scan.cache import RACY_NS
from vaeaudit.scan.globs import any_match
from vaeaudit.scan.settings import Settings, SettingsResolver

if TYPE_CHECKING:
    import pathspec


@dataclass(frozen=True)
class _Gitignore:
    folder: Path
    spec: pathspec.GitIgnoreSpec
    folder_rules: tuple[_FolderRule, ...]

    @functools.cached_property
    def prefix(self) -> str:
        """What the paths the walk builds below `folder` start with ("" below the relative root `.`)."""
        folder = str(self.folder)
        return "" if folder == os.curdir else os.path.join(folder, "")


class _Watch:
    """What a walk's outcome depends on: each listed folder's mtime (entries added, removed,
    renamed) and the stat of each `.gitignore` and configuration file read (their contents).

    A timestamp is as coarse as the file system's clock (a few ms; 2 s on FAT), so a change
    right after the walk may leave it as it was: a stat younger than `RACY_NS` is recorded
    as never matching ("racily clean", as git calls it), and the next run walks again.
    """

    def __init__(self) -> None:
        self.folders: dict[str, int] = {}
        self.files: dict[str, list[int]] = {}
        self.now = time.time_ns()

    def _trusted(self, mtime: int) -> int:
        return mtime if self.now - mtime >= RACY_NS else _NEVER

    def folder(self, folder: str | Path) -> None:
        """Called before the folder is listed: a change while it is listed shows next time."""
        try:
            self.folders[os.path.abspath(folder)] = self._trusted(os.stat(folder).st_mtime_ns)
        except OSError:
            self.folders[os.path.abspath(folder)] = _ABSENT

    def file(self, path: str | Path) -> None:
        try:
            stat = os.stat(path)
        except OSError:
            return  # absent: its creation changes its folder's mtime
        self.files[os.path.abspath(path)] = [self._trusted(stat.st_mtime_ns), stat.st_size]

    def unchanged(self) -> bool:
        for folder, mtime in self.folders.items():
            try:
                if os.stat(folder).st_mtime_ns != mtime:
                    return False
            except OSError:
                if mtime != _ABSENT:
                    return False
        for path, (mtime, size) in self.files.items():
            try:
                stat = os.stat(path)
            except OSError:
                return False
            if (stat.st_mtime_ns, stat.st_size) != (mtime, size):
                return False
        return True


# _NEVER matches no timestamp (one too young to trust), _ABSENT a folder that is gone.
_NEVER, _ABSENT = -2, -1


def discover(paths: list[str], resolver: SettingsResolver) -> list[tuple[str, Settings]]:
    """`iter_files_with_settings` over the folders `paths`, from the scan cache while nothing the
    last walk depended on changed (then no folder is walked and no `.gitignore` compiled).

    Only folders are cached (named files cost no walk); with `cache = false` or a cache folder
    that cannot be used, this is the plain walk. Paths come as text: a `Path` each would cost a
    warm run of 7,000 files ~25 ms, and the scan only needs their names.
    """
    from vaeaudit.scan.cache import make_cache_folder

    where = _discovery_file(paths, resolver)
    if where is None:
        return [(str(path), settings) for path, settings in iter_files_with_settings(paths, resolver)]
    try:
        before = where.read_bytes()
        stored = json.loads(before)
        watch = _Watch()
        watch.folders, watch.files = dict(stored["folders"]), {path: list(stat) for path, stat in stored["files"].items()}
        if watch.unchanged():
            configs = {config for _, config in stored["found"]}
            settings_of = {config: resolver.settings_of_config(None if config is None else Path(config)) for config in configs}
            return [(path, settings_of[config]) for path, config in stored["found"]]  # one lookup per config file
    except (OSError, ValueError, KeyError, TypeError):
        before = b""
    try:
        make_cache_folder(where.parent)  # before the walk: creating it changes its parent's mtime
    except OSError:  # a read-only tree is walked every time
        return [(str(path), settings) for path, settings in iter_files_with_settings(paths, resolver)]
    watch = _Watch()
    found = [(str(path), settings) for path, settings in iter_files_with_settings(paths, resolver, watch)]
    for folder in resolver.consulted_folders():
        watch.folder(folder)
        for name in CONFIG_NAMES:
            watch.file(folder / name)
    record = {
        "folders": watch.folders,
        "files": watch.files,
        "found": [[path, None if (config := resolver.config_for(path)) is None else str(config)] for path, _settings in found],
    }
    after = json.dumps(record, separators=(",", ":")).encode()
    if after != before:  # a walk that only re-checked racy timestamps writes nothing
        from vaeaudit.atomic import atomic_write_bytes

        try:
            atomic_write_bytes(where, after)
        except OSError:
            pass
    return found


def _discovery_file(paths: list[str], resolver: SettingsResolver) -> Path | None:
    """The cache file of this walk (roots, working folder, configuration, command line), or None."""
    from vaeaudit.config import ConfigError
    from vaeaudit.scan.cache import cache_folder

    if not paths or not all(os.path.isdir(path) for path in paths):
        return None
    settings = resolver.settings_for(paths[0])
    if not settings.cache:
        return None
    try:
        folder = cache_folder(settings)
    except ConfigError:
        return None
    key = hashlib.blake2b(
        json.dumps([__version__, os.getcwd(), [os.path.abspath(path) for path in paths], resolver.identity()]).encode(), digest_size=16
    ).hexdigest()
    return folder / f"discovery-{key}.json"


def iter_python_files(paths: Iterable[str | Path], settings: Settings | SettingsResolver) -> Iterator[Path]:
    """Yield each Python file or notebook under `paths` once, in a stable (sorted) order."""
    for path, _settings in iter_files_with_settings(paths, settings):
        yield path


def iter_files_with_settings(
    paths: Iterable[str | Path], settings: Settings | SettingsResolver, watch: _Watch | None = None
) -> Iterator[tuple[Path, Settings]]:
    """`iter_python_files`, each file with the settings that govern it (those of its folder).

    A walk knows each folder's settings already, and the folders of named files are looked up
    once each: a run over 1,000 named files costs no configuration lookup (a stat) per file.
    """
    settings_for = settings.settings_for if isinstance(settings, SettingsResolver) else lambda _path: settings
    folder_settings: dict[str, Settings] = {}
    real_folders: dict[str, str] = {}
    seen: set[str] = set()
    for given in paths:
        root = Path(given)
        found: Iterable[tuple[Path, str, Settings]]
        if root.is_file():
            folder = os.path.dirname(os.path.abspath(root))
            if folder not in folder_settings:
                folder_settings[folder] = settings_for(folder)
            governing = folder_settings[folder]
            found = [] if is_force_excluded(root, governing) else [(root, _real_file(str(root), real_folders), governing)]
        else:
            found = _walk(root, settings_for, watch) if root.is_dir() else []
        for path, real, governing in found:
            if real not in seen:
                seen.add(real)
                yield path, governing


def _real_file(path: str, real_folders: dict[str, str]) -> str:
    """`os.path.realpath(path)` of a file named on the command line, with each folder above it
    resolved once for all the files named below it.

    realpath costs an lstat per path component, per file; here each file and each folder
    costs one (is it a symlink?) for the whole run.
    """
    folder, name = os.path.split(path)
    if os.path.islink(path) or name in ("", os.curdir, os.pardir):
        return os.path.realpath(path)
    return os.path.join(_real_folder(folder, real_folders), name)


def _real_folder(folder: str, real_folders: dict[str, str]) -> str:
    if folder not in real_folders:
        parent, name = os.path.split(folder)
        if parent == folder or name in ("", os.curdir, os.pardir) or os.path.islink(folder):
            real_folders[folder] = os.path.realpath(folder)
        else:
            real_folders[folder] = os.path.join(_real_folder(parent, real_folders), name)
    return real_folders[folder]


def is_excluded(path: Path, settings: Settings) -> bool:
    """Whether `exclude`/`extend-exclude` exclude `path`, found while walking a given root.

    A pattern without a slash matches the entry's own name (`.venv`, `*.egg-info`), so
    the folders *above* a root the user named (say `.venv/lib/.../torch`) never exclude
    it; a pattern with a slash is anchored at the project root.
    """
    by_name, anchored = _exclude_patterns(settings.exclude, settings.extend_exclude)
    if any_match(path.name, by_name):
        return True
    if not anchored:
        return False
    relative = _relative_to_root(path, settings)
    return relative is not None and any_match(relative.as_posix(), anchored)


@functools.lru_cache(maxsize=64)
def _exclude_patterns(exclude: tuple[str, ...], extend: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(patterns matched against an entry's name, patterns anchored at the project root)."""
    patterns = (*exclude, *extend)
    anchored = tuple(pattern for pattern in patterns if "/" in pattern.rstrip("/"))
    return tuple(pattern for pattern in patterns if pattern not in anchored), anchored


def is_force_excluded(path: Path, settings: Settings) -> bool:
    """With `force-exclude`, whether `path` or a folder above it (inside the project root) is excluded."""
    if not settings.force_exclude:
        return False
    relative = _relative_to_root(path, settings)
    if relative is None:
        return is_excluded(path, settings)
    root = settings.project_root.resolve()
    parts = relative.parts
    return any(is_excluded(root.joinpath(*parts[: depth + 1]), settings) for depth in range(len(parts)))


def _relative_to_root(path: Path, settings: Settings) -> Path | None:
    try:
        return path.resolve().relative_to(settings.project_root.resolve())
    except ValueError:
        return None


def _walk(root: Path, settings_for: Callable[[str | Path], Settings], watch: _Watch | None = None) -> Iterator[tuple[Path, str, Settings]]:
    """(path, real path, its folder's settings) of each file to scan under `root`.

    Real paths are built as the walk goes down (a folder's real path plus the entry's name);
    only a symlink is resolved, so a large tree costs no per-component syscalls.
    """
    real_root = os.path.realpath(root)
    visited = {real_root}
    stack: list[tuple[Path, str, tuple[_Gitignore, ...]]] = [(root, real_root, _inherited_gitignores(root, settings_for(root), watch))]
    while stack:
        folder, real_folder, ignores = stack.pop()
        settings = settings_for(folder)
        if settings.respect_gitignore:
            ignores = ignores + _read_gitignore(folder, watch)
        else:
            ignores = ()
        if watch is not None:
            watch.folder(folder)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue
        include = (*settings.include, *settings.extend_include)
        subfolders = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
                is_link = entry.is_symlink()
            except OSError:
                continue
            # Names first: most entries of a research tree (data, images) are neither folders nor included.
            if not is_dir and not any_match(entry.name, include):
                continue
            path = Path(entry.path)
            if is_excluded(path, settings) or _gitignored(path, is_dir, ignores, walked=True):
                continue
            real = os.path.realpath(entry.path) if is_link else os.path.join(real_folder, entry.name)
            if is_link and not (real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)):
                continue
            if is_dir:
                if real in visited or real == _cache_folder(settings):
                    continue
                visited.add(real)
                subfolders.append((path, real, ignores))
            else:
                try:
                    if entry.is_file():
                        yield path, real, settings
                except OSError:
                    continue
        stack.extend(reversed(subfolders))


@functools.lru_cache(maxsize=64)
def _cache_folder(settings: Settings) -> str | None:
    """The scan cache's folder: never source, and rewritten by every run (it would defeat `discover`)."""
    from vaeaudit.config import ConfigError
    from vaeaudit.scan.cache import cache_folder

    try:
        return os.path.realpath(cache_folder(settings))
    except ConfigError:
        return None


def _inside(real_path: Path, real_root: Path) -> bool:
    return real_path == real_root or real_root in real_path.parents


def _inherited_gitignores(root: Path, settings: Settings, watch: _Watch | None = None) -> tuple[_Gitignore, ...]:
    """The .gitignore files above `root` up to the project root (they apply below too)."""
    if not settings.respect_gitignore:
        return ()
    real_root = root.resolve()
    project = settings.project_root.resolve()
    if not _inside(real_root, project) or real_root == project:
        return ()
    ignores: tuple[_Gitignore, ...] = ()
    for folder in reversed(real_root.parents):
        if _inside(folder, project):
            if watch is not None:
                watch.folder(folder)
            ignores += _read_gitignore(folder, watch)
            # A root the user named inside an ignored folder is scanned all the same.
            if folder != real_root.parent and _gitignored(real_root, True, ignores):
                return ()
    return () if _gitignored(real_root, True, ignores) else ignores


def _read_gitignore(folder: Path, watch: _Watch | None = None) -> tuple[_Gitignore, ...]:
    if watch is not None:
        watch.file(folder / ".gitignore")
    try:
        text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    return (_Gitignore(folder, _gitignore_spec(text), _folder_rules(text)),)


# (include, matches the folder itself, matches it or a folder above, only what is below: `src/**`) for each
# pattern of a .gitignore
_FolderRule = tuple[bool, "re.Pattern[str]", "re.Pattern[str]", bool]


@functools.lru_cache(maxsize=64)
def _folder_rules(text: str) -> tuple[_FolderRule, ...]:
    spec = _gitignore_spec(text)
    return tuple(
        (pattern.include, re.compile(rf"(?:{pattern.regex.pattern})\Z"), pattern.regex, str(pattern.pattern).rstrip().endswith("/**"))
        for pattern in spec.patterns
        if pattern.include is not None and pattern.regex is not None
    )


@functools.lru_cache(maxsize=64)
def _gitignore_spec(text: str) -> pathspec.GitIgnoreSpec:
    """Compiled once per distinct text: vendored projects repeat the same templates many times.

    pathspec is imported here, on the first .gitignore met: a run over named files needs none.
    """
    import pathspec

    lines = text.splitlines()
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:  # a line git skips (`a.py\` ends in a lone backslash) fails the whole file in pathspec
        return pathspec.GitIgnoreSpec.from_lines([line for line in lines if _valid_line(line)])


def _valid_line(line: str) -> bool:
    import pathspec

    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except ValueError:
        return False
    return True


def _gitignored(path: Path, is_dir: bool, ignores: tuple[_Gitignore, ...], *, walked: bool = False) -> bool:
    """As git decides: the deepest .gitignore with a matching pattern wins, and its last match. `walked`: the
    walk reached the folders above, so none of them is ignored (a deeper .gitignore may have re-included one)."""
    ignored = False
    text = str(path)
    for ignore in ignores:
        # The walk builds each path below its .gitignore's folder: a prefix test, without pathlib.
        if text.startswith(ignore.prefix) and (ignore.prefix or not os.path.isabs(text)):
            relative = text[len(ignore.prefix) :].replace(os.sep, "/")
        else:
            try:
                relative = path.relative_to(ignore.folder).as_posix()
            except ValueError:
                try:
                    relative = path.resolve().relative_to(ignore.folder.resolve()).as_posix()
                except ValueError:
                    continue
        verdict = _directory_verdict(ignore.folder_rules, relative + "/", walked) if is_dir else ignore.spec.check_file(relative).include
        if verdict is not None:
            ignored = verdict
    return ignored


def _directory_verdict(rules: tuple[_FolderRule, ...], folder: str, walked: bool = False) -> bool | None:
    """Whether `folder` ("a/b/") is ignored, as git decides for a directory: the last pattern that matches the
    folder itself wins, and nothing re-includes a folder below an ignored one. pathspec ranks a directory pattern
    below any other match, which is right for the files under it (`build/` then `!build/keep.py` keeps nothing)
    but not for a folder: after `*`, `!scripts/` or `!*/` re-include it and git walks it."""
    verdict = None
    for include, itself, anywhere, below in rules:
        if below:  # `src/**`: what is inside src/, not src/ itself
            match = anywhere.search(folder)
            if match is not None and match.end() < len(folder):
                verdict = include
            continue
        if itself.search(folder) is not None:
            verdict = include
            continue
        match = anywhere.search(folder)
        if match is None:
            continue
        if "ps_d" not in match.re.groupindex or match.start("ps_d") == -1:
            verdict = include  # a match of this folder that is not through a folder above it
        elif include and not walked and _directory_verdict(rules, folder[: match.end("ps_d")]):
            return True  # `vendor/` matched a folder above: an ignored one ignores all of `vendor/lib/`
    return verdict
