"""Audit a whole checkpoint tree: every run, every file, then the cross-run checks.

One process, files in sorted order: loading a ~1 MB checkpoint costs a few ms and torch
takes ~1.7 s to import per worker, so a process pool does not pay on small machines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vaeaudit.checkpoints.categories import classify
from vaeaudit.checkpoints.cross_run import add_cross_run_problems
from vaeaudit.checkpoints.file_audit import audit_file
from vaeaudit.checkpoints.records import WARNING, Problem, RunRecord
from vaeaudit.checkpoints.run_status import run_status
from vaeaudit.checkpoints.run_tree import RunFolder, discover_runs, read_run
from vaeaudit.checkpoints.settings import CheckpointSettings

Progress = Callable[[int, int, str], None]


@dataclass
class TreeAudit:
    root: Path
    runs: list[RunRecord]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def files(self):
        return [record for run in self.runs for record in run.files]


def audit_tree(root: Path, settings: CheckpointSettings, progress: Progress | None = None) -> TreeAudit:
    """Classify, load and validate every run under `root`."""
    started = time.perf_counter()
    folders, notes = discover_runs(root)
    total = sum(len(folder.checkpoints) + len(folder.side_files) for folder in folders)
    done = 0

    def file_done(relpath: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total, relpath)

    runs = [_audit_run(folder, root, settings, file_done) for folder in folders]
    add_cross_run_problems(runs)
    return TreeAudit(root, runs, notes, time.perf_counter() - started)


def audit_run_folder(path: Path, settings: CheckpointSettings) -> RunRecord:
    """One run folder on its own (the trainer judges the run it just wrote); no cross-run checks."""
    return _audit_run(read_run(path), path.parent, settings, lambda relpath: None)


def _audit_run(folder: RunFolder, root: Path, settings: CheckpointSettings, file_done: Callable[[str], None]) -> RunRecord:
    category, rule = classify(folder.name, settings.rules)
    run = RunRecord(folder.name, folder.path, category, rule, has_readme=folder.has_readme, newest_mtime=folder.newest_mtime)
    run.problems.extend(Problem("unlisted", note, WARNING) for note in folder.notes)
    run.not_audited = [(path.relative_to(root).as_posix(), why) for path, why in folder.not_audited]
    for path, side in [*((path, False) for path in folder.checkpoints), *((path, True) for path in folder.side_files)]:
        relpath = path.relative_to(root).as_posix()
        run.files.append(audit_file(path, relpath, folder.name, settings, side=side))
        file_done(relpath)
    primary = run.primary
    run.has_config = folder.has_config_file or bool(primary and primary.fields.config is not None)
    run.status, run.status_reason = run_status(run.checkpoints, folder.logs, folder.newest_mtime, settings.stale_after_hours)
    return run
