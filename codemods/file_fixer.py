"""`vaeaudit fix` on files: the scan rewrites, this module verifies, then shows a diff or writes atomically.

Every guarantee the command makes lives here, so it holds for each file on its own: a
file that does not parse is never touched; a rewrite whose text does not parse again is
discarded (file untouched, reported as an error); bytes the rewrite does not own (BOM,
encoding cookie, CRLF, comments) come back unchanged because libcst round-trips them;
the write is a same-folder temp file renamed over the original, keeping its mode; and
nothing is written outside the paths the user gave, even through a symlink.
"""

from __future__ import annotations

import ast
import codecs
import dataclasses
import difflib
import os
import re
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


@dataclass(frozen=True)
class Rewritten:
    """What the fixer made of one parsed file, in the scanner's worker (pickled back to `fix_paths`).

    `outcomes` are told in the parsed text's coordinates (a notebook's Python); `fixed` is the
    rewritten text's bytes (None when nothing changed or the rewrite was discarded), `problem`
    why the rewritten text does not parse, `moved` a line ending the rewrite would change.
    """

    outcomes: list[Outcome]
    fixed: bytes | None = None
    encoding: str = "utf-8"
    problem: str | None = None
    moved: str | None = None


@dataclass(frozen=True)
class Fixer:
    """The scanner's fix hook (`vaeaudit.scan.runner.scan_files(fixer=...)`): rewrite the module the
    scan parsed, with the findings it computed there (project inputs included), then check the
    result parses and keeps every line ending it does not own. Picklable, for the process pool."""

    options: FixOptions

    def __call__(self, module, findings: list, source: bytes) -> Rewritten:
        from vaeaudit.codemods import rewrite

        try:
            result = rewrite.rewrite_module(module, findings, self.options)
        except Exception as error:  # a fixer bug must not cost the user the other files, nor this file's findings
            why = f"internal error in the fixer, please report: {type(error).__name__}: {error}"
            return Rewritten([Outcome(finding, REFUSED, (why,)) for finding in findings])
        if not result.changed:
            return Rewritten(result.outcomes)
        encoding, fixed = encode_like(source, result.module.code)
        problem = parse_problem(fixed, findings[0].path if findings else "<fixed>")
        moved = line_ending_change(source, fixed) if problem is None else None
        return Rewritten(result.outcomes, fixed, encoding, problem, moved)


def encode_like(source: bytes, text: str) -> tuple[str, bytes]:
    """(encoding, `text` encoded as `source` is): its coding cookie's encoding, and its BOM kept."""
    from vaeaudit.scan.reading import source_encoding

    encoding = source_encoding(source)  # the scanner decoded `source` already: a valid declaration
    if encoding == "utf-8-sig":
        return "utf-8", codecs.BOM_UTF8 + text.encode("utf-8")
    return encoding, text.encode(encoding)


def fix_paths(
    paths: Iterable[Path], settings, options: FixOptions, *, apply: bool, jobs: int | None = None, resolver=None
) -> Iterator[FileReport]:
    """One report per Python file under `paths` that has findings or errors.

    One pipeline: discovery, excludes, symlink rules, the prefilter, the process pool and the
    project-wide fixpoint are the scanner's, and each file is rewritten by the scanner's worker on
    the scanner's own parse, with the findings it reported (cross-file evidence included); here
    the result is only checked and written (or diffed). With a `resolver`
    (`vaeaudit.scan.settings.SettingsResolver`) each file is fixed under the settings of its
    closest configuration file, as `scan` reports it; `settings` and `options` then only say
    whether unsafe fixes run.
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
        run = scan_files(files, group_settings, jobs=jobs, fixer=Fixer(group_options))
        for path, result in zip(files, run.results, strict=True):
            if result.error is not None and result.severity == "error":
                if _PARSE_ERROR.match(result.error) and _valid_for_cpython(path):
                    yield FileReport(path, limitation=f"libcst cannot parse this valid Python ({result.error}); file left untouched")
                else:
                    yield FileReport(path, error=f"{result.error}; file left untouched")
            elif result.findings:
                yield finish_file(path, result, roots, apply=apply)
            elif result.error is not None:
                yield FileReport(path, limitation=f"{result.error}; file left untouched")


# Scanner errors that mean "the parser refused it" (perhaps libcst's limitation, not the user's error).
_PARSE_ERROR = re.compile(r"syntax error|too deeply nested to parse")


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


def finish_file(path: Path, result, roots: list[Path], *, apply: bool) -> FileReport:
    """Check and write (or diff) what the scanner's worker rewrote in one file.

    `result` is the file's `vaeaudit.scan.runner.FileResult` with `fixed` (a `Rewritten`) and
    `source` (the bytes the scan read); `roots` are the resolved paths the user gave, the only
    places we may write. A notebook's rewritten Python is spliced back into its cells.
    """
    from vaeaudit.scan.notebook import NOTEBOOK_SUFFIX, Notebook
    from vaeaudit.scan.reading import SourceError

    report = FileReport(path)
    target = path.resolve()
    if not any(target == root or root in target.parents for root in roots):
        report.error = f"is a symlink to {target}, outside the given paths; not followed"
        return report
    rewritten: Rewritten | None = result.fixed
    source: bytes = result.source
    notebook = Notebook.from_bytes(source) if path.suffix == NOTEBOOK_SUFFIX else None
    if rewritten is None:  # the scanner analysed a masked copy (statements too deep to parse): not the file itself
        if result.error:
            report.limitation = f"{result.error}; file left untouched"
        why = "the scanner did not parse the whole file, so it cannot be rewritten; fix it by hand"
        report.outcomes = [Outcome(finding, REFUSED, (why,)) for finding in result.findings]
        return report
    outcomes = rewritten.outcomes
    if notebook is not None:  # findings told by cell, as scan tells them
        outcomes = [dataclasses.replace(outcome, finding=notebook.locate_finding(outcome.finding)) for outcome in outcomes]
    report.outcomes = outcomes
    if rewritten.fixed is None:
        return report
    fixed, problem = rewritten.fixed, rewritten.problem
    if problem is None and notebook is not None:
        try:
            fixed = notebook.with_python(fixed.decode(rewritten.encoding)).encode("utf-8")
        except SourceError as error:
            problem = str(error)
    if problem is not None:
        report.error = f"the fixed text does not parse ({problem}); file left untouched"
        report.outcomes = [_unapplied(outcome, "the rewritten file did not parse") for outcome in outcomes]
        return report
    if rewritten.moved is not None:  # libcst drops a lone-CR file's last \r: a change we did not mean to make
        why = f"the rewrite would change a line ending it does not own ({rewritten.moved})"
        report.outcomes = [_unapplied(outcome, why) for outcome in outcomes]
        return report
    if apply:
        try:
            unchanged = target.read_bytes() == source
            if unchanged:
                atomic_write_bytes(target, fixed)
        except OSError as error:
            report.error = f"cannot write: {error.strerror or error}; file left untouched"
            report.outcomes = [_unapplied(outcome, "writing the fixed file failed") for outcome in outcomes]
            return report
        if not unchanged:
            report.error = "changed on disk while it was being fixed; file left untouched"
            report.outcomes = [_unapplied(outcome, "the file changed while it was being fixed") for outcome in outcomes]
            return report
        report.written = True
    else:
        report.diff = unified_diff(source, fixed, "utf-8" if notebook is not None else rewritten.encoding, str(path))
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
