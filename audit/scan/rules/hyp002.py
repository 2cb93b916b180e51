"""HYP002: the Euclidean distance between ball points."""

from __future__ import annotations

from vaeaudit.scan.rules import BENCHMARK_PRECISION, Rule

RULE = Rule(
    code="HYP002",
    name="euclidean-distance-between-ball-points",
    summary="Euclidean distance between Poincaré-ball points",
    what=(
        "A Euclidean distance between tensors of which at least one holds Poincaré-ball points: the norm "
        "of a difference (`(a - b).norm()`, `torch.norm(a - b)`, `sqrt(((a - b)**2).sum(-1))`), "
        "`torch.dist`, `torch.cdist`, `torch.pdist`, `F.pairwise_distance`, SciPy's `euclidean`, "
        "`cdist` (Euclidean metric) and `pdist`, scikit-learn's pairwise distances, and `math.dist` of coordinates "
        "taken out as floats (`z.tolist()`)."
    ),
    why=(
        "Near the boundary, points that are close in Euclidean terms are far apart hyperbolically: the "
        "Poincaré distance is d(x, y) = (2/√c)·asinh(√c‖x−y‖ / √((1−c‖x‖²)(1−c‖y‖²))). Pairwise-distance "
        "metrics, nearest neighbours, clustering and distance correlations computed with the Euclidean "
        "formula silently ignore the curvature the model was trained with."
    ),
    example=("from vaeaudit.geometry import exp_map_zero\n\nz = exp_map_zero(mu)\nd = torch.cdist(z, z)  # HYP002\n"),
    fix="Use `poincare_distance(x, y, c=...)` for paired points and `poincare_distance_matrix(x, y, c=...)` for all pairs.",
    fixed_example=(
        "from vaeaudit.geometry import exp_map_zero, poincare_distance_matrix\n"
        "\n"
        "z = exp_map_zero(mu)\n"
        "d = poincare_distance_matrix(z, z, c=curvature)\n"
    ),
    fix_safety=(
        "Safe when the geometry is certain: points of one geoopt ball object the scan follows (or the fixer finds, "
        "`Scaled` included) become that object's "
        "`M.dist(x, y)` (all pairs of `torch.cdist(x, y)`: `M.dist(x.unsqueeze(-2), y.unsqueeze(-3))`), else "
        "`poincare_distance` with a curvature found in the code or stated in the configuration. Unsafe: an unknown "
        "curvature, and margins or losses mixing the result with Euclidean-scale values (hyperbolic distances are "
        "larger and unbounded); `pdist`, scikit-learn's and hand-written pairwise forms and `math.dist` are reported without "
        "a fix."
    ),
    options=(
        "`producers`, `sanitizers`, `projection-classes`, `name-patterns`, `key-patterns`, "
        "`euclidean-patterns` (what counts as a ball point), `min-confidence`; see `vaeaudit scan --show-settings`."
    ),
    trigger_words=(b"norm", b"dist", b"sqrt", b"euclidean", b"pow", b"square"),
    message=lambda x, y=None, within=False, **_: (
        f"Euclidean pairwise distances within ball points `{x}`; use poincare_distance_matrix"
        if within or y is None
        else f"Euclidean distance between ball points `{x}` and `{y}`; use poincare_distance"
    ),
    precision=BENCHMARK_PRECISION,
)
