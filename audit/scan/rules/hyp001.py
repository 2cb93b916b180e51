"""HYP001: the Euclidean norm of a ball point used as its radius."""

from __future__ import annotations

from vaeaudit.scan.rules import BENCHMARK_PRECISION, Rule

RULE = Rule(
    code="HYP001",
    name="euclidean-norm-as-radius",
    summary="Euclidean norm of a Poincaré-ball point used as its radius",
    what=(
        "A Euclidean norm (`torch.norm`, `Tensor.norm`, `torch.linalg.norm`, `torch.linalg.vector_norm`, "
        "`numpy.linalg.norm`, or a hand-written `sqrt(sum(z**2))`) taken of a tensor that holds points "
        "of the Poincaré ball: outputs of `exp_map_zero`/`expmap0`/`projx`/projection modules, values read "
        "under keys like `'z_hyp'`, parameters annotated or documented as hyperbolic points, and names that "
        "say so. Norms that implement hyperbolic math (feeding `artanh`/`tanh` or the conformal factor), "
        "projections and clamps against the boundary or `max_norm`, ball-membership and convergence checks, "
        "direction normalisation `z / z.norm()`, radii that only rank points (`argsort`, a sort key, a zipped "
        "element sorted by and then dropped), and values printed or plotted under a label that calls them "
        "Euclidean are not reported."
    ),
    why=(
        "The Euclidean norm r of a ball point is not its distance from the origin: the hyperbolic radius "
        "is d = (2/√c)·artanh(√c·r), which grows without bound as r approaches the boundary 1/√c. Averages, "
        "variances, thresholds and correlations computed on r measure the wrong geometry (only rank "
        "statistics such as Spearman's ρ are unchanged). Thresholds written for r do NOT carry over to d: "
        "re-derive them when you fix the call."
    ),
    example=("from vaeaudit.geometry import exp_map_zero\n\nz = exp_map_zero(mu)\nradius = torch.norm(z, dim=-1)  # HYP001\n"),
    fix="Measure the radius as the hyperbolic distance to the origin (`vaeaudit fix` writes this for you).",
    fixed_example=(
        "from vaeaudit.geometry import exp_map_zero, poincare_distance\n"
        "\n"
        "z = exp_map_zero(mu)\n"
        "radius = poincare_distance(z, torch.zeros_like(z), c=curvature)\n"
    ),
    fix_safety=(
        "Safe when the geometry is certain: a point made on a geoopt ball object the scan follows (`ball`, "
        "`self.manifold`, `code_emb.manifold` for `code_emb.emb`, across modules), or that the fixer finds in the "
        "module (a geoopt ball, `Scaled(ball, s)`, a parameter annotated as one; points read back through copies, dict "
        "stores, identity helpers and centroids), becomes that object's own "
        "`M.dist0(z)` (`dim=`, `keepdim=` kept; numpy reads measured as tensors and read out the same way), with no "
        "curvature to guess and a learnable c kept; otherwise `poincare_radius(z, c=...)` with a curvature found in the "
        "code (the producer, a manifold's c, a documented parameter, a configured key) or stated in the configuration, "
        "and Euclidean thresholds converted (`r < 0.9`; a threshold spelled as a call, `torch.lt(r, 0.9)`, is not). "
        "Unsafe (applied only with `--unsafe-fixes`): an unknown curvature, a curvature only the helper's callers "
        "prove (every call the scan saw passes points of one fixed-c ball; unseen calls may not), and "
        "arithmetic with Euclidean-scale quantities (`(r - target) ** 2`), since the fixed value is a hyperbolic "
        "radius d = (2/√c)·artanh(√c·r), not r. A `Scaled` manifold's radius is s times the ball's: thresholds on "
        "it are not converted (unsafe). Only geoopt classes count (hypll's or a project's `PoincareBall` may keep c "
        "elsewhere)."
    ),
    options=(
        "`producers`, `sanitizers`, `projection-classes`, `name-patterns`, `key-patterns`, "
        "`euclidean-patterns` (what counts as a ball point), `min-confidence`; see `vaeaudit scan --show-settings`."
    ),
    trigger_words=(b"norm", b"sqrt", b"pow", b"square"),
    message=lambda x, **_: f"Euclidean norm of ball point `{x}` used as a radius; use poincare_distance to the origin",
    precision=BENCHMARK_PRECISION,
)
