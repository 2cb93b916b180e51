"""A README for one run folder: purpose, config, metrics with their definitions, validation.

The original audit's first recommendation was that every run says what it is for and
whether it can be trusted. `vaeaudit train` writes one when a run ends and
`vaeaudit checkpoints report --write-readmes` writes the missing ones for old runs, both
through `write_run_readme` and templates/run_readme.md.j2. An existing README is never
replaced unless asked: it may hold notes a person wrote.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vaeaudit.atomic import atomic_write_text
from vaeaudit.checkpoints.bounded import preview
from vaeaudit.checkpoints.definitions import DEFINITION_SETS, RECOMPUTE_SET, STORED_CAVEAT
from vaeaudit.checkpoints.metric_names import METRIC_NAMES
from vaeaudit.checkpoints.records import RunRecord
from vaeaudit.render import render

README_NAME = "README.md"
CONFIG_LIMIT = 6_000
PURPOSES = {
    "PRODUCTION": "A production run: a released model version others build on.",
    "HOMEOSTATIC_EXPERIMENT": "An experiment with homeostatic or structural training controls.",
    "SWEEP_TEST": "One point of a hyperparameter sweep or stability test.",
    "TEST": "A test, validation or debugging run; not meant to be used.",
    "TRAINING_EXPERIMENT": "An experiment with the training schedule (progressive, annealing, learnable parameters).",
    "LOSS_EXPERIMENT": "An experiment with the losses (radial, hierarchy, richness).",
    "FINAL_PUSH": "A final-push or from-scratch run.",
    "TRAINER_RUN": "A run of `vaeaudit train` under its default name.",
}


def write_run_readme(
    run_dir: Path,
    *,
    purpose: str | None = None,
    category: str = "",
    rule: str = "",
    status: str = "",
    status_reason: str = "",
    verdict: str = "not validated",
    reasons: Sequence[str] = (),
    metrics: Mapping[str, float] | None = None,
    metric_sources: Mapping[str, str] | None = None,
    checkpoint: str = "",
    epoch: int | None = None,
    config: Any = None,
    definition_set: str = RECOMPUTE_SET,
    overwrite: bool = False,
) -> Path | None:
    """Write `run_dir`/README.md atomically; None (and nothing written) when one exists
    and `overwrite` is False. `metric_sources` names the stored key of each metric
    (default: the metric's own name); `purpose` defaults to one derived from `category`."""
    destination = run_dir / README_NAME
    if not overwrite and any(path.name.lower().startswith("readme") for path in run_dir.iterdir()):
        return None
    from vaeaudit import __version__

    metrics = metrics or {}
    sources = metric_sources or {}
    definitions = DEFINITION_SETS.get(definition_set, {})
    config_text = preview(config, CONFIG_LIMIT) if config is not None else ""
    text = render(
        "run_readme.md.j2",
        name=run_dir.name,
        purpose=purpose or PURPOSES.get(category, "Purpose not recorded: say here what this run was for."),
        category=category or "not classified",
        rule=rule,
        status=status or "unknown",
        status_reason=status_reason,
        verdict=verdict,
        reasons=list(reasons),
        checkpoint=checkpoint or "none",
        epoch=epoch,
        generated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        version=__version__,
        metric_rows=[
            (name, f"{metrics[name]:.6g}", sources.get(name, name), definitions.get(name, "as stored"))
            for name in METRIC_NAMES
            if name in metrics
        ],
        definition_set=definition_set,
        caveat=STORED_CAVEAT,
        config=config_text,
        fence="`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", config_text)), default=0)),
    )
    atomic_write_text(destination, text)
    return destination


def write_missing_readmes(runs: Sequence[RunRecord]) -> tuple[list[Path], list[str]]:
    """A README for every audited run that has checkpoints and none yet.

    Returns (written paths, one message per run folder that could not be written).
    """
    from vaeaudit.checkpoints.report import run_reasons

    written, failures = [], []
    for run in runs:
        primary = run.primary
        if primary is None or run.has_readme:
            continue
        try:
            path = write_run_readme(
                run.path,
                category=run.category,
                rule=run.rule,
                status=run.status,
                status_reason=run.status_reason,
                verdict=run.verdict,
                reasons=run_reasons(run),
                metrics=primary.fields.metrics,
                metric_sources=primary.fields.metric_sources,
                checkpoint=primary.path.relative_to(run.path).as_posix(),
                epoch=primary.fields.epoch,
                config=primary.fields.config,
            )
        except OSError as error:
            failures.append(f"{run.path / README_NAME}: cannot write: {error.strerror or error}")
            continue
        if path is not None:
            run.has_readme = True
            written.append(path)
    return written, failures
