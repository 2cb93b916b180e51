"""Scan many files as one project: cache lookups, the prefilter, a process pool, and the fixpoint.

The main process reads and hashes every file (cheap) and answers from the cache; files that changed
go to worker processes in chunks, where each is checked for decodability, prefiltered and, only if
it could contain a finding or pass ball points on, parsed and analysed; the others only get the fast
`ast` syntax check, so a broken file is reported wherever it is. The files' summaries are then
solved together and every file whose inputs changed is analysed again (`scan_files`); a round
analysed in this process keeps its parses for the next (`_Analyser`). libcst, the pool and the
summaries are loaded only when some file actually needs analysing, so a warm run never pays for
them; a standby process (`analysis_standby`) imports the analysis meanwhile, on a spare core, for
the few files an edit needs analysed (a warm run pays its fork: ~15-30 ms). After an edit that
leaves what the edited files tell the project as it was (the same summaries, or new functions no
call can reach: `summaries.inert_edit`), the last fixpoint still holds (`_edits_keep_the_fixpoint`):
only those files are analysed, with their previous inputs, as a build system cuts off early; an edit
of comments alone (`vaeaudit.scan.fingerprint`) keeps the file's last result without parsing it at
all.

`vaeaudit fix` runs this same scan with a `fixer`: each worker hands the module it parsed and the
findings it computed (with the project's inputs) to the fixer, whose result comes back on the file's
`FileResult.fixed`; the fixer's last result is the one made with the final inputs.
"""

from __future__ import annotations

import os
import posixpath
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from vaeaudit.interrupt import stop_workers
from vaeaudit.scan.cache import Previous, ScanCache, SummaryLost, content_hash, file_stamp, project_digest, summary_digest
from vaeaudit.scan.findings import Finding
from vaeaudit.scan.prefilter import Prefilter, identifiers
from vaeaudit.scan.settings import Settings
from vaeaudit.scan.standby import Standby, spare_core
from vaeaudit.scan.summaries import (
    EMPTY_DIGEST,
    FileSummary,
    Inputs,
    inert_edit,
    module_name,
    solve,
    target_names,
    withdraw_unseen_calls,
)

# Below this many changed files a pool costs more (process start-up) than it saves.
_POOL_THRESHOLD = 64


@dataclass
class FileResult:
    """One file's findings, or the problem that stopped it.

    `severity` "error" (unreadable, undecodable, unparseable: exit code 2) or "warning"
    (deliberately not parsed, e.g. larger than `max-file-size`).
    """

    path: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    severity: str = "error"
    # With a fixer (`vaeaudit fix`): what it made of the parsed module and its findings, and
    # the bytes the scan read (what a fix must be diffed against and may replace).
    fixed: Any = None
    source: bytes | None = None


# (parsed module, its findings, the bytes it was parsed from) -> the fix; must pickle (process pool).
Fixer = Callable[[Any, list[Finding], bytes], Any]


@dataclass
class ScanRun:
    results: list[FileResult]
    parsed: int = 0
    cached: int = 0

    @property
    def findings(self) -> list[Finding]:
        return [finding for result in self.results for finding in result.findings]

    @property
    def errors(self) -> list[FileResult]:
        return [result for result in self.results if result.error is not None]


def scan_files(
    paths: Iterable[str | os.PathLike],
    settings: Settings,
    *,
    jobs: int | None = None,
    fixer: Fixer | None = None,
    standby: Standby | None = None,
) -> ScanRun:
    """Scan `paths` (already discovered) as one project and return one result per file, in input order.

    Rounds: analyse what changed, solve the project's summaries (`vaeaudit.scan.summaries`),
    and analyse again every file whose inputs changed, until none does. With a `fixer`, every
    analysis with findings is also fixed on its own parse (no cache: a cached result has no parse).
    A `standby` (`analysis_standby`, the caller's to close) analyses the small rounds of a scan without a fixer.
    """
    cache = ScanCache(settings) if settings.cache and fixer is None else None
    files: dict[str, _File] = {}
    order: list[str] = []
    run = ScanRun([])
    results: dict[str, FileResult] = {}
    now, folder = time.time_ns(), os.path.join(os.getcwd(), "")
    for path in paths:
        name = os.fspath(path)
        order.append(name)
        key = _absolute(name, folder)  # the cache's key; computed once
        try:
            stamp = file_stamp(os.stat(name), now) if cache is not None else None
            digest = cache.hash_for(key, stamp) if cache is not None else None
            data = None if digest is not None else _read(name)
        except OSError as error:
            results[name] = FileResult(name, error=f"cannot read: {error.strerror or error}")
            continue
        if data is not None:
            digest = content_hash(data) if cache is not None else ""
        state = _File(name, key, cast("str", digest), data, stamp)
        files[name] = state
        stored = cache.get(key, state.digest, name) if cache is not None else None
        if stored is not None:
            state.result = FileResult(name, stored.findings, stored.error, stored.severity)
            state.used, state.settled = stored.inputs, stored.settled
            run.cached += 1
    todo = [state for state in files.values() if state.result is None]
    project = project_digest((state.key, state.digest) for state in files.values()) if cache is not None else ""
    # Nothing changed since the last run reached its fixpoint: its results stand as they are.
    unchanged = cache is not None and not todo and cache.project == project
    if not unchanged:
        with _Analyser(settings, jobs, fixer, standby if fixer is None else None) as analyse:
            if cache is None or not _edits_keep_the_fixpoint(files, todo, cache, analyse, run):
                if cache is not None:
                    lost = _cached_summaries(files.values(), cache)
                    run.cached -= len(lost)
                    todo = [state for state in todo if state.result is None] + lost  # the cutoff may have analysed some
                _solve_rounds(files, todo, settings, analyse, run)
                if cache is not None:
                    cache.targets = target_names({name: state.summary for name, state in files.items() if state.summary is not None})
    for name, state in files.items():
        result = cast("FileResult", state.result)  # every file has a result once the rounds end
        results[name] = result
        if fixer is not None and result.findings:
            result.source = state.data
        if cache is not None and state.analysed:  # warnings too: an uncached file would make every warm run solve again
            summary, used, settled, given = state.summary, state.used, state.settled, state.given
            # A fingerprint only stands for an analysed file: the project reads an unanalysed one's text, comments too.
            code = state.code if summary is not None and summary.functions is not None else None
            severity, stamp = result.severity, state.stamp
            cache.put(state.key, state.digest, result.findings, result.error, summary, used, settled, given, severity, stamp, code)
        elif cache is not None and state.kept:
            cache.rehash(state.key, state.digest, state.stamp)
        elif cache is not None:
            cache.restamp(state.key, state.stamp)  # read and found unchanged: trusted by its stamp next time
    if cache is not None:
        cache.project = project
        cache.save()
    run.results = [results[name] for name in order]
    return run


def _read(name: str) -> bytes:
    with open(name, "rb") as file:  # not pathlib: ~3x the cost, for the 2,000 unanalysed files an edit may read
        return file.read()


def _absolute(name: str, folder: str) -> str:
    """`os.path.abspath(name)`, `folder` being the working folder with its final separator: no getcwd per file,
    and no normpath for a name already normal (as `pathlib` and discovery make them): ~5x faster."""
    if os.sep != "/":
        return os.path.abspath(name)
    joined = name if name.startswith("/") else folder + name
    return os.path.normpath(joined) if "/." in joined or "//" in joined or joined.endswith("/") else joined


def _cached_summaries(files: Iterable[_File], cache: ScanCache) -> list[_File]:
    """Give each file answered from the cache its stored summary (the fixpoint needs them all);
    the files whose summary is lost are returned, to be analysed again as if never cached."""
    lost = []
    for state in files:
        if state.result is None or state.analysed:  # not answered from the cache, or analysed since
            continue
        try:
            state.summary = cache.summary(state.key)
        except SummaryLost:
            state.result, state.used, state.settled = None, EMPTY_DIGEST, False
            lost.append(state)
    return lost


# An edit of more files than this is unlikely to leave every summary as it was: solve at once.
_EARLY_CUTOFF_LIMIT = 16


def _edits_keep_the_fixpoint(files: dict[str, _File], todo: list[_File], cache: ScanCache, analyse: _Analyser, run: ScanRun) -> bool:
    """Analyse the edited files `todo` with the inputs the last run gave them; True (and their results
    set) when each tells the project what it told before (`_tells_the_same`), so the last run's
    fixpoint holds for every file.

    The project's solution is a function of the summaries and of the text of the files it did not
    analyse (`withdraw_unseen_calls`, `_deferred_callers`); the cutoff therefore needs the same set of
    files as the last fixpoint (`cache.project`, with the edited files' old hashes), an analysed
    summary that tells what the last one told for each edited file, and its previous inputs at hand.
    Otherwise False, and the caller solves the project as usual, from these analyses where a cold
    scan would analyse the file too, from nothing where it would not.
    """
    if not todo or len(todo) > _EARLY_CUTOFF_LIMIT:
        return False
    previous: dict[str, Previous] = {}
    for state in todo:
        before = cache.previous(state.key)
        if before is None:
            return False
        previous[state.name] = before
    last_seen = project_digest((state.key, previous[name].content if name in previous else state.digest) for name, state in files.items())
    if last_seen != cache.project:
        return False
    prefilter = Prefilter(analyse.settings)
    # A file whose edit the analysis cannot see (comments) keeps its last result as it is: nothing to parse.
    edited = [state for state in todo if not _keeps_its_result(state, previous[state.name], cache, analyse.settings, prefilter)]
    givens = {
        state.name: cache.inputs(previous[state.name].inputs) if previous[state.name].summary is not None else None for state in edited
    }
    if any(givens[state.name] is None and previous[state.name].summary is not None for state in edited):
        return False  # its inputs were not kept
    outcomes = analyse([(state.name, state.data, givens[state.name]) for state in edited])
    for state, (result, parsed, summary) in zip(edited, outcomes, strict=True):
        before = previous[state.name]
        state.result, state.summary, state.given, state.analysed = result, summary, givens[state.name], True
        state.used, state.settled = before.inputs, before.settled or parsed > 0
        if not parsed:
            state.code = None
        elif state.code is None:
            state.code = _code_of(state, analyse.settings, prefilter)
        run.parsed += parsed
    if all(_tells_the_same(state, previous[state.name], cache, files) for state in edited):
        return True
    # A summary that tells the project something new: the project is solved again, starting from these analyses
    # (a file whose inputs the solution changes is analysed again, as any other), so the edited files are not
    # parsed twice for nothing; but a file a first round would not analyse (deferred, or nothing to look for) starts
    # again from nothing, as in a cold scan: analysed with inputs, it would take part as analysed, and its text would
    # no longer withdraw what an unanalysed file's definitions withdraw (`withdraw_unseen_calls`).
    for state in todo:
        state.kept = False
        if state.summary is None or state.summary.functions is None or prefilter.triage(state.data) != "analyse":
            state.result, state.summary, state.given, state.analysed = None, None, None, False
            state.used, state.settled = EMPTY_DIGEST, False
    return False


def _keeps_its_result(state: _File, before: Previous, cache: ScanCache, settings: Settings, prefilter: Prefilter) -> bool:
    """True (and the file's last result set) when the edit changed nothing the analysis reads (`fingerprint`):
    the last run's result, summary and inputs stand for the new bytes."""
    if before.code is None:
        return False
    state.code = _code_of(state, settings, prefilter)
    if state.code != before.code:
        return False
    stored = cache.get(state.key, before.content, state.name)
    if stored is None:
        return False
    state.result, state.kept = FileResult(state.name, stored.findings, stored.error, stored.severity), True
    return True


def _code_of(state: _File, settings: Settings, prefilter: Prefilter) -> str | None:
    """What the analysis reads of an analysed Python file (`Previous.code`); None for anything else."""
    from vaeaudit.scan.fingerprint import code_fingerprint
    from vaeaudit.scan.reading import SourceError, decode

    if state.name.endswith(".ipynb") or len(state.data) > settings.max_file_size:
        return None
    try:
        code = code_fingerprint(decode(state.data))
    except SourceError:
        return None
    return None if code is None else f"{prefilter.triage(state.data)}:{code}"


def _tells_the_same(state: _File, before: Previous, cache: ScanCache, files: dict[str, _File]) -> bool:
    """The edited file's new summary tells the rest of the project what its last one did: the same summary,
    or one that differs only in functions no call target of the last fixpoint names, nor (when they return ball
    points) any file it left unanalysed (`summaries.inert_edit`)."""
    if state.summary is not None and state.summary.functions is None:
        return False  # not analysed: the project knows it by its text
    if summary_digest(state.summary) == before.summary:
        return True
    if state.summary is None or before.summary is None or cache.targets is None:
        return False
    try:
        old = cache.summary(state.key)
    except SummaryLost:
        return False
    return old is not None and inert_edit(old, state.summary, cache.targets, lambda names: _named_unanalysed(files, cache, names))


def _named_unanalysed(files: dict[str, _File], cache: ScanCache, qualnames: set[str]) -> bool:
    """Whether a file the last fixpoint left unanalysed (`ScanCache.unanalysed`) names a class or function by
    which a call reaches one of `qualnames` (`_names_calling`: what `_deferred_callers` wakes files by)."""
    wanted = sorted({name.encode() for qualname in qualnames for name in _names_calling(qualname) if name})
    if not wanted:
        return False
    named = re.compile(rb"\b(?:" + b"|".join(map(re.escape, wanted)) + rb")\b")
    unanalysed = cache.unanalysed()
    # A substring search first: ~100x faster than the regex, which only confirms what it finds.
    return any(
        any(name in state.data for name in wanted) and named.search(state.data) for state in files.values() if state.key in unanalysed
    )


def _solve_rounds(files: dict[str, _File], todo: list[_File], settings: Settings, analyse: _Analyser, run: ScanRun):
    """Analyse `todo`, solve the project's summaries, and analyse again every file whose inputs
    changed or that something calls into, until nothing changes (or `_MAX_ROUNDS`)."""
    prefilter = Prefilter(settings)
    inputs: dict[str, Inputs] = {}
    for _ in range(_MAX_ROUNDS):
        for state, (result, parsed, summary) in zip(todo, analyse([(s.name, s.data, inputs.get(s.name)) for s in todo]), strict=True):
            state.result = result
            state.summary = summary or state.summary or FileSummary(module_name(state.name, settings.project_root))
            state.analysed = True
            state.given = inputs.get(state.name)
            state.used = state.given.digest() if state.given is not None else EMPTY_DIGEST
            # With inputs a file is analysed, or found to hold nothing to analyse: either way, settled.
            state.settled = state.settled or parsed > 0 or state.name in inputs
            run.parsed += parsed
        known = {name: state.summary for name, state in files.items() if state.summary is not None}
        inputs, wanted = solve(known)
        withdraw_unseen_calls(inputs, (files[name].data for name, summary in known.items() if summary.functions is None))
        todo = [
            files[name]
            for name, given in inputs.items()
            if given.digest() != files[name].used or name in wanted and not files[name].settled
        ]
        todo += _deferred_callers(files, known, prefilter)
        todo = list({state.name: state for state in todo if state.result is None or state.result.severity == "error"}.values())
        if not todo:
            break


# Rounds of the project-wide fixpoint: each round adds facts, and real call chains are short.
_MAX_ROUNDS = 6


@dataclass
class _File:
    name: str
    key: str  # absolute path: the cache's key
    digest: str
    # The bytes, read when first needed: a file the cache trusts by its stamp is not read at all.
    _data: bytes | None = None
    stamp: list[int] | None = None  # `cache.file_stamp` of the stat it was hashed or trusted by
    result: FileResult | None = None
    summary: FileSummary | None = None
    used: str = EMPTY_DIGEST  # digest of the inputs its current result was computed with
    given: Inputs | None = None  # those inputs (kept in the cache for the next run's early cutoff)
    settled: bool = False  # analysed, or given the project's inputs and found to hold nothing to analyse
    analysed: bool = False  # in this run; a file answered from the cache keeps its entry as it is
    kept: bool = False  # edited, but not where the analysis reads (`fingerprint`): its entry stands for its new bytes
    code: str | None = None  # what the analysis read of it (`Previous.code`), when taken

    @property
    def data(self) -> bytes:
        if self._data is None:
            try:
                self._data = _read(self.name)
            except OSError:  # deleted since its stat: nothing of it to know (the next run reports it gone)
                self._data = b""
        return self._data


def _deferred_callers(files: dict[str, _File], known: dict[str, FileSummary], prefilter: Prefilter) -> list[_File]:
    """Deferred files that call a function known to return ball points (by name: no parse needed), or that
    name a file on disk another file proves to hold ball points (`models/emb.pkl`: maybe they load it)."""
    reached_by = _producer_names(known)
    artifacts = {posixpath.basename(artifact).encode() for summary in known.values() for artifact in summary.artifacts}
    if not reached_by and not artifacts:
        return []
    woken = []
    for state in files.values():
        if state.summary is None or state.summary.functions is not None or state.settled:
            continue
        data = state.data
        if any(artifact in data for artifact in artifacts):
            woken.append(state)
            continue
        named = identifiers(data)
        imports_any = _RELATIVE_OR_STAR_IMPORT.search(data) is not None
        for name in named.intersection(reached_by):
            reach = reached_by[name]
            as_attribute = reach.methods and re.search(rb"\.\s*" + name + rb"\b", data) is not None
            imported = bool(reach.spelled) and (imports_any or not reach.spelled.isdisjoint(named))
            if as_attribute or imported:
                woken.append(state)
                break
    return woken


# `from . import f`, `from .layers import *`: an import that need not spell the module a name comes from.
_RELATIVE_OR_STAR_IMPORT = re.compile(rb"^\s*from\s+\.|\bimport\s+\*", re.MULTILINE)


@dataclass
class _Reach:
    """How another file can call the producers of one name: a method as an attribute (`model.encode(x)`),
    a module's function or class once the file spells one of its modules' names (`spelled`)."""

    methods: bool = False
    spelled: frozenset[bytes] = frozenset()


def _producer_names(known: dict[str, FileSummary]) -> dict[bytes, _Reach]:
    """The names by which other files call the functions that return ball points, and how each is reached.

    A method is reached by its own name after a dot; a special method (`__init__`, `__call__`) through its class
    (`Encoder(...)`, `model(x)`); a method's class and a module's function or class once imported:
    `from models.encoder import Encoder` spells `models` or `encoder`. No call reaches `_`. Waking every file
    that merely named one (a class's `__init__`, a `def forward`, `_`, a script's `main`) analysed thousands of
    files of the benchmark repositories for nothing."""
    reached_by: dict[bytes, _Reach] = {}

    def add(name: str, *, method: bool = False, spelled: frozenset[bytes] = frozenset()) -> None:
        reach = reached_by.setdefault(name.encode(), _Reach())
        reach.methods, reach.spelled = reach.methods or method, reach.spelled | spelled

    for summary in known.values():
        module = frozenset(part.encode() for part in summary.module.split(".") if part)
        for qualname, function in (summary.functions or {}).items():
            if function.returns or function.parts:
                owner, name = _names_calling(qualname)
                if owner:
                    add(owner, spelled=module)
                if name:
                    add(name, method=bool(owner), spelled=frozenset() if owner else module)
    return reached_by


def _names_calling(qualname: str) -> tuple[str, str]:
    """(the class through which a call reaches the function `qualname`, the name it calls it by); "" for none:
    a special method (`__init__`, `__call__`) is called through its class alone, and `_` is called by nothing."""
    owner, _, name = qualname.rpartition(".")
    if name == "_" or name.startswith("__") and name.endswith("__"):
        name = ""
    return owner.rpartition(".")[2], name


def scan_bytes(name: str, data: bytes, settings: Settings) -> FileResult:
    """Scan one in-memory file (stdin); never cached."""
    return _scan_one(name, data, settings, Prefilter(settings), None)[0]


Item = tuple[str, bytes, Inputs | None]  # (name, bytes, what the project tells it)
Outcome = tuple[FileResult, int, FileSummary | None]  # what `_scan_one` returns


class _Analyser:
    """Analyses the files of each round of one scan: a round with many files in a process pool,
    a small one in the scan's standby when it has one, else in this process; either keeps the modules
    it parsed (`reading.remember_parses`) for the later rounds: a file analysed again because the project
    told it something new (after one changed file, its callers and callees) is not parsed again.
    """

    def __init__(self, settings: Settings, jobs: int | None, fixer: Fixer | None, standby: Standby | None = None) -> None:
        self.settings, self.fixer, self.standby = settings, fixer, standby
        self.workers = jobs or os.cpu_count() or 1
        self.remembering = False

    def __enter__(self) -> _Analyser:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if self.remembering:
            from vaeaudit.scan.reading import forget_parses

            forget_parses()

    def __call__(self, todo: list[Item]) -> list[Outcome]:
        """One outcome per item of `todo`, in its order."""
        if self.workers > 1 and len(todo) >= _POOL_THRESHOLD:
            return _pooled(todo, self.settings, self.workers, self.fixer)
        if todo and self.standby is not None:
            outcomes = self.standby.ask((self.settings, todo))
            if isinstance(outcomes, list) and len(outcomes) == len(todo):
                return outcomes
            self.standby.close()
            self.standby = None  # gone: analysed here from now on, with the same outcome
        if todo and not self.remembering:
            from vaeaudit.scan.reading import remember_parses

            remember_parses(_REMEMBERED_TEXT)
            self.remembering = True
        prefilter = Prefilter(self.settings)
        return [_scan_one(name, data, self.settings, prefilter, given, project=True, fixer=self.fixer) for name, data, given in todo]


# Text this process keeps parsed for the later rounds (~1.7 KB of memory per line: ~170 MB at most).
_REMEMBERED_TEXT = 4_000_000


def analysis_standby(settings: Settings, jobs: int | None) -> Standby | None:
    """A process that imports the analysis while this one discovers the files and reads the cache
    (`vaeaudit.scan.standby`), then analyses the small rounds as `_Analyser` would here, keeping its parses for the
    later rounds. Only for a scan likely to analyse a few files: cached, with a cache from an earlier run (its
    folder exists), and a spare core. The caller closes it."""
    if not settings.cache or not spare_core(jobs or os.cpu_count() or 1):
        return None
    if not os.path.isdir(os.path.join(settings.project_root, settings.cache_dir)):
        return None  # a first scan: many files to analyse, in a pool
    try:
        return Standby(_prepare_analysis)
    except OSError:  # no process to spare (a process limit): the scan analyses in its own
        return None


def _prepare_analysis() -> Callable[[tuple[Settings, list[Item]]], list[Outcome]]:
    """Run in the standby: import the analysis, then analyse each (settings, items) it is handed."""
    from vaeaudit.scan.analyzer import analyse_source  # noqa: F401 - the point: imported before it is needed
    from vaeaudit.scan.reading import remember_parses

    remember_parses(_REMEMBERED_TEXT)
    prefilters: dict[Settings, Prefilter] = {}

    def analyse(request: tuple[Settings, list[Item]]) -> list[Outcome]:
        settings, todo = request
        prefilter = prefilters.setdefault(settings, Prefilter(settings))
        return [_scan_one(name, data, settings, prefilter, given, project=True) for name, data, given in todo]

    return analyse


def _pooled(todo: list[Item], settings: Settings, workers: int, fixer: Fixer | None) -> list[Outcome]:
    # Imported here: the pool's modules cost a warm run (nothing to analyse) ~15 ms of its start-up.
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    chunks = [todo[start : start + _CHUNK] for start in range(0, len(todo), _CHUNK)]
    outcomes: list[Outcome] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        try:
            for chunk_outcomes in pool.map(_scan_chunk, chunks, [settings] * len(chunks), [fixer] * len(chunks)):
                outcomes.extend(chunk_outcomes)
        except BaseException:  # Ctrl-C (or the caller stopped): stop the workers instead of finishing their queued chunks
            stop_workers(pool)
            raise
    return outcomes


_CHUNK = 32


def _scan_chunk(chunk: list[Item], settings: Settings, fixer: Fixer | None = None) -> list[Outcome]:
    prefilter = Prefilter(settings)
    return [_scan_one(name, data, settings, prefilter, given, project=True, fixer=fixer) for name, data, given in chunk]


def _scan_one(
    name: str,
    data: bytes,
    settings: Settings,
    prefilter: Prefilter,
    given: Inputs | None,
    *,
    project: bool = False,
    as_python: bool = False,
    fixer: Fixer | None = None,
) -> tuple[FileResult, int, FileSummary | None]:
    """(result, 1 if the file was parsed else 0, its project summary); a notebook is scanned as the Python of its code cells.

    In a project scan, `given` None means a first look: a deferred file (a Euclidean operation,
    no source) is only syntax-checked and summarised as "not analysed"; with inputs it is analysed.
    A `fixer` gets the parsed module and its findings (a notebook's: those of its cells' Python).
    """
    if name.endswith(".ipynb") and not as_python:
        from vaeaudit.scan.notebook import scan_notebook

        result, parsed = scan_notebook(
            name, data, lambda python: _scan_one(name, python, settings, prefilter, None, as_python=True, fixer=fixer)[:2]
        )
        return result, parsed, None
    from vaeaudit.scan.reading import SourceError, check_syntax, decode

    try:
        text = decode(data)
        triage = prefilter.triage(data) if project else ("analyse" if prefilter.could_match(data) else "skip")
        if triage == "skip" or (triage == "deferred" and given is None):
            if len(data) <= settings.max_file_size:
                check_syntax(text, data)  # no finding possible, but a syntax error is still reported
            summary = FileSummary(module_name(name, settings.project_root)) if triage == "deferred" else None
            return FileResult(name), 0, summary
        if len(data) > settings.max_file_size:
            # libcst needs ~2 KB per token: a generated multi-MB table would take minutes and GBs.
            reason = f"not parsed: {len(data):,} bytes is over max-file-size ({settings.max_file_size:,}); raise it to scan this file"
            return FileResult(name, error=reason, severity="warning"), 0, None
        from vaeaudit.scan.analyzer import analyse_source

        modules: list | None = [] if fixer is not None else None
        findings, summary, note = analyse_source(data, name, settings, given, parsed=modules)
        result = FileResult(name, findings) if note is None else FileResult(name, findings, error=note, severity="warning")
        if fixer is not None and findings and modules:
            result.fixed = fixer(modules[0], findings, data)
        return result, 1, summary
    except SourceError as error:
        return FileResult(name, error=str(error)), 0, None
    except Exception as error:  # a scanner bug must not cost the user the other files
        return FileResult(name, error=f"internal error, please report: {type(error).__name__}: {error}"), 1, None
