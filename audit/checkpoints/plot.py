"""Optional PNG of hierarchy_B vs richness with the Pareto front marked (needs matplotlib).

matplotlib is an optional extra (`vaeaudit[plot]`): without it the report says so and
links nothing, it does not fail.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from vaeaudit.atomic import atomic_path
from vaeaudit.checkpoints.rankings import is_ranked, pareto_front
from vaeaudit.checkpoints.records import RunRecord


def plotting_available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def write_pareto_plot(runs: list[RunRecord], destination: Path) -> bool:
    """Draw every ranked run with both metrics; False when there is nothing to plot."""
    points = [
        (run, run.metrics["hierarchy_B"], run.metrics["richness"])
        for run in runs
        if is_ranked(run) and {"hierarchy_B", "richness"} <= run.metrics.keys()
    ]
    if not points:
        return False
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    front = pareto_front(runs)
    figure, axes = pyplot.subplots(figsize=(7, 5))
    axes.scatter([h for _, h, _ in points], [r for _, _, r in points], color="0.6", label="valid, complete runs")
    axes.plot(
        [run.metrics["hierarchy_B"] for run in front],
        [run.metrics["richness"] for run in front],
        "o-",
        color="tab:red",
        label="Pareto front",
    )
    for run in front:
        axes.annotate(run.name, (run.metrics["hierarchy_B"], run.metrics["richness"]), fontsize=7)
    axes.set_xlabel("hierarchy_B (lower is better)")
    axes.set_ylabel("richness (higher is better)")
    axes.legend()
    figure.tight_layout()
    with atomic_path(destination) as temporary:
        figure.savefig(temporary, format="png", dpi=120)
    pyplot.close(figure)
    return True
