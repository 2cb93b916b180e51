"""The one table that maps the metric names stored in checkpoints to the names we report.

Each system and version spelled its metrics differently, and a report that reads only
one spelling silently shows nothing for the others (84 files of the original system's
v5.11 era store hierarchy as `radial_corr_B`). Every stored metric is read through this
table, first alias found wins, and the report says which key each number came from.

    reported       stored keys, in the order they are tried
    coverage       coverage, coverage_A, cov, coverage_B
    hierarchy_A    hierarchy_A, hier_A, radial_corr_A
    hierarchy_B    hierarchy_B, hier_B, radial_corr_B, hierarchy, radial_corr
    richness       richness, richness_B
    r_v0           r_v0, r_v0_B, radius_v0, radius_v0_B
    r_v9           r_v9, r_v9_B, radius_v9, radius_v9_B
    dist_corr      dist_corr, dist_corr_B, distance_corr_B, distance_corr, distance_correlation
    Q              Q, Q_B, q

Each key is looked up under `metrics`, then at the top level, then as the last entry of
`<key>_history`. `richness_A` is not an alias: it is encoder A's richness, a different
quantity from the reported (encoder B) one. A project can replace any row with
`[tool.vaeaudit.checkpoints.metric-aliases]`, e.g. `hierarchy_B = ["hier_b", "hierarchy_B"]`.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_ALIASES: dict[str, tuple[str, ...]] = {
    "coverage": ("coverage", "coverage_A", "cov", "coverage_B"),
    "hierarchy_A": ("hierarchy_A", "hier_A", "radial_corr_A"),
    "hierarchy_B": ("hierarchy_B", "hier_B", "radial_corr_B", "hierarchy", "radial_corr"),
    "richness": ("richness", "richness_B"),
    "r_v0": ("r_v0", "r_v0_B", "radius_v0", "radius_v0_B"),
    "r_v9": ("r_v9", "r_v9_B", "radius_v9", "radius_v9_B"),
    "dist_corr": ("dist_corr", "dist_corr_B", "distance_corr_B", "distance_corr", "distance_correlation"),
    "Q": ("Q", "Q_B", "q"),
}
METRIC_NAMES = tuple(DEFAULT_ALIASES)


def alias_table(overrides: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, tuple[str, ...]]:
    """The default table with configured rows replaced (names already validated)."""
    return {name: tuple((overrides or {}).get(name, aliases)) for name, aliases in DEFAULT_ALIASES.items()}
