"""Scan many files: cache lookups, the prefilter, and a process pool for the rest.

The main process reads and hashes every file (cheap) and answers from the cache; files
that changed go to worker processes in chunks, where each is checked for decodability,
prefiltered and, only if it could contain a finding, parsed and analysed; the others
only get the fast `ast` syntax check, so a broken file is reported wherever it is.
libcst is imported only when some file actually needs parsing, so a warm run never pays for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from vaeaudit.scan.cache import ScanCache, content_hash
from vaeaudit.scan.findings import Finding
from vaeaudit.scan.prefilter import Prefilter
from vaeaudit.scan.settings import Settings

# Below this many changed files a pool costs more (process start-up) than it saves.
_POOL_THRESHOLD = 64
_CHUNK = 32


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


def scan_files(paths: Iterable[Path], settings: Settings, *, jobs: int | None = None) -> ScanRun:
    """Scan `paths` (already discovered) and return one result per file, in input order."""
    cache = ScanCache(settings) if settings.cache else None
    results: dict[str, FileResult] = {}
    order: list[str] = []
    todo: list[tuple[str, bytes]] = []
    digests: dict[str, str] = {}
    run = ScanRun([])
    for path in paths:
        name = str(path)
        order.append(name)
        try:
            data = path.read_bytes()
        except OSError as error:
            results[name] = FileResult(name, error=f"cannot read: {error.strerror or error}")
            continue
        if cache is not None:
            digests[name] = content_hash(data)
            hit = cache.get(name, digests[name])
            if hit is not None:
                results[name] = FileResult(name, *hit)
                run.cached += 1
                continue
        todo.append((name, data))
    for result, parsed in _analyse(todo, settings, jobs):
        results[result.path] = result
        run.parsed += parsed
        if cache is not None and result.severity == "error":
            cache.put(result.path, digests[result.path], result.findings, result.error)
    if cache is not None:
        cache.save()
    run.results = [results[name] for name in order]
    return run


def scan_bytes(name: str, data: bytes, settings: Settings) -> FileResult:
    """Scan one in-memory file (stdin); never cached."""
    return _scan_one(name, data, settings, Prefilter(settings))[0]


def _analyse(todo: list[tuple[str, bytes]], settings: Settings, jobs: int | None):
    workers = jobs or os.cpu_count() or 1
    if workers <= 1 or len(todo) < _POOL_THRESHOLD:
        prefilter = Prefilter(settings)
        for name, data in todo:
            yield _scan_one(name, data, settings, prefilter)
        return
    chunks = [todo[start : start + _CHUNK] for start in range(0, len(todo), _CHUNK)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        try:
            for chunk_results in pool.map(_scan_chunk, chunks, [settings] * len(chunks)):
                yield from chunk_results
        except BaseException:  # Ctrl-C (or the caller stopped): stop the workers instead of finishing their queued chunks
            for process in list((pool._processes or {}).values()):  # Python 3.14 has pool.terminate_workers()
                process.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _scan_chunk(chunk: list[tuple[str, bytes]], settings: Settings) -> list[tuple[FileResult, int]]:
    prefilter = Prefilter(settings)
    return [_scan_one(name, data, settings, prefilter) for name, data in chunk]


def _scan_one(name: str, data: bytes, settings: Settings, prefilter: Prefilter, *, as_python: bool = False) -> tuple[FileResult, int]:
    """(result, 1 if the file was parsed else 0); a notebook is scanned as the Python of its code cells."""
    if name.endswith(".ipynb") and not as_python:
        from vaeaudit.scan.notebook import scan_notebook

        return scan_notebook(name, data, lambda python: _scan_one(name, python, settings, prefilter, as_python=True))
    from vaeaudit.scan.reading import SourceError, check_syntax, decode

    try:
        text = decode(data)
        if not prefilter.could_match(data):
            if len(data) <= settings.max_file_size:
                check_syntax(text, data)  # no finding possible, but a syntax error is still reported
            return FileResult(name), 0
        if len(data) > settings.max_file_size:
            # libcst needs ~2 KB per token: a generated multi-MB table would take minutes and GBs.
            reason = f"not parsed: {len(data):,} bytes is over max-file-size ({settings.max_file_size:,}); raise it to scan this file"
            return FileResult(name, error=reason, severity="warning"), 0
        from vaeaudit.scan.analyzer import scan_source

        return FileResult(name, scan_source(data, name, settings)), 1
    except SourceError as error:
        return FileResult(name, error=str(error)), 0
    except Exception as error:  # a scanner bug must not cost the user the other files
        return FileResult(name, error=f"internal error, please report: {type(error).__name__}: {error}"), 1
