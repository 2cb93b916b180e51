"""HYP003: a squared Euclidean distance or mean squared error between ball points."""

from __future__ import annotations

from vaeaudit.scan.rules import BENCHMARK_PRECISION, Rule

RULE = Rule(
    code="HYP003",
    name="squared-euclidean-distance-between-ball-points",
    summary="Squared Euclidean distance or mean squared error between Poincaré-ball points",
    what=(
        "A squared Euclidean distance between tensors of which at least one holds Poincaré-ball points, "
        "written without a square root: `((a - b) ** 2).sum(-1)`, `((a - b) * (a - b)).sum(-1)`, `(a - b).pow(2).mean()`, "
        "`torch.sum((a - b) ** 2, dim=-1)`, `F.mse_loss(a, b)`, or a call of an `nn.MSELoss()` module "
        "(`criterion = nn.MSELoss()` ... `criterion(a, b)`, also as `self.criterion`). Squared differences that feed "
        "hyperbolic math (`acosh`, `asinh`, the conformal factor) implement the geometry and are not reported."
    ),
    why=(
        "Reconstruction, alignment and distillation losses between latent codes are often written as MSE. "
        "On the ball this pulls points together by their Euclidean gap, which shrinks towards the boundary: "
        "two codes far apart hyperbolically cost almost nothing, so the loss ignores exactly the deep-hierarchy "
        "region the model is meant to use."
    ),
    example=(
        "z_student = exp_map_zero(mu_student)\nz_teacher = exp_map_zero(mu_teacher)\nloss = F.mse_loss(z_student, z_teacher)  # HYP003\n"
    ),
    fix=(
        "Use the squared hyperbolic distance (or the distance itself) as the loss; "
        "`vaeaudit fix` does not rewrite this rule, because a loss's scale changes."
    ),
    fixed_example=(
        "z_student = exp_map_zero(mu_student)\n"
        "z_teacher = exp_map_zero(mu_teacher)\n"
        "loss = poincare_distance(z_student, z_teacher, c=curvature).pow(2).mean()\n"
    ),
    fix_safety=("No automatic fix: replacing a loss changes its scale and gradients; rewrite it by hand."),
    options=(
        "`producers`, `sanitizers`, `projection-classes`, `name-patterns`, `key-patterns`, "
        "`euclidean-patterns` (what counts as a ball point), `min-confidence`; see `vaeaudit scan --show-settings`."
    ),
    trigger_words=(b"mse_loss", b"mseloss", b"pow", b"square"),
    message=lambda x, y=None, within=False, **_: (
        f"Squared Euclidean distance {'pairwise within `' + x + '`' if within else f'between ball points `{x}` and `{y}`'}"
        "; use poincare_distance(...) ** 2"
    ),
    precision=BENCHMARK_PRECISION,
)
