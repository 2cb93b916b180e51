"""Named metric definition sets: what a number means, so numbers can be compared.

The original system's published numbers mix three definitions (its trainer's canonical
metrics with sampled z and geoopt radii, its quick per-epoch metrics with Euclidean ‖z‖,
a re-analysis script mixing encoders); a stored number is only as comparable as the
code that wrote it. This project's trainer and `report --recompute` use one set,
`vaeaudit-hyperbolic-v1`, the one `vaeaudit.ternary_vae.metrics.evaluate` computes.
"""

from __future__ import annotations

RECOMPUTE_SET = "vaeaudit-hyperbolic-v1"

DEFINITION_SETS: dict[str, dict[str, str]] = {
    RECOMPUTE_SET: {
        "coverage": "fraction of the 19,683 operations whose 9 trits all decode exactly from encoder A's posterior mean",
        "hierarchy_A": "Spearman(3-adic valuation, Poincaré radius of encoder A's mean) over all 19,683 operations",
        "hierarchy_B": (
            "Spearman(3-adic valuation, Poincaré radius of encoder B's mean) over all 19,683 operations; "
            "−0.83205 is the best a non-collapsed embedding can reach"
        ),
        "richness": "mean over valuation levels with ≥ 2 members of the within-level variance of encoder B's Poincaré radius",
        "r_v0": "mean Poincaré radius (distance to the origin) of encoder B's means at valuation 0",
        "r_v9": "mean Poincaré radius of encoder B's mean at valuation 9 (operation 0)",
        "dist_corr": "Spearman(Poincaré distance, 3-adic distance 3^−v(i−j)) over 20,000 fixed operation pairs",
        "Q": "dist_corr + 1.5·|hierarchy_B|",
    },
}
STORED_CAVEAT = (
    "Stored numbers were computed by the code that wrote the checkpoint; unless that was this project's trainer "
    f"({RECOMPUTE_SET}), their definition is not known from the file alone (`vaeaudit checkpoints report --recompute` "
    "recomputes them under one set)."
)
