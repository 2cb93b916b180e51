"""How a run ended: complete, partial, crashed or empty.

From the file names (best.pt → complete, only latest.pt → partial, only other .pt
files → crashed, none → empty), overridden by evidence of a crash: a traceback,
"Killed" or out-of-memory at the end of the run's log, or a latest checkpoint short of
its configured epochs, without an end-of-training marker, that nobody has touched for
`stale_after_hours` (early stopping is legitimate, hence the marker).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vaeaudit.checkpoints.records import FileRecord
from vaeaudit.checkpoints.regular_files import open_regular_file

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
    """(status, why) for a run."""
    for log in logs:
        marker = crash_marker(log)
        if marker:
            return "crashed", f"{log.name} ends with {marker!r}"
    latest = max((r.fields for r in files if r.role == "latest" and r.fields.epoch is not None), key=lambda f: f.epoch, default=None)
    if latest is not None and not latest.finished:
        planned = configured_epochs(latest.config)
        idle_hours = ((time.time() if now is None else now) - newest_mtime) / 3600
        if planned and latest.epoch < planned - 1 and idle_hours > stale_after_hours:
            return "crashed", f"stale: stopped at epoch {latest.epoch} of {planned}, untouched for {idle_hours:.0f} h"
    roles = {record.role for record in files}
    if "best" in roles:
        return "complete", "has a best checkpoint"
    if "latest" in roles:
        return "partial", "only a latest checkpoint"
    if files:
        return "crashed", "checkpoints but neither best nor latest"
    return "empty", "no checkpoint files"


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
    return sum(budgets) if budgets and all(isinstance(b, int) for b in budgets) else None
