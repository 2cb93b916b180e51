"""`checkpoints report --recompute`: one yardstick for every run whose model can be rebuilt.

Stored metrics come from whatever code wrote them (three definitions in the original
system alone), so runs are compared here on numbers recomputed from their weights. The
run's primary checkpoint is scanned and weights-only loaded again by our safe loader; only
if that passes is it rebuilt with the trainer's public `vaeaudit.ternary_vae.load_model`
(weights-only, strict, eval mode), under the same granted globals. Every metric of the
named definition set (`definitions.RECOMPUTE_SET`) is then computed over all 19,683
operations with `vaeaudit.ternary_vae.metrics.evaluate`, the function whose numbers the
trainer stores (its radial metrics are those of `vaeaudit.ternary_vae.embed`'s
posterior-mean points). A stored metric that disagrees
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
from vaeaudit.checkpoints.records import INVALID, Problem, RunRecord
from vaeaudit.checkpoints.settings import CheckpointSettings

REL_TOL = 1e-3
ABS_TOL = 1e-4


@dataclass(frozen=True)
class Disagreement:
    """A stored metric (read from `key`) that its checkpoint's weights do not give."""

    metric: str
    stored: float
    key: str
    recomputed: float


@dataclass
class Recomputed:
    """One run under the yardstick: recomputed metrics, or `reason` why there are none."""

    metrics: dict[str, float] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)
    reason: str = ""
    definition_set: str = RECOMPUTE_SET

    def summary(self) -> str:
        """One line: which stored metrics disagree, stored → recomputed."""
        parts = "; ".join(f"{d.metric} {d.stored:.6g} ({d.key}) → {d.recomputed:.6g}" for d in self.disagreements)
        return f"{len(self.disagreements)} stored metric(s) disagree with its weights under {self.definition_set}: {parts}"


def recompute_runs(runs: list[RunRecord], settings: CheckpointSettings, progress: Callable[[int, int, str], None] | None = None) -> None:
    """Set `run.recomputed` for every run, and add a problem per disagreeing stored metric."""
    from vaeaudit.ternary_vae.data import all_operations, valuations

    trits, valuation = all_operations(), valuations()
    for index, run in enumerate(runs, start=1):
        run.recomputed = recompute_run(run, settings, trits, valuation)
        if run.recomputed.disagreements:
            run.problems.append(Problem("recompute-disagrees", run.recomputed.summary(), INVALID))
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
    disagreements = [
        Disagreement(name, stored, primary.fields.metric_sources[name], metrics[name])
        for name, stored in primary.fields.metrics.items()
        if name in metrics and not math.isclose(stored, metrics[name], rel_tol=REL_TOL, abs_tol=ABS_TOL)
    ]
    return Recomputed(metrics=metrics, disagreements=disagreements)


def _rebuild(path: Any, settings: CheckpointSettings) -> Any:
    """The model of one checkpoint in eval mode, or the reason it cannot be rebuilt."""
    from vaeaudit.ternary_vae import load_model

    outcome = safe_load.load_checkpoint(path, settings.policy)
    if outcome.verdict != safe_load.LOADED or outcome.imports is None:
        return f"not rebuilt: {outcome.verdict}: {outcome.reason}"
    try:
        with safe_load.granted_globals(outcome.imports, settings.policy):
            return load_model(path)
    except Exception as error:  # load_model raises ValueError, RuntimeError, UnpicklingError, ... for files it cannot use
        return f"not rebuilt: {type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
