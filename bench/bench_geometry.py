"""Accuracy and speed of vaeaudit.geometry next to geoopt, in one run.

    .venv/bin/python bench/bench_geometry.py [--repeats 5] [--pairs 200]

Prints (1) the max relative error against mpmath (60 digits, on the exact float32
coordinates) by dist0 bucket, (2) median wall times and ours/geoopt ratios, (3) the
radial gradient d/d‖u‖ dist0(exp_map_zero(u)) in float32, which should be 2. geoopt is
an optional dependency (`pip install -e '.[bench]'`); without it only our column prints.
A benchmark, not a test: the suite asserts accuracy, never time.
"""

from __future__ import annotations

import argparse

import mpmath
import torch
from timing import median_seconds

from vaeaudit.ternary_vae import geometry as g

BUCKETS = (1, 3, 6, 9, 12, 15)
RADIAL_LENGTHS = (3.0, 4.0, 6.0)

try:
    import geoopt
except ImportError:  # optional: the bench still reports our own figures
    geoopt = None


def peer_functions():
    """geoopt's unit ball as the user-facing manifold API exposes it, or None."""
    if geoopt is None:
        return None
    ball = geoopt.PoincareBall(c=1.0)
    return {
        "distance": ball.dist,
        "radius": ball.dist0,
        "matrix": lambda x, y: ball.dist(x.unsqueeze(-2), y.unsqueeze(-3)),
        "exp_map_zero": ball.expmap0,
    }


OURS = {
    "distance": g.poincare_distance,
    "radius": g.poincare_radius,
    "matrix": g.poincare_distance_matrix,
    "exp_map_zero": g.exp_map_zero,
}


def points_at(radius: float, count: int, dim: int, gen: torch.Generator) -> torch.Tensor:
    """float32 points at dist0 = radius (before rounding) in random directions."""
    direction = torch.randn(count, dim, generator=gen, dtype=torch.float64)
    direction /= torch.linalg.vector_norm(direction, dim=-1, keepdim=True)
    return (direction * torch.tanh(torch.tensor(radius / 2, dtype=torch.float64))).float()


def ulp_neighbours(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """x with each coordinate moved by −3..3 float32 ulps: the closest pairs float32 has."""
    steps = torch.randint(-3, 4, x.shape, generator=gen)
    toward = torch.where(steps > 0, torch.inf, -torch.inf)
    y = x.clone()
    for k in range(1, 4):
        y = torch.where(steps.abs() >= k, torch.nextafter(y, toward), y)
    return y


def exact(x: torch.Tensor, y: torch.Tensor) -> mpmath.mpf:
    """Unit-ball distance of the exact float32 coordinates, arcosh form, 60 digits."""
    with mpmath.workdps(60):
        a = [mpmath.mpf(v) for v in x.double().tolist()]
        b = [mpmath.mpf(v) for v in y.double().tolist()]
        squared = mpmath.fsum((p - q) ** 2 for p, q in zip(a, b, strict=True))
        scale = (1 - mpmath.fsum(p * p for p in a)) * (1 - mpmath.fsum(q * q for q in b))
        return mpmath.acosh(1 + 2 * squared / scale)


def worst_relative_error(values: torch.Tensor, references: list[mpmath.mpf]) -> float:
    with mpmath.workdps(60):
        return max(float(abs(mpmath.mpf(float(v)) / ref - 1)) for v, ref in zip(values.tolist(), references, strict=True))


def accuracy(peer, pairs: int, gen: torch.Generator) -> list[list]:
    rows = []
    for radius in BUCKETS:
        x, y = points_at(radius, pairs, 16, gen), points_at(radius, pairs, 16, gen)
        near = ulp_neighbours(x, gen)
        cases = (
            ("distance", [exact(a, b) for a, b in zip(x, y, strict=True)], (x, y)),
            ("distance", [exact(a, b) for a, b in zip(x, near, strict=True)], (x, near)),
            ("radius", [exact(a, torch.zeros_like(a)) for a in x], (x,)),
        )
        row = [radius]
        for name, references, args in cases:
            ours = worst_relative_error(OURS[name](*args), references)
            theirs = worst_relative_error(peer[name](*args), references) if peer else None
            row += [ours, theirs, ours / theirs if peer else None]
        rows.append(row)
    return rows


def speed(peer, repeats: int, gen: torch.Generator) -> list[list]:
    pairwise = (points_at(5.0, 1_000_000, 16, gen), points_at(5.0, 1_000_000, 16, gen))
    cloud = (points_at(5.0, 2048, 64, gen), points_at(5.0, 2048, 64, gen))
    tangent = (torch.randn(1_000_000, 16, generator=gen) * 0.3,)
    cases = [
        ("distance, 1e6 pairs × 16", "distance", pairwise),
        ("distance matrix 2048×2048×64", "matrix", cloud),
        ("exp_map_zero, 1e6 × 16", "exp_map_zero", tangent),
    ]
    rows = []
    with torch.no_grad():
        for label, name, args in cases:
            ours = median_seconds(lambda name=name, args=args: OURS[name](*args), repeats, warmup=True)
            theirs = median_seconds(lambda name=name, args=args: peer[name](*args), repeats, warmup=True) if peer else None
            rows.append([label, ours, theirs, ours / theirs if peer else None])
    return rows


def radial_gradient(exp_map_zero, radius, length: float) -> float:
    """d/d‖u‖ of radius(exp_map_zero(u)) at ‖u‖ = length, in float32."""
    u = torch.tensor([1.0, -2.0, 2.0, 4.0]) / 5.0 * length
    u.requires_grad_()
    (grad,) = torch.autograd.grad(radius(exp_map_zero(u)), u)
    return float((grad * u.detach()).sum() / torch.linalg.vector_norm(u.detach()))


def show(title: str, header: list[str], rows: list[list]) -> None:
    print(f"\n{title}")
    cells = [[f"{v:.3g}" if isinstance(v, float) else ("-" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per case (median reported)")
    parser.add_argument("--pairs", type=int, default=200, help="point pairs per accuracy bucket")
    args = parser.parse_args()
    peer = peer_functions()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; peer: "
        + (f"geoopt {geoopt.__version__}" if peer else "geoopt not installed (pip install -e '.[bench]')")
    )
    gen = torch.Generator().manual_seed(0)
    show(
        "max relative error vs mpmath, float32 points at dist0 = bucket: random pairs, pairs a few ulps apart,"
        " distance to 0 (ratio < 1: ours is better)",
        ["dist0", "far ours", "far geoopt", "ratio", "close ours", "close geoopt", "ratio", "dist0 ours", "dist0 geoopt", "ratio"],
        accuracy(peer, args.pairs, gen),
    )
    show(
        f"median seconds over {args.repeats} runs, float32 in, no grad (ratio < 1: ours is faster)",
        ["case", "ours", "geoopt", "ours/geoopt"],
        speed(peer, args.repeats, gen),
    )
    show(
        "radial gradient d/d‖u‖ dist0(exp_map_zero(u)), float32 (exact: 2)",
        ["‖u‖", "ours", "geoopt"],
        [
            [
                length,
                radial_gradient(g.exp_map_zero, g.poincare_radius, length),
                radial_gradient(peer["exp_map_zero"], peer["radius"], length) if peer else None,
            ]
            for length in RADIAL_LENGTHS
        ],
    )


if __name__ == "__main__":
    main()
