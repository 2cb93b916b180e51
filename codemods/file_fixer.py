"""`vaeaudit fix` on files: scan, rewrite, verify, then show a diff or write atomically.

Every guarantee the command makes lives here, so it holds for each file on its own: a
file that does not parse is never touched; a rewrite whose text does not parse again is
discarded (file untouched, reported as an error); bytes the rewrite does not own (BOM,
encoding cookie, CRLF, comments) come back unchanged because libcst round-trips them;
the write is a same-folder temp file renamed over the original, keeping its mode; and
nothing is written outside the paths the user gave, even through a symlink.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from vaeaudit.atomic import atomic_write_bytes
from vaeaudit.codemods.options import FixOptions
from vaeaudit.codemods.outcome import REFUSED, Outcome
from vaeaudit.codemods.verify import parse_problem


@dataclass
class FileReport:
    """What `fix` did to one file. `error` set means the file was left untouched and exit is 2."""

    path: Path
    outcomes: list[Outcome] = field(default_factory=list)
    diff: str = ""
    written: bool = False
    error: str | None = None
    # The file is valid Python that this tool cannot handle (a libcst limitation): left untouched, not an error.
    limitation: str | None = None


def fix_paths(
    paths: Iterable[Path], settings, options: FixOptions, *, apply: bool, jobs: int | None = None, resolver=None
) -> Iterator[FileReport]:
    """One report per Python file under `paths` that has findings or errors.

    Discovery, excludes and symlink rules are the scanner's; so is the first pass (its
    prefilter and process pool), which leaves only the files with findings to parse here.
    With a `resolver` (`vaeaudit.scan.settings.SettingsResolver`) each file is fixed under
    the settings of its closest configuration file, as `scan` reports it; `settings` and
    `options` then only say whether unsafe fixes run.
    """
    from vaeaudit.scan.discovery import iter_python_files
    from vaeaudit.scan.runner import scan_files

    paths = list(paths)
    roots = [_location(path) for path in paths]
    groups: dict = {}
    for path in iter_python_files(paths, resolver or settings):
        groups.setdefault(resolver.settings_for(path) if resolver else settings, []).append(path)
    for group_settings, files in groups.items():
        group_options = options if resolver is None else FixOptions.from_settings(group_settings, unsafe_fixes=options.unsafe_fixes)
        group_options = _with_geometry_root(group_options, roots)
        for path, result in zip(files, scan_files(files, group_settings, jobs=jobs).results, strict=True):
            if result.error is not None and _valid_for_cpython(path):
                yield FileReport(path, limitation=f"libcst cannot parse this valid Python ({result.error}); file left untouched")
            elif result.error is not None:
                yield FileReport(path, error=f"{result.error}; file left untouched")
            elif result.findings:
                yield fix_file(path, roots, group_settings, group_options, apply=apply)


def _with_geometry_root(options: FixOptions, roots: list[Path]) -> FixOptions:
    """Where the project's own geometry is looked for: the configured project when it holds every
    given path, else the folder the given paths share (never a folder the fixed files are not in)."""
    top = options.project_root.resolve() if options.project_root is not None else None
    if roots and (top is None or not all(root == top or top in root.parents for root in roots)):
        common = Path(os.path.commonpath([root if root.is_dir() else root.parent for root in roots]))
        return dataclasses.replace(options, project_root=common)
    return options


def _valid_for_cpython(path: Path) -> bool:
    """Does CPython accept a file the scanner could not parse? Then the parser, not the user, is at fault."""
    try:
        ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
        return False
    return True


def _location(path: Path) -> Path:
    """Where a given path itself lives: its parents resolved, its last component kept, so a
    symlink the user names is the link (a place we may write) and not its target."""
    absolute = os.path.abspath(path)
    return Path(os.path.realpath(os.path.dirname(absolute))) / os.path.basename(absolute)


def fix_file(path: Path, roots: list[Path], settings, options: FixOptions, *, apply: bool) -> FileReport:
    """Fix one file; `roots` are the resolved paths the user gave (the only places we may write)."""
    import libcst as cst

    from vaeaudit.codemods.rewrite import rewrite_module
    from vaeaudit.scan import scan_module
    from vaeaudit.scan.notebook import NOTEBOOK_SUFFIX, Notebook
    from vaeaudit.scan.reading import SourceError, decode

    report = FileReport(path)
    target = path.resolve()
    if not any(target == root or root in target.parents for root in roots):
        report.error = f"is a symlink to {target}, outside the given paths; not followed"
        return report
    try:
        source = target.read_bytes()
        # A notebook is fixed as the Python of its code cells, then spliced back (outputs untouched).
        notebook = Notebook.from_bytes(source) if path.suffix == NOTEBOOK_SUFFIX else None
        python = notebook.python.encode("utf-8") if notebook else source
        decode(python)  # the scanner's own checks: binary, bad cookie, undecodable bytes
        module = cst.parse_module(python)  # bytes, not text: keeps the BOM and the cookie's encoding
    except OSError as error:
        report.error = f"cannot read: {error.strerror or error}"
        return report
    except SourceError as error:
        report.error = f"{error}; file left untouched"
        return report
    except cst.ParserSyntaxError as error:
        where = f"syntax error at line {error.raw_line}, column {error.raw_column}: {error.message}"
        if _valid_for_cpython(target):
            report.limitation = f"libcst cannot parse this valid Python ({where}); file left untouched"
        else:
            report.error = f"{where}; file left untouched"
        return report
    except RecursionError:
        report.error = "too deeply nested to parse; file left untouched"
        return report
    findings = scan_module(module, str(path), settings)
    if not findings:
        return report
    result = rewrite_module(module, findings, options)
    if notebook is not None:  # findings told by cell, as scan tells them
        located = [dataclasses.replace(outcome, finding=notebook.locate_finding(outcome.finding)) for outcome in result.outcomes]
        result = dataclasses.replace(result, outcomes=located)
    report.outcomes = result.outcomes
    if not result.changed:
        return report
    fixed = result.module.bytes
    problem = parse_problem(fixed, str(path))
    if problem is None and notebook is not None:
        try:
            fixed = notebook.with_python(result.module.code).encode("utf-8")
        except SourceError as error:
            problem = str(error)
    if problem is not None:
        report.error = f"the fixed text does not parse ({problem}); file left untouched"
        report.outcomes = [_unapplied(outcome, "the rewritten file did not parse") for outcome in result.outcomes]
        return report
    moved = line_ending_change(python, result.module.bytes)
    if moved is not None:  # libcst drops a lone-CR file's last \r: a change we did not mean to make
        report.outcomes = [
            _unapplied(outcome, f"the rewrite would change a line ending it does not own ({moved})") for outcome in result.outcomes
        ]
        return report
    if apply:
        try:
            atomic_write_bytes(target, fixed)
        except OSError as error:
            report.error = f"cannot write: {error.strerror or error}; file left untouched"
            report.outcomes = [_unapplied(outcome, "writing the fixed file failed") for outcome in result.outcomes]
            return report
        report.written = True
    else:
        report.diff = unified_diff(source, fixed, module.encoding, str(path))
    return report


def line_ending_change(before: bytes, after: bytes) -> str | None:
    """Where a line the rewrite left alone would end differently, or None.

    Lines are matched by their text without endings, so only the endings of unchanged
    lines are compared (an inserted import takes the module's default newline).
    """
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, [line.rstrip(b"\r\n") for line in old], [line.rstrip(b"\r\n") for line in new], autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag != "equal":
            continue
        for offset, line in enumerate(old[i1:i2]):
            if line != new[j1 + offset]:
                return f"line {i1 + offset + 1} ends with {_ending(line)!r}"
    if old and new and _ending(old[-1]) != _ending(new[-1]):
        return f"the last line ends with {_ending(old[-1])!r}"
    return None


def _ending(line: bytes) -> bytes:
    return line[len(line.rstrip(b"\r\n")) :]


def unified_diff(before: bytes, after: bytes, encoding: str, name: str) -> str:
    """A unified diff of the decoded texts, line endings kept as they are.

    Relative paths get git's a/ b/ prefixes (so `git apply` takes it from the project
    root); absolute paths are printed as they are, as `diff -u` would.
    """
    old = before.decode(encoding).splitlines(keepends=True)
    new = after.decode(encoding).splitlines(keepends=True)
    relative = not Path(name).is_absolute()
    lines = difflib.unified_diff(old, new, fromfile=f"a/{name}" if relative else name, tofile=f"b/{name}" if relative else name)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _unapplied(outcome: Outcome, why: str) -> Outcome:
    """A fix that was planned but not written stays a finding, with the reason."""
    if not outcome.remains:
        return Outcome(outcome.finding, REFUSED, (f"{why}; nothing was written",))
    return outcome
