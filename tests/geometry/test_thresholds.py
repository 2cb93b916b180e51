"""euclidean_to_hyperbolic_radius: a threshold on ‖z‖ keeps its decision in hyperbolic units.

`vaeaudit fix` rewrites `‖z‖ < t` into `poincare_radius(z, c) < euclidean_to_hyperbolic_radius(t, c)`;
that is only safe if every comparison gives the same boolean, which these tests check on
random points, thresholds and curvatures, for float32 and float64 points.
"""

from __future__ import annotations

import math
import operator

import mpmath
import pytest
import torch

from vaeaudit.geometry import euclidean_to_hyperbolic_radius, exp_map_zero, poincare_radius

COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("c", [0.3, 1.0, 2.5])
def test_every_comparison_decides_alike(dtype: torch.dtype, c: float) -> None:
    generator = torch.Generator().manual_seed(0)
    z = exp_map_zero(torch.randn(5000, 4, generator=generator, dtype=torch.float64) * 1.2, c=c).to(dtype)
    # Points the dtype rounds onto the boundary are not points of the ball (the geometry pulls
    # them inside); for them a float32 ‖z‖ and dist0 may disagree at t = 1/√c. Every other point counts.
    z = z[z.double().norm(dim=-1) * math.sqrt(c) < 1 - 1e-6]
    assert len(z) > 4000
    euclidean, hyperbolic = z.norm(dim=-1), poincare_radius(z, c=c)
    thresholds = [0.0, 0.1, 0.5, 0.9, 0.99, 1 / math.sqrt(c), 2.0, -0.3]
    thresholds += torch.rand(20, generator=generator).div(math.sqrt(c)).tolist()
    for t in thresholds:
        converted = euclidean_to_hyperbolic_radius(t, c)
        for compare in COMPARISONS:
            assert torch.equal(compare(euclidean, t), compare(hyperbolic, converted)), (t, compare)


def test_matches_mpmath_and_is_odd() -> None:
    mpmath.mp.dps = 40
    for r, c in [(0.1, 1.0), (0.99, 1.0), (0.5, 3.0), (0.999999, 1.0)]:
        expected = float(2 / mpmath.sqrt(c) * mpmath.atanh(mpmath.sqrt(c) * mpmath.mpf(r)))
        assert euclidean_to_hyperbolic_radius(r, c) == pytest.approx(expected, rel=1e-12)
        assert euclidean_to_hyperbolic_radius(-r, c) == -euclidean_to_hyperbolic_radius(r, c)


def test_boundary_and_beyond_map_to_infinity() -> None:
    assert euclidean_to_hyperbolic_radius(1.0) == math.inf
    assert euclidean_to_hyperbolic_radius(0.5, c=4.0) == math.inf
    assert euclidean_to_hyperbolic_radius(-2.0) == -math.inf


def test_tensor_curvature_gives_a_tensor_with_its_gradient() -> None:
    c = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    radius = euclidean_to_hyperbolic_radius(0.5, c)
    assert isinstance(radius, torch.Tensor)
    radius.backward()
    assert c.grad is not None and torch.isfinite(c.grad)


@pytest.mark.parametrize("c", [0.0, -1.0, float("nan")])
def test_curvature_must_be_positive(c: float) -> None:
    with pytest.raises(ValueError):
        euclidean_to_hyperbolic_radius(0.5, c)
