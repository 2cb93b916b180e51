"""Audit a whole checkpoint tree: every run, every file, then the cross-run checks.

Files are audited in sorted order. On a machine with more than one core, a tree of more
than a few files is spread over worker processes, forked once torch is imported here (a
fork costs milliseconds, a fresh import of torch ~1.7 s per worker): the weights-only
unpickler is pure Python, so threads would not help. Results come back in the serial
order and are identical to a serial audit: each worker runs the same `audit_file`,
budget included (in its own main thread, where the timer signal works). Ctrl-C stops
the workers and reaches the caller as KeyboardInterrupt. Where a chunk of files cannot
be audited in a worker (a worker died, a result could not be sent back), that chunk is
audited here, serially, as it would have been without workers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from vaeaudit.checkpoints.categories import classify
from vaeaudit.checkpoints.cross_run import add_cross_run_problems
from vaeaudit.checkpoints.file_audit import audit_file
from vaeaudit.checkpoints.records import WARNING, FileRecord, Problem, RunRecord
from vaeaudit.checkpoints.run_status import run_status
from vaeaudit.checkpoints.run_tree import RunFolder, discover_runs, read_run
from vaeaudit.checkpoints.settings import CheckpointSettings
from vaeaudit.interrupt import stop_workers

Progress = Callable[[int, int, str], None]
SERIAL_BELOW = 24  # files; fewer are audited in this process (forking would cost more than it saves)
CHUNK = 16  # files per task sent to a worker: few round trips, yet the last tasks stay short


@dataclass
class TreeAudit:
    root: Path
    runs: list[RunRecord]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def files(self):
        return [record for run in self.runs for record in run.files]


# One file to audit: (path, relpath, run name, side file?)
_Job = tuple[Path, str, str, bool]


def audit_tree(root: Path, settings: CheckpointSettings, progress: Progress | None = None, workers: int | None = None) -> TreeAudit:
    """Classify, load and validate every run under `root`.

    `workers`: processes to audit files in (None: one per available core; 1: this process only).
    """
    started = time.perf_counter()
    folders, notes = discover_runs(root)
    jobs = [(path, path.relative_to(root).as_posix(), folder.name, side) for folder in folders for path, side in _files(folder)]
    records = iter(_audit_all(jobs, settings, progress, available_workers() if workers is None else workers))
    runs = [_assemble_run(folder, root, settings, [next(records) for _ in _files(folder)]) for folder in folders]
    add_cross_run_problems(runs)
    return TreeAudit(root, runs, notes, time.perf_counter() - started)


def audit_run_folder(path: Path, settings: CheckpointSettings) -> RunRecord:
    """One run folder on its own (the trainer judges the run it just wrote); no cross-run checks."""
    folder = read_run(path)
    jobs = [(file, file.relative_to(path.parent).as_posix(), folder.name, side) for file, side in _files(folder)]
    return _assemble_run(folder, path.parent, settings, [_audit_job(job, settings) for job in jobs])


def available_workers() -> int:
    """The cores this process may run on (1 where forking is not the way processes start)."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _files(folder: RunFolder) -> list[tuple[Path, bool]]:
    """The run's files to audit, checkpoints first, each with whether it is a side file."""
    return [*((path, False) for path in folder.checkpoints), *((path, True) for path in folder.side_files)]


def _audit_job(job: _Job, settings: CheckpointSettings) -> FileRecord:
    path, relpath, run, side = job
    return audit_file(path, relpath, run, settings, side=side)


def _audit_all(jobs: list[_Job], settings: CheckpointSettings, progress: Progress | None, workers: int) -> list[FileRecord]:
    """Every job's record, in the order of `jobs`, reporting progress as each one is done."""
    chunks = [jobs[start : start + CHUNK] for start in range(0, len(jobs), CHUNK)]
    records: list[FileRecord] = []
    with _worker_pool(workers if len(jobs) >= SERIAL_BELOW else 1, len(chunks)) as pool:
        futures = [pool.submit(_audit_chunk, chunk, settings) for chunk in chunks] if pool else [None] * len(chunks)
        for chunk, future in zip(chunks, futures, strict=True):
            for job, record in zip(chunk, _chunk_records(future, chunk, settings), strict=True):
                records.append(record)
                if progress:
                    progress(len(records), len(jobs), job[1])
    return records


def _chunk_records(future: Future | None, chunk: list[_Job], settings: CheckpointSettings) -> Iterator[FileRecord]:
    """The chunk's records from its worker; audited here, one by one, without a worker or
    where the worker could not deliver (it died, or a result could not be sent back)."""
    if future is not None:
        try:
            yield from future.result()
            return
        except Exception:
            pass
    for job in chunk:
        yield _audit_job(job, settings)


@contextlib.contextmanager
def _worker_pool(workers: int, tasks: int) -> Iterator[ProcessPoolExecutor | None]:
    """Forked workers for `tasks` tasks (None: audit in this process); on Ctrl-C or an
    error they are stopped at once instead of finishing their current chunk."""
    if workers <= 1:
        yield None
        return
    with contextlib.suppress(ImportError):
        import torch  # noqa: F401  imported once, before the fork: each worker would take ~1.7 s to import it

    pool = ProcessPoolExecutor(max_workers=min(workers, tasks), mp_context=multiprocessing.get_context("fork"), initializer=_start_worker)
    try:
        yield pool
    except BaseException:
        stop_workers(pool)
        raise
    pool.shutdown(wait=True)


def _start_worker() -> None:
    """Ctrl-C reaches the whole process group: only the parent handles it (and stops us).
    One torch thread per worker: the workers already fill the cores."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(1)


def _audit_chunk(jobs: list[_Job], settings: CheckpointSettings) -> list[FileRecord]:
    return [_audit_job(job, settings) for job in jobs]


def _assemble_run(folder: RunFolder, root: Path, settings: CheckpointSettings, records: list[FileRecord]) -> RunRecord:
    """The RunRecord of one folder from its files' records (in `_files` order)."""
    category, rule = classify(folder.name, settings.rules)
    run = RunRecord(folder.name, folder.path, category, rule, has_readme=folder.has_readme, newest_mtime=folder.newest_mtime)
    run.problems.extend(Problem("unlisted", note, WARNING) for note in folder.notes)
    run.not_audited = [(path.relative_to(root).as_posix(), why) for path, why in folder.not_audited]
    run.files.extend(records)
    primary = run.primary
    run.has_config = folder.has_config_file or bool(primary and primary.fields.config is not None)
    run.status, run.status_reason = run_status(run.checkpoints, folder.logs, folder.newest_mtime, settings.stale_after_hours)
    return run
