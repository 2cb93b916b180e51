"""Judgements that need more than one file: duplicates, runs that learned nothing,
and best/latest epochs out of order.

"Learned nothing" is the failure that fooled the original audit: `v5_11_overnight` had
perfect metrics because its weights were exactly those of the frozen checkpoint it
started from. We compare tensor digests (not file hashes) against the run's frozen
source when its config names one, and the trainable part (what phase 2 trains, as the
model defines it) against every other run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from vaeaudit.checkpoints.records import WARNING, FileRecord, Problem, RunRecord
from vaeaudit.checkpoints.tensors import combined_digest

SOURCE_KEYS = ("frozen_checkpoint", "init_from", "pretrained_checkpoint")


def add_cross_run_problems(runs: list[RunRecord]) -> None:
    """Append epoch-order, learned-nothing and duplicate problems to the runs concerned."""
    by_relpath = {record.relpath: record for run in runs for record in run.files}
    for run in runs:
        _check_epoch_order(run)
    learned_nothing = {run.name for run in runs if _check_frozen_source(run, by_relpath)}
    comparable = [run for run in runs if run.primary and run.primary.content_hash and run.name not in learned_nothing]
    _flag_duplicates(comparable)
    _flag_identical_trainable(comparable)


def _check_epoch_order(run: RunRecord) -> None:
    def top_epoch(*roles: str) -> int | None:
        return max((r.fields.epoch for r in run.files if r.role in roles and r.fields.epoch is not None), default=None)

    best, latest = top_epoch("best", "best-variant"), top_epoch("latest")
    if best is not None and latest is not None and best > latest:
        run.problems.append(Problem("epoch-order", f"best checkpoint is from epoch {best}, after the latest one (epoch {latest})"))


def frozen_source(config: Mapping[str, Any] | None) -> str | None:
    """The checkpoint path a run's config says it started from, if any."""
    if not isinstance(config, Mapping):
        return None
    for key in SOURCE_KEYS:
        value = config.get(key)
        if isinstance(value, Mapping):
            value = value.get("path")
        if isinstance(value, str) and value:
            return value
    return None


def _check_frozen_source(run: RunRecord, by_relpath: dict[str, FileRecord]) -> bool:
    """Flag the run when every tensor equals its frozen source's; True when flagged."""
    primary = run.primary
    source_path = frozen_source(primary.fields.config) if primary else None
    if not primary or not primary.digests or not source_path:
        return False
    source = _match_audited(source_path, by_relpath)
    if source is None or not source.digests:
        message = f"frozen source {source_path} is not among the audited loadable files; not compared"
        run.problems.append(Problem("source-not-audited", message, WARNING))
        return False
    if source.run == run.name:
        return False
    if all(source.digests.get(name) == digest for name, digest in primary.digests.items()):
        run.problems.append(
            Problem("learned-nothing", f"every tensor is identical to its frozen source {source.relpath}: the run learned nothing")
        )
        return True
    return False


def _match_audited(source_path: str, by_relpath: dict[str, FileRecord]) -> FileRecord | None:
    """The audited file a config path points at, matched on its trailing `<run>/<file>`."""
    tail = PurePath(source_path).parts[-2:]
    return next((record for relpath, record in by_relpath.items() if PurePath(relpath).parts[-2:] == tail), None)


def _flag_duplicates(runs: list[RunRecord]) -> None:
    """Runs whose weights are bit-identical: the oldest is the original, the rest copies."""
    groups: dict[str, list[RunRecord]] = defaultdict(list)
    for run in runs:
        if run.primary:
            groups[run.primary.content_hash].append(run)
    for group in groups.values():
        if len(group) < 2:
            continue
        original, *copies = sorted(group, key=lambda run: (run.newest_mtime, run.name))
        original.problems.append(Problem("has-duplicates", f"identical weights in {', '.join(copy.name for copy in copies)}", WARNING))
        for copy in copies:
            copy.problems.append(Problem("duplicate", f"weights identical to run {original.name} (tensor content hash)"))


def _flag_identical_trainable(runs: list[RunRecord]) -> None:
    """Different runs whose trainable tensors are identical: phase 2 never moved them.

    Runs still in the coverage phase are left out: their phase-2 tensors are untouched
    initial values by design, equal across runs that share a seed.
    """
    groups: dict[str, list[tuple[RunRecord, FileRecord]]] = defaultdict(list)
    for run in runs:
        primary = run.primary
        if primary and primary.trainable_names and primary.trainable_names != primary.digests.keys() and primary.fields.phase != "coverage":
            groups[combined_digest(primary.digests, primary.trainable_names)].append((run, primary))
    for group in groups.values():
        distinct = {primary.content_hash for _, primary in group}
        if len(distinct) < 2:
            continue  # identical everywhere: already reported as duplicates
        for run, primary in group:
            others = ", ".join(other.name for other, _ in group if other is not run)
            message = (
                f"its {len(primary.trainable_names)} trainable tensors are identical to those of {others}: training did not change them"
            )
            run.problems.append(Problem("learned-nothing", message))
