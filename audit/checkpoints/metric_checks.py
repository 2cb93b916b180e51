"""Are a checkpoint's stored metrics possible, and do they agree with each other?

Ranges come from the metric definitions (fractions, rank correlations, variances,
radii). Hierarchy has a ceiling below 0: with 13,122 of 19,683 operations at valuation
0, a Spearman ρ below about −0.83205 needs ties in the radius, i.e. collapsed levels, so
"better than the ceiling" is a defect, and ρ above 0 means the hierarchy is inverted.
"""

from __future__ import annotations

import math

from vaeaudit.checkpoints.records import INVALID, Problem

# Small slack for metrics rounded when they were stored.
CEILING_SLACK = 5e-4
_RANGES = {
    "coverage": (0.0, 1.0),
    "hierarchy_A": (-1.0, 1.0),
    "hierarchy_B": (-1.0, 1.0),
    "dist_corr": (-1.0, 1.0),
    "richness": (0.0, math.inf),
    "r_v0": (0.0, math.inf),
    "r_v9": (0.0, math.inf),
    "Q": (-math.inf, math.inf),
}


def metric_problems(metrics: dict[str, float], q_tolerance: float, phase: str | None = None) -> list[Problem]:
    """Every range, ceiling and consistency violation among the stored metrics.

    In the ternary trainer's "coverage" phase encoder B is still at its initialisation,
    so hierarchy_B says nothing yet and is not judged against the ceiling or for sign.
    """
    from vaeaudit.ternary_vae.metrics import HIERARCHY_CEILING, quality_score

    problems = []
    for name, value in metrics.items():
        low, high = _RANGES[name]
        if not math.isfinite(value):
            problems.append(Problem("metric-non-finite", f"{name} is {value}"))
        elif not low <= value <= high:
            problems.append(Problem("metric-out-of-range", f"{name} = {value:.6g} outside [{low:g}, {high:g}]"))
    for name in ("hierarchy_A", "hierarchy_B") if phase != "coverage" else ("hierarchy_A",):
        found = metrics.get(name)
        if found is None or not math.isfinite(found) or abs(found) > 1:
            continue
        if found < HIERARCHY_CEILING - CEILING_SLACK:
            message = f"{name} = {found:.4f} is below the {HIERARCHY_CEILING:.4f} ceiling: radii collapsed within levels"
            problems.append(Problem("hierarchy-collapsed", message))
        elif name == "hierarchy_B" and found > 0:
            problems.append(Problem("hierarchy-inverted", f"{name} = {found:.4f} > 0: radius grows with valuation"))
    stored_q, dist_corr, hierarchy = (metrics.get(key) for key in ("Q", "dist_corr", "hierarchy_B"))
    if (
        stored_q is not None
        and dist_corr is not None
        and hierarchy is not None
        and all(map(math.isfinite, (stored_q, dist_corr, hierarchy)))
    ):
        expected = quality_score(dist_corr, hierarchy)
        if abs(stored_q - expected) > q_tolerance:
            problems.append(
                Problem("q-inconsistent", f"stored Q = {stored_q:.4f} but dist_corr + 1.5·|hierarchy_B| = {expected:.4f}", INVALID)
            )
    return problems
