"""Everything the audit can say about one checkpoint file on its own.

Loads it safely, maps its layout, checks tensor health, the architecture and the stored
metrics, and turns each finding into a named Problem. Cross-run judgements (duplicates,
learned nothing, epoch order) live in `cross_run`.
"""

from __future__ import annotations

from pathlib import Path

from vaeaudit.checkpoints import safe_load
from vaeaudit.checkpoints.architecture import check_architecture
from vaeaudit.checkpoints.fields import extract_fields
from vaeaudit.checkpoints.metric_checks import metric_problems
from vaeaudit.checkpoints.records import INVALID, UNSAFE, WARNING, FileRecord, Problem
from vaeaudit.checkpoints.tensors import combined_digest, digests, tensor_health

_VERDICT_PROBLEM = {
    safe_load.UNSAFE: ("unsafe-pickle", UNSAFE),
    safe_load.UNREADABLE: ("unreadable", INVALID),
    safe_load.CORRUPT: ("corrupt", INVALID),
    safe_load.NOT_A_CHECKPOINT: ("not-a-checkpoint", INVALID),
    safe_load.REFUSED: ("not-loadable", INVALID),
}


def audit_file(path: Path, relpath: str, run: str, q_tolerance: float) -> FileRecord:
    """Load and judge one file; never raises for bad content."""
    return judge_outcome(safe_load.load_checkpoint(path), relpath, run, q_tolerance)


def judge_outcome(outcome: safe_load.LoadOutcome, relpath: str, run: str, q_tolerance: float) -> FileRecord:
    """The FileRecord for an already attempted load (so `inspect` can reuse the outcome)."""
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
    )
    if outcome.verdict != safe_load.LOADED:
        code, severity = _VERDICT_PROBLEM[outcome.verdict]
        record.problems.append(Problem(code, f"{outcome.verdict}: {outcome.reason}", severity))
        return record
    _describe_loaded(record, outcome.obj, q_tolerance)
    return record


def _describe_loaded(record: FileRecord, obj: object, q_tolerance: float) -> None:
    fields, state = extract_fields(obj)
    record.fields = fields
    record.tensor_count = len(state)
    record.parameter_count = sum(tensor.numel() for tensor in state.values())
    if not state:
        record.problems.append(Problem("no-weights", f"no model weights found ({fields.layout})"))
        return
    record.digests = digests(state)
    record.content_hash = combined_digest(record.digests)
    health = tensor_health(state)
    for code, names, label in (
        ("non-finite-tensor", health.non_finite, "NaN/inf values in"),
        ("dead-tensor", health.dead, "all-zero weights in"),
        ("constant-tensor", health.constant, "constant weights in"),
    ):
        if names:
            record.problems.append(Problem(code, f"{label} {_names(names)}"))
    architecture = check_architecture(fields.config, state)
    record.architecture = architecture.summary()
    record.trainable_names = architecture.trainable & state.keys()
    if architecture.checked and not architecture.matches:
        record.problems.append(Problem("architecture-mismatch", record.architecture))
    elif not architecture.checked:
        record.problems.append(Problem("architecture-unchecked", record.architecture, WARNING))
    record.problems.extend(metric_problems(fields.metrics, q_tolerance, fields.phase))


def _names(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
