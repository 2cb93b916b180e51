"""Which runs are best, and which trade-offs are not dominated.

Only valid, complete runs compete: a collapsed run "wins" on hierarchy by being broken,
and a crashed one never produced the model its metrics describe. Lower
hierarchy_B is better (it is a negative correlation), higher richness and Q are better.
The Pareto front is over (hierarchy_B, richness): no other run is at least as good in
both and strictly better in one.
"""

from __future__ import annotations

import math

from vaeaudit.checkpoints.records import RunRecord

RANKINGS = (
    ("hierarchy_B", "lowest hierarchy_B", False),
    ("richness", "highest richness", True),
    ("Q", "highest Q", True),
)


def is_ranked(run: RunRecord) -> bool:
    """Valid and complete: the only runs that compete. After `--recompute`, only runs
    whose metrics were recomputed compete, so every ranked number has one definition."""
    recomputed = run.recomputed is None or bool(run.recomputed.metrics)
    return run.verdict == "valid" and run.status == "complete" and recomputed


def _value(run: RunRecord, metric: str) -> float | None:
    value = run.metrics.get(metric)
    return value if value is not None and math.isfinite(value) else None


def best_runs(runs: list[RunRecord], metric: str, descending: bool, limit: int = 5) -> list[RunRecord]:
    """The top `limit` eligible runs by `metric`."""
    scored = [(value, run) for run in runs if is_ranked(run) and (value := _value(run, metric)) is not None]
    scored.sort(key=lambda pair: (-pair[0] if descending else pair[0], pair[1].name))
    return [run for _, run in scored[:limit]]


def pareto_front(runs: list[RunRecord]) -> list[RunRecord]:
    """Eligible runs not dominated in (lower hierarchy_B, higher richness), by hierarchy."""
    points = [
        (run, hierarchy, richness)
        for run in runs
        if is_ranked(run) and (hierarchy := _value(run, "hierarchy_B")) is not None and (richness := _value(run, "richness")) is not None
    ]

    def dominated(h: float, r: float) -> bool:
        return any(h2 <= h and r2 >= r and (h2 < h or r2 > r) for _, h2, r2 in points)

    front = [(h, run) for run, h, r in points if not dominated(h, r)]
    return [run for _, run in sorted(front, key=lambda pair: (pair[0], pair[1].name))]
