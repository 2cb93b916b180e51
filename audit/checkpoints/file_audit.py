"""Everything the audit can say about one checkpoint file on its own.

Loads it safely, maps its layout, checks tensor health, the architecture and the stored
metrics, and turns each finding into a named Problem, all within the file's time budget
(a file that exceeds it is "too expensive to inspect", and the tree goes on). Cross-run
judgements (duplicates, learned nothing, epoch order) live in `cross_run`.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path

from vaeaudit.checkpoints import safe_load
from vaeaudit.checkpoints.architecture import check_architecture
from vaeaudit.checkpoints.budget import OverBudget, time_budget
from vaeaudit.checkpoints.fields import extract_fields
from vaeaudit.checkpoints.metric_checks import metric_problems
from vaeaudit.checkpoints.records import INVALID, UNSAFE, WARNING, FileRecord, Problem
from vaeaudit.checkpoints.settings import CheckpointSettings
from vaeaudit.checkpoints.tensors import combined_digest, tensor_facts

_VERDICT_PROBLEM = {
    safe_load.UNSAFE: ("unsafe-pickle", UNSAFE),
    safe_load.UNREADABLE: ("unreadable", INVALID),
    safe_load.CORRUPT: ("corrupt", INVALID),
    safe_load.NOT_A_CHECKPOINT: ("not-a-checkpoint", INVALID),
    safe_load.REFUSED: ("not-loadable", INVALID),
    safe_load.TOO_EXPENSIVE: ("too-expensive", INVALID),
}


def audit_file(path: Path, relpath: str, run: str, settings: CheckpointSettings, side: bool = False) -> FileRecord:
    """Load and judge one file; never raises for bad content."""
    with _collector_paused():  # the loaded object dies here, before the collector resumes
        return audit_outcome(path, relpath, run, settings, side)[1]


def audit_outcome(
    path: Path, relpath: str, run: str, settings: CheckpointSettings, side: bool = False
) -> tuple[safe_load.LoadOutcome, FileRecord]:
    """(load outcome, record) of one file, both within the file's time budget."""
    try:
        with time_budget(settings.file_time_budget), _collector_paused():
            outcome = safe_load.load_checkpoint(path, settings.policy)
            return outcome, judge_outcome(outcome, relpath, run, settings, side)
    except OverBudget:
        reason = f"too expensive to inspect: took more than {settings.file_time_budget:g} s (file-time-budget)"
        outcome = safe_load.LoadOutcome(path, _size(path), "unknown", "", safe_load.TOO_EXPENSIVE, reason)
        return outcome, judge_outcome(outcome, relpath, run, settings, side)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while one file is audited.

    The scan's graph and the loaded checkpoint (thousands of tracked objects) are freed
    by reference counting when the file is done; a collection meanwhile only promotes
    them to older generations, whose full collections then walk every object of a
    process holding torch (~0.2 s each, once per few hundred files). Cycles left behind
    are collected after the file, as usual.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def judge_outcome(outcome: safe_load.LoadOutcome, relpath: str, run: str, settings: CheckpointSettings, side: bool = False) -> FileRecord:
    """The FileRecord for an already attempted load.

    A side file (`side`) is judged for safety only: it need not be a checkpoint, so
    "not a checkpoint" is no problem for it and other load failures are warnings;
    UNSAFE stays UNSAFE.
    """
    record = FileRecord(
        path=outcome.path,
        relpath=relpath,
        run=run,
        size=outcome.size,
        kind=outcome.kind,
        detail=outcome.detail,
        verdict=outcome.verdict,
        reason=outcome.reason,
        imports=outcome.imports.all if outcome.imports else (),
        side=side,
    )
    if outcome.verdict != safe_load.LOADED:
        code, severity = _VERDICT_PROBLEM[outcome.verdict]
        if side and severity == INVALID:
            if outcome.verdict == safe_load.NOT_A_CHECKPOINT:
                return record
            severity = WARNING
        record.problems.append(Problem(code, f"{outcome.verdict}: {outcome.reason}", severity))
        return record
    if not side:
        _describe_loaded(record, outcome.obj, settings)
    return record


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def _describe_loaded(record: FileRecord, obj: object, settings: CheckpointSettings) -> None:
    fields, state = extract_fields(obj, settings.aliases)
    record.fields = fields
    record.tensor_count = len(state)
    record.parameter_count = sum(tensor.numel() for tensor in state.values())
    if not state:
        record.problems.append(Problem("no-weights", f"no model weights found ({fields.layout})"))
        return
    record.digests, health = tensor_facts(state)
    record.content_hash = combined_digest(record.digests)
    for code, names, label in (
        ("non-finite-tensor", health.non_finite, "NaN/inf values in"),
        ("dead-tensor", health.dead, "all-zero weights in"),
        ("constant-tensor", health.constant, "constant weights in"),
    ):
        if names:
            record.problems.append(Problem(code, f"{label} {_names(names)}"))
    architecture = check_architecture(fields.config, state)
    record.architecture = architecture.summary()
    record.architecture_matches = architecture.matches
    record.trainable_names = architecture.trainable & state.keys()
    if architecture.checked and not architecture.matches:
        record.problems.append(Problem("architecture-mismatch", record.architecture))
    elif not architecture.checked:
        record.problems.append(Problem("architecture-unchecked", record.architecture, WARNING))
    record.problems.extend(metric_problems(fields.metrics, settings.q_tolerance, fields.phase))


def _names(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
