"""The original system's evaluation metrics, with radii and distances measured hyperbolically.

Radius of a latent point = `geometry.poincare_radius` (distance from the origin), never ‖z‖.
Every metric is computed over all 19,683 operations, so it is exact, not a sample estimate
(except `dist_corr`, which uses a fixed sample of pairs, the same in every run).
"""

from __future__ import annotations

import functools
import math

import torch

from vaeaudit.ternary_vae import geometry
from vaeaudit.ternary_vae.data import LEVEL_SIZES, N_OPS, three_adic_valuation

METRIC_NAMES = ("coverage", "hierarchy_A", "hierarchy_B", "richness", "r_v0", "r_v9", "dist_corr", "Q")
HIERARCHY_WEIGHT_IN_Q = 1.5
DIST_CORR_PAIRS = 20_000
DIST_CORR_SEED = 20_250_301


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
    rank_x = average_ranks(x.detach().flatten().cpu())
    rank_y = average_ranks(y.detach().flatten().cpu())
    rank_x, rank_y = rank_x - rank_x.mean(), rank_y - rank_y.mean()
    scale = math.sqrt(float(rank_x.square().sum()) * float(rank_y.square().sum()))
    return float((rank_x * rank_y).sum()) / scale if scale > 0 else 0.0


def hierarchy(radius: torch.Tensor, valuation: torch.Tensor) -> float:
    """Spearman(valuation, radius) over all ops; −0.83205 is the non-degenerate best."""
    return spearman(valuation, radius)


def richness(radius: torch.Tensor, valuation: torch.Tensor) -> float:
    """Mean over levels with ≥ 2 members of the within-level variance of the radius
    (unbiased, as torch.var); 0 means every level collapsed onto a single radius."""
    variances = [
        radius[valuation == level].double().var().item()
        for level, size in enumerate(LEVEL_SIZES)
        if size >= 2
    ]
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
    return spearman(latent, three_adic_ranks)


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


@torch.no_grad()
def evaluate(model: torch.nn.Module, trits: torch.Tensor, valuation: torch.Tensor) -> dict[str, float]:
    """All METRIC_NAMES for `model` on all ops, as plain floats (eval mode, posterior means).

    coverage = fraction of ops whose 9 trits all decode exactly from encoder A's mean.
    hierarchy_A is the hierarchy of encoder A's means through the same ball projection
    (a diagnostic: phase 2 trains only encoder B's radii); all other radial metrics use B.
    """
    was_training = model.training
    model.eval()
    mu_A, _ = model.encoder_A(trits)
    mu_B, _ = model.encoder_B(trits)
    decoded = model.decoder(mu_A).argmax(dim=-1) - 1
    coverage = (decoded == trits.long()).all(dim=-1).double().mean().item()
    metrics = {"coverage": coverage, **radial_metrics(model.projection(mu_A), model.projection(mu_B), valuation, model.curvature)}
    model.train(was_training)
    return {name: metrics[name] for name in METRIC_NAMES}
