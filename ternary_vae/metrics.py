"""Evaluation metrics under two named definition sets, both stored in every checkpoint.

`vaeaudit-hyperbolic-v1` (`evaluate`, this project's): radius of a latent point =
`geometry.poincare_radius` (distance from the origin) of the posterior MEAN, never ‖z‖;
every metric over all 19,683 operations (`dist_corr` over a fixed sample of pairs, the same
in every run). Its diagnostics add the sampled hierarchy, the fraction of ops at the radius
cap and encoder B's σ.

`original-canonical-v1` (`evaluate_canonical`): a port of the original system's
`compute_comprehensive_metrics`, the numbers its trainer stored in best.pt: z sampled as
μ + ε·σ (its forward always sampled; coverage alone uses μ_A), radius = float32
artanh form of the Poincaré distance to the origin (geoopt's `dist(z, 0)`), richness = the
sum over levels with ≥ 2 members of the POPULATION variance, divided by 10, dist_corr =
Spearman of Euclidean ‖z_i − z_j‖ vs |v_i − v_j| over the pairs of 1,000 random ops.
Where the original drew ε and the 1,000 ops afresh each call, the port uses fixed seeds,
so a stored number can be recomputed exactly from the weights.

`METRICS_SPEC` names, versions and documents both; the trainer stores it as
`checkpoint["metrics_spec"]`.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import torch

from vaeaudit.ternary_vae import geometry
from vaeaudit.ternary_vae.data import LEVEL_SIZES, N_OPS, three_adic_valuation

if TYPE_CHECKING:
    from vaeaudit.ternary_vae.model import TernaryVAE

METRIC_NAMES = ("coverage", "hierarchy_A", "hierarchy_B", "richness", "r_v0", "r_v9", "dist_corr", "Q")
DIAGNOSTIC_NAMES = ("hierarchy_B_sampled", "at_cap", "sigma_B")
HIERARCHY_WEIGHT_IN_Q = 1.5
DIST_CORR_PAIRS = 20_000
DIST_CORR_SEED = 20_250_301
SAMPLING_SEED = 20_250_302  # ε of every sampled evaluation (both sets)
CANONICAL_DIST_CORR_OPS = 1_000
CANONICAL_DIST_CORR_SEED = 20_250_303
CANONICAL_RICHNESS_DIVISOR = 10  # the original divides by the number of levels, not of summed ones
CAP_TOLERANCE = 1e-3  # Euclidean: ‖z‖ ≥ max_radius − 1e-3 is "at the cap" (≈ 0.02 in Poincaré radius at 0.95)

OURS = "vaeaudit-hyperbolic-v1"
CANONICAL = "original-canonical-v1"
METRICS_SPEC: dict[str, dict[str, object]] = {
    OURS: {
        "name": "vaeaudit-hyperbolic",
        "version": 1,
        "stored_under": "metrics",
        "definitions": {
            "coverage": "fraction of the 19,683 operations whose 9 trits all decode exactly from encoder A's posterior mean",
            "hierarchy_A": "Spearman(3-adic valuation, Poincaré radius of encoder A's mean through the projection) over all ops",
            "hierarchy_B": "Spearman(3-adic valuation, Poincaré radius of encoder B's mean) over all ops; −0.83205 is the best a "
            "non-collapsed embedding can reach",
            "richness": "mean over the 9 valuation levels with ≥ 2 members of the unbiased within-level variance of encoder B's "
            "Poincaré radius (means)",
            "r_v0": "mean Poincaré radius of encoder B's means at valuation 0",
            "r_v9": "Poincaré radius of encoder B's mean at valuation 9 (operation 0)",
            "dist_corr": f"Spearman(Poincaré distance, 3-adic distance 3^−v(i−j)) over {DIST_CORR_PAIRS:,} fixed pairs of distinct "
            f"ops (seed {DIST_CORR_SEED}), encoder B's means",
            "Q": "dist_corr + 1.5·|hierarchy_B|",
            "hierarchy_B_sampled": f"hierarchy_B of z = μ_B + ε·σ_B (ε fixed, seed {SAMPLING_SEED}) through the projection",
            "at_cap": f"fraction of ops whose encoder-B mean lies within {CAP_TOLERANCE:g} (Euclidean norm) of the radius cap "
            "model.max_radius",
            "sigma_B": "mean over ops and latent dims of encoder B's posterior σ = exp(logvar/2)",
        },
    },
    CANONICAL: {
        "name": "original-canonical",
        "version": 1,
        "stored_under": "metrics_canonical",
        "source": "port of the original system's compute_comprehensive_metrics (what its trainer stored in best.pt)",
        "definitions": {
            "coverage": "as vaeaudit-hyperbolic-v1 (decoder(μ_A))",
            "hierarchy_A": "Spearman(valuation, radius) of encoder A's sampled z; radius = float32 (2/√c)·artanh(√c‖z‖)",
            "hierarchy_B": f"Spearman(valuation, radius) of encoder B's sampled z = μ + ε·σ (ε fixed, seed {SAMPLING_SEED})",
            "richness": "(Σ over the levels with ≥ 2 members of the population variance of B's sampled radius) / 10",
            "r_v0": "mean radius of B's sampled z at valuation 0",
            "r_v9": "radius of B's sampled z at valuation 9",
            "dist_corr": f"Spearman(Euclidean ‖z_i − z_j‖, |v_i − v_j|) over all pairs of {CANONICAL_DIST_CORR_OPS:,} ops "
            f"(fixed, seed {CANONICAL_DIST_CORR_SEED}), B's sampled z",
            "Q": "dist_corr + 1.5·|hierarchy_B|",
        },
    },
}


def _hierarchy_ceiling(level_sizes: tuple[int, ...]) -> float:
    """The best hierarchy a non-degenerate embedding can reach.

    With levels in non-overlapping radius bands, ordered, and distinct radii inside each
    level, the radius ranks are the valuation's average ranks broken apart within ties, and
    Spearman's ρ (Pearson on average ranks) is −√(1 − Σ(t³−t)/(N³−N)), t the level sizes.
    Going below it requires ties in the radius, i.e. collapsed levels.
    """
    total = sum(level_sizes)
    ties = sum(size**3 - size for size in level_sizes)
    return -math.sqrt(1.0 - ties / (total**3 - total))


HIERARCHY_CEILING = _hierarchy_ceiling(LEVEL_SIZES)  # ≈ −0.83205


def quality_score(dist_corr: float, hierarchy_B: float) -> float:
    """Q = dist_corr + 1.5·|hierarchy_B|, the original's single number for ranking runs."""
    return dist_corr + HIERARCHY_WEIGHT_IN_Q * abs(hierarchy_B)


def average_ranks(values: torch.Tensor) -> torch.Tensor:
    """1-based ranks of a 1-D tensor, ties sharing the mean of their ranks (float64)."""
    order = torch.argsort(values, stable=True)
    _, inverse, counts = torch.unique_consecutive(values[order], return_inverse=True, return_counts=True)
    group_end = counts.cumsum(0).to(torch.float64)
    group_rank = group_end - (counts.to(torch.float64) - 1.0) / 2.0
    ranks = torch.empty(values.shape[0], dtype=torch.float64)
    ranks[order] = group_rank[inverse]
    return ranks


def spearman(x: torch.Tensor, y: torch.Tensor) -> float:
    """Spearman's ρ with ties: Pearson's r between average ranks; 0.0 if either is constant."""
    return _pearson(average_ranks(x.detach().flatten().cpu()), average_ranks(y.detach().flatten().cpu()))


def _pearson(x: torch.Tensor, y: torch.Tensor) -> float:
    """Pearson's r of two float64 vectors (Spearman's ρ when they are average ranks)."""
    x, y = x - x.mean(), y - y.mean()
    scale = math.sqrt(float(x.square().sum()) * float(y.square().sum()))
    return float((x * y).sum()) / scale if scale > 0 else 0.0


def hierarchy(radius: torch.Tensor, valuation: torch.Tensor) -> float:
    """Spearman(valuation, radius) over all ops; −0.83205 is the non-degenerate best."""
    return spearman(valuation, radius)


def richness(radius: torch.Tensor, valuation: torch.Tensor) -> float:
    """Mean over levels with ≥ 2 members of the within-level variance of the radius
    (unbiased, as torch.var); 0 means every level collapsed onto a single radius."""
    variances = [radius[valuation == level].double().var().item() for level, size in enumerate(LEVEL_SIZES) if size >= 2]
    return sum(variances) / len(variances)


@functools.cache
def _dist_corr_pairs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The fixed sample of distinct op pairs (i, j) `dist_corr` uses, with ranks of 3^(−v(i−j))."""
    generator = torch.Generator().manual_seed(DIST_CORR_SEED)
    first = torch.randint(N_OPS, (DIST_CORR_PAIRS,), generator=generator)
    second = (first + torch.randint(1, N_OPS, (DIST_CORR_PAIRS,), generator=generator)) % N_OPS
    three_adic = torch.pow(3.0, -three_adic_valuation(first - second).to(torch.float64))
    return first, second, average_ranks(three_adic)


def dist_corr(points: torch.Tensor, curvature: float) -> float:
    """Spearman's ρ between latent and 3-adic distances over a fixed sample of op pairs.

    For each of DIST_CORR_PAIRS distinct pairs (i, j), drawn once with seed DIST_CORR_SEED:
    the latent distance is `geometry.poincare_distance(z_i, z_j)` and the 3-adic distance is
    3^(−v(i−j)). Positive means ops that are 3-adically close are close in the ball.
    """
    first, second, three_adic_ranks = _dist_corr_pairs()
    latent = geometry.poincare_distance(points[first].double(), points[second].double(), c=curvature)
    return _pearson(average_ranks(latent.detach().cpu()), three_adic_ranks)


def radial_metrics(points_A: torch.Tensor, points_B: torch.Tensor, valuation: torch.Tensor, curvature: float) -> dict[str, float]:
    """Everything except coverage, from the ball points of both encoders for all ops."""
    radius_A = geometry.poincare_radius(points_A.double(), c=curvature)
    radius_B = geometry.poincare_radius(points_B.double(), c=curvature)
    hierarchy_B = hierarchy(radius_B, valuation)
    correlation = dist_corr(points_B, curvature)
    return {
        "hierarchy_A": hierarchy(radius_A, valuation),
        "hierarchy_B": hierarchy_B,
        "richness": richness(radius_B, valuation),
        "r_v0": radius_B[valuation == 0].mean().item(),
        "r_v9": radius_B[valuation == 9].mean().item(),
        "dist_corr": correlation,
        "Q": quality_score(correlation, hierarchy_B),
    }


def _sampled(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = μ + ε·σ with the fixed evaluation ε (drawn on the CPU, so every device agrees)."""
    noise = torch.randn(mu.shape, generator=torch.Generator().manual_seed(SAMPLING_SEED))
    return mu + noise.to(mu.device, mu.dtype) * (0.5 * logvar).exp()


def _coverage(model: TernaryVAE, trits: torch.Tensor, mu_A: torch.Tensor) -> float:
    decoded = model.decoder(mu_A).argmax(dim=-1) - 1
    return (decoded == trits.long()).all(dim=-1).double().mean().item()


def fraction_at_cap(points: torch.Tensor, max_radius: float) -> float:
    """Share of points whose Euclidean norm is within CAP_TOLERANCE of the cap `max_radius`."""
    return (points.double().norm(dim=-1) >= max_radius - CAP_TOLERANCE).double().mean().item()


@torch.no_grad()
def encode_all(model: TernaryVAE, trits: torch.Tensor) -> dict[str, torch.Tensor]:
    """μ and log σ² of both encoders for `trits` in eval mode (one pass each, shared by
    both definition sets)."""
    was_training = model.training
    model.eval()
    mu_A, logvar_A = model.encoder_A(trits)
    mu_B, logvar_B = model.encoder_B(trits)
    model.train(was_training)
    return {"mu_A": mu_A, "logvar_A": logvar_A, "mu_B": mu_B, "logvar_B": logvar_B}


@torch.no_grad()
def evaluate(
    model: TernaryVAE, trits: torch.Tensor, valuation: torch.Tensor, encodings: dict[str, torch.Tensor] | None = None
) -> dict[str, float]:
    """vaeaudit-hyperbolic-v1 for `model` on all ops: METRIC_NAMES + DIAGNOSTIC_NAMES, floats.

    Posterior means (eval mode); coverage = fraction of ops whose 9 trits all decode
    exactly from encoder A's mean; hierarchy_A is encoder A's means through the same ball
    projection (a diagnostic: phase 2 trains only encoder B); the other radial metrics use B.
    `trits` may live on any device; metrics are computed on the CPU in float64.
    `encodings` (from `encode_all` for the same model and trits) saves the encoder passes.
    """
    return evaluate_both(model, trits, valuation, encodings)[0]


@torch.no_grad()
def evaluate_canonical(
    model: TernaryVAE, trits: torch.Tensor, valuation: torch.Tensor, encodings: dict[str, torch.Tensor] | None = None
) -> dict[str, float]:
    """original-canonical-v1 (see the module docstring) for `model` on all ops: METRIC_NAMES."""
    return evaluate_both(model, trits, valuation, encodings)[1]


@torch.no_grad()
def evaluate_both(
    model: TernaryVAE, trits: torch.Tensor, valuation: torch.Tensor, encodings: dict[str, torch.Tensor] | None = None
) -> tuple[dict[str, float], dict[str, float]]:
    """(vaeaudit-hyperbolic-v1, original-canonical-v1) sharing the encoder passes, the
    coverage decode and the one fixed sample of encoder B."""
    was_training = model.training
    model.eval()
    codes = encodings if encodings is not None else encode_all(model, trits)
    valuation = valuation.cpu()
    coverage = _coverage(model, trits, codes["mu_A"])
    points_B = model.projection(codes["mu_B"]).cpu()
    sampled_A = model.projection(_sampled(codes["mu_A"], codes["logvar_A"])).cpu()
    sampled_B = model.projection(_sampled(codes["mu_B"], codes["logvar_B"])).cpu()
    ours = {
        "coverage": coverage,
        **radial_metrics(model.projection(codes["mu_A"]).cpu(), points_B, valuation, model.curvature),
        "hierarchy_B_sampled": hierarchy(geometry.poincare_radius(sampled_B.double(), c=model.curvature), valuation),
        "at_cap": fraction_at_cap(points_B, model.max_radius),
        "sigma_B": (0.5 * codes["logvar_B"]).exp().mean().item(),
    }
    radius_A, radius_B = canonical_radius(sampled_A, model.curvature), canonical_radius(sampled_B, model.curvature)
    hierarchy_B = hierarchy(radius_B, valuation)
    correlation = canonical_dist_corr(sampled_B)
    canonical = {
        "coverage": coverage,
        "hierarchy_A": hierarchy(radius_A, valuation),
        "hierarchy_B": hierarchy_B,
        "richness": canonical_richness(radius_B, valuation),
        "r_v0": radius_B[valuation == 0].double().mean().item(),
        "r_v9": radius_B[valuation == 9].double().mean().item(),
        "dist_corr": correlation,
        "Q": quality_score(correlation, hierarchy_B),
    }
    model.train(was_training)
    return {name: ours[name] for name in (*METRIC_NAMES, *DIAGNOSTIC_NAMES)}, canonical


@torch.no_grad()
def level_table(model: TernaryVAE, trits: torch.Tensor, valuation: torch.Tensor) -> list[dict[str, float]]:
    """Per valuation level: op count and min/mean/max/unbiased variance of the Poincaré
    radius of encoder B's means (what the rich-hierarchy loss shapes)."""
    was_training = model.training
    model.eval()
    radius = geometry.poincare_radius(model.projection(model.encoder_B(trits)[0]).cpu().double(), c=model.curvature)
    model.train(was_training)
    rows = []
    for level in range(len(LEVEL_SIZES)):
        members = radius[valuation.cpu() == level]
        spread = members.var().item() if len(members) > 1 else 0.0
        rows.append(
            {
                "v": level,
                "ops": len(members),
                "min": members.min().item(),
                "mean": members.mean().item(),
                "max": members.max().item(),
                "var": spread,
            }
        )
    return rows


# ----------------------------------------------------------------------------- original-canonical-v1


def canonical_radius(points: torch.Tensor, curvature: float) -> torch.Tensor:
    """The original's radius: geoopt's PoincareBall(c).dist(z, 0) in float32, i.e.
    (2/√c)·artanh(√c‖z‖) with artanh's argument clamped below 1 as geoopt does."""
    sqrt_c = math.sqrt(curvature)
    scaled = (sqrt_c * points.float().norm(dim=-1)).clamp(max=1.0 - 1e-7)
    return 2.0 / sqrt_c * torch.atanh(scaled)


def canonical_richness(radius: torch.Tensor, valuation: torch.Tensor) -> float:
    """(Σ over levels with ≥ 2 members of the population variance of the radius) / 10."""
    total = 0.0
    for level in range(len(LEVEL_SIZES)):
        members = radius[valuation == level].double()
        if len(members) >= 2:
            total += members.var(correction=0).item()
    return total / CANONICAL_RICHNESS_DIVISOR


@functools.cache
def _canonical_pairs() -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed 1,000 ops and the average ranks of |v_i − v_j| over their pairs i < j
    (in `torch.nn.functional.pdist` order)."""
    generator = torch.Generator().manual_seed(CANONICAL_DIST_CORR_SEED)
    ops = torch.randperm(N_OPS, generator=generator)[:CANONICAL_DIST_CORR_OPS]
    first, second = torch.triu_indices(len(ops), len(ops), offset=1)
    level = three_adic_valuation(ops)
    return ops, average_ranks((level[first] - level[second]).abs())


def canonical_dist_corr(points: torch.Tensor) -> float:
    """Spearman(Euclidean ‖z_i − z_j‖, |v_i − v_j|) over all pairs i < j of the fixed 1,000 ops."""
    ops, level_gap_ranks = _canonical_pairs()
    euclidean = torch.nn.functional.pdist(points[ops].double())
    return _pearson(average_ranks(euclidean), level_gap_ranks)
