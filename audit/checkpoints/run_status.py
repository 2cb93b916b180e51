"""How a run ended. One table decides it; the first row that applies wins:

    status        when                                                    ranked?
    crashed       the run's log ends with a traceback, "Killed" or out    no
                  of memory
    interrupted   its newest checkpoint says training did not finish:     no
                  this trainer's marker (phase/phase_done, finished,
                  completed) says so, or, without a marker, its epoch is
                  short of the configured epochs
    complete      a best.pt                                               yes, if valid
    partial       latest.pt and/or best_Q.pt (any best_*.pt) without     no
                  best.pt
    crashed       only other checkpoints (epoch_N.pt): what crashed       no
                  runs of the original system kept
    empty         no checkpoint files                                     no

An interrupted run untouched for `stale-after-hours` says so in its reason; one written
more recently "may still be running". Early stopping is legitimate: a checkpoint whose
marker says finished is finished, whatever its epoch.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vaeaudit.checkpoints.records import FileRecord
from vaeaudit.checkpoints.regular_files import open_regular_file

STATUSES = ("complete", "partial", "interrupted", "crashed", "empty")
LOG_TAIL_BYTES = 8192
LOG_TAIL_LINES = 40
CRASH_MARKERS = re.compile(
    r"Traceback \(most recent call last\)|^\s*Killed\b|out of memory|OutOfMemoryError|\bMemoryError\b|"
    r"Segmentation fault|core dumped",
    re.IGNORECASE | re.MULTILINE,
)


def run_status(
    files: list[FileRecord], logs: list[Path], newest_mtime: float, stale_after_hours: float, now: float | None = None
) -> tuple[str, str]:
    """(status, why) for a run, from its checkpoint files (side files left out) and logs."""
    for log in logs:
        marker = crash_marker(log)
        if marker:
            return "crashed", f"{log.name} ends with {marker!r}"
    unfinished = _unfinished(files)
    if unfinished:
        idle_hours = ((time.time() if now is None else now) - newest_mtime) / 3600
        age = f"untouched for {idle_hours:.0f} h" if idle_hours > stale_after_hours else "written recently: may still be running"
        return "interrupted", f"{unfinished} ({age})"
    roles = {record.role for record in files}
    if "best" in roles:
        return "complete", "has best.pt"
    if roles & {"latest", "best-variant"}:
        present = sorted(record.path.name for record in files if record.role in ("latest", "best-variant"))
        return "partial", f"{', '.join(present)} without best.pt"
    if files:
        return "crashed", "checkpoints but neither best nor latest (e.g. only epoch_N.pt)"
    return "empty", "no checkpoint files"


def _unfinished(files: list[FileRecord]) -> str | None:
    """Why the run's newest checkpoint says training did not finish, or None."""
    dated = [record for record in files if record.loaded and record.fields.epoch is not None]
    if not dated:
        return None
    newest = max(dated, key=lambda record: (record.fields.epoch or 0, record.role == "latest")).fields
    epoch = newest.epoch or 0
    if newest.finished is True:
        return None
    if newest.finished is False:
        phase = f" in phase {newest.phase!r}" if newest.phase else ""
        return f"its newest checkpoint (epoch {newest.epoch}{phase}) says training did not finish"
    planned = configured_epochs(newest.config)
    if planned and epoch < planned - 1:
        return f"stopped at epoch {newest.epoch} of {planned} configured"
    return None


def crash_marker(log: Path) -> str | None:
    """The crash line near the end of a log, if any."""
    try:
        with open_regular_file(log) as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - LOG_TAIL_BYTES))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    lines = "\n".join(tail.splitlines()[-LOG_TAIL_LINES:])
    found = CRASH_MARKERS.search(lines)
    return found.group(0).strip() if found else None


def configured_epochs(config: Mapping[str, Any] | None) -> int | None:
    """Planned epochs: `epochs`/`max_epochs` at top level or under train(ing), else the
    sum of the ternary trainer's phase budgets (coverage + hierarchy max_epochs)."""
    if not isinstance(config, Mapping):
        return None
    for table in (config, config.get("train"), config.get("training")):
        if isinstance(table, Mapping):
            for key in ("epochs", "max_epochs", "num_epochs"):
                if isinstance(table.get(key), int):
                    return table[key]
    phases = [config.get(name) for name in ("coverage", "hierarchy")]
    budgets = [phase.get("max_epochs") for phase in phases if isinstance(phase, Mapping)]
    numbers = [budget for budget in budgets if isinstance(budget, int)]
    return sum(numbers) if numbers and len(numbers) == len(budgets) else None
