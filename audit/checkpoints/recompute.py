"""`checkpoints report --recompute`: one yardstick for every run whose model can be rebuilt.

Stored metrics come from whatever code wrote them (three definitions in the original
system alone), so runs are compared here on numbers recomputed from their weights: the
run's primary checkpoint is loaded again through the same safe path (static scan, then
torch's weights-only loader), the model is rebuilt from the checkpoint's own config with
`vaeaudit.ternary_vae.model.build_model` and loaded strictly, and every metric of the
named definition set (`definitions.RECOMPUTE_SET`) is computed over all 19,683
operations with `vaeaudit.ternary_vae.metrics.evaluate`. A stored metric that disagrees
with its recomputed value beyond `math.isclose(rel_tol=REL_TOL, abs_tol=ABS_TOL)` is a
problem of the run. Runs whose architecture is not this project's (the original
system's v5.x layouts carry no config to rebuild from) are listed as not recomputed,
with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vaeaudit.checkpoints import safe_load
from vaeaudit.checkpoints.definitions import RECOMPUTE_SET
from vaeaudit.checkpoints.fields import extract_fields
from vaeaudit.checkpoints.records import INVALID, Problem, RunRecord
from vaeaudit.checkpoints.settings import CheckpointSettings

REL_TOL = 1e-3
ABS_TOL = 1e-4


@dataclass
class Recomputed:
    """One run under the yardstick: recomputed metrics, or `reason` why there are none."""

    metrics: dict[str, float] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)
    reason: str = ""
    definition_set: str = RECOMPUTE_SET


def recompute_runs(runs: list[RunRecord], settings: CheckpointSettings, progress: Callable[[int, int, str], None] | None = None) -> None:
    """Set `run.recomputed` for every run, and add a problem per disagreeing stored metric."""
    from vaeaudit.ternary_vae.data import all_operations, valuations

    trits, valuation = all_operations(), valuations()
    for index, run in enumerate(runs, start=1):
        run.recomputed = recompute_run(run, settings, trits, valuation)
        run.problems.extend(Problem("recompute-disagrees", message, INVALID) for message in run.recomputed.disagreements)
        if progress:
            progress(index, len(runs), run.name)


def recompute_run(run: RunRecord, settings: CheckpointSettings, trits: Any, valuation: Any) -> Recomputed:
    """Recompute one run's primary checkpoint and compare it with what it stored."""
    import torch

    from vaeaudit.ternary_vae.metrics import evaluate

    primary = run.primary
    if primary is None or not primary.loaded:
        return Recomputed(reason="no loadable checkpoint")
    if not primary.architecture_matches:
        summary = primary.architecture or "no weights"
        return Recomputed(reason=f"not rebuilt: {summary if len(summary) <= 90 else summary[:90] + '…'}")
    model = _rebuild(primary.path, settings)
    if isinstance(model, str):
        return Recomputed(reason=model)
    with torch.no_grad():
        metrics = evaluate(model, trits, valuation)
    sources = primary.fields.metric_sources
    disagreements = [
        f"stored {name} = {stored:.6g} ({sources[name]}) but its weights give {metrics[name]:.6g} under {RECOMPUTE_SET}"
        for name, stored in primary.fields.metrics.items()
        if name in metrics and not math.isclose(stored, metrics[name], rel_tol=REL_TOL, abs_tol=ABS_TOL)
    ]
    return Recomputed(metrics=metrics, disagreements=disagreements)


def _rebuild(path: Any, settings: CheckpointSettings) -> Any:
    """The model of one checkpoint in eval mode, or the reason it cannot be rebuilt."""
    from vaeaudit.ternary_vae.model import build_model

    outcome = safe_load.load_checkpoint(path, settings.policy)
    if outcome.verdict != safe_load.LOADED:
        return f"not rebuilt: {outcome.verdict}: {outcome.reason}"
    fields, state = extract_fields(outcome.obj, settings.aliases)
    try:
        model = build_model(fields.config or {})
        model.load_state_dict(state, strict=True)
    except (ValueError, KeyError, TypeError, RuntimeError) as error:
        return f"not rebuilt: {type(error).__name__}: {str(error)[:200]}"
    return model.eval()
