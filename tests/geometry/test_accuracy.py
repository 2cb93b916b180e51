"""float32 accuracy against an mpmath oracle evaluated on the exact float32 coordinates.

The target (issue 2): relative error ≤ 1e-6 for points up to dist0 = 12, where the
usual artanh(‖−x ⊕ y‖) form in float32 is off by tens of percent. The oracle uses the
arcosh form at 60 digits, a different formula from the implementation's asinh form.
"""

from __future__ import annotations

import mpmath
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeaudit.ternary_vae import geometry as g

TARGET = 1e-6
MAX_DIST0 = 12.0
CURVATURES = st.sampled_from([1.0, 0.25, 3.0])


def exact_distance(x: torch.Tensor, y: torch.Tensor, c: float) -> mpmath.mpf:
    """d_c(x, y) = arcosh(1 + t) / √c, t = 2c‖x−y‖² / ((1−c‖x‖²)(1−c‖y‖²)), to 60 digits.

    1 + t cancels the digits of a tiny t, so arcosh gets 60 digits more than t loses.
    """
    with mpmath.workdps(60):
        xs = [mpmath.mpf(float(a)) for a in x.tolist()]
        ys = [mpmath.mpf(float(b)) for b in y.tolist()]
        c = mpmath.mpf(c)
        difference = sum((a - b) ** 2 for a, b in zip(xs, ys))
        x2, y2 = sum(a * a for a in xs), sum(b * b for b in ys)
        t = 2 * c * difference / ((1 - c * x2) * (1 - c * y2))
    if t == 0:
        return mpmath.mpf(0)
    with mpmath.workdps(60 + max(0, int(-mpmath.log10(t)))):
        return mpmath.acosh(1 + t) / mpmath.sqrt(c)


def relative_error(value: torch.Tensor, exact: mpmath.mpf) -> float:
    """|value − exact| / |exact|, with float32's smallest normal as the floor of |exact|:
    a subnormal float32 result cannot be more precise than its absolute spacing."""
    with mpmath.workdps(60):
        scale = max(abs(exact), mpmath.mpf(torch.finfo(torch.float32).tiny))
        return float(abs(mpmath.mpf(float(value)) - exact) / scale)


def nudged(x: torch.Tensor, steps: list[int]) -> torch.Tensor:
    """x with coordinate i moved by steps[i] float32 ulps: the closest pairs float32 has."""
    y = x.clone()
    for i, step in enumerate(steps):
        toward = torch.tensor(float("inf") if step > 0 else float("-inf"))
        for _ in range(abs(step)):
            y[i] = torch.nextafter(y[i], toward)
    return y


@settings(max_examples=60)
@given(data=st.data(), c=CURVATURES)
def test_distance_matches_oracle(points, data, c):
    x, y = points(data, 2, MAX_DIST0, torch.float32, c)
    assert relative_error(g.poincare_distance(x, y, c=c), exact_distance(x, y, c)) <= TARGET


@settings(max_examples=60)
@given(data=st.data(), c=CURVATURES)
def test_radius_matches_oracle(points, data, c):
    (x,) = points(data, 1, MAX_DIST0, torch.float32, c)
    exact = exact_distance(x, torch.zeros_like(x), c)
    assert relative_error(g.poincare_radius(x, c=c), exact) <= TARGET


@settings(max_examples=40)
@given(data=st.data(), c=CURVATURES)
def test_close_pairs_match_oracle(points, data, c):
    (x,) = points(data, 1, MAX_DIST0, torch.float32, c)
    steps = data.draw(st.lists(st.integers(-3, 3), min_size=x.shape[-1], max_size=x.shape[-1]), label="ulps")
    y = nudged(x, steps)
    exact = exact_distance(x, y, c)
    assert relative_error(g.poincare_distance(x, y, c=c), exact) <= TARGET
    pair = torch.stack([x, y])
    matrix = g.poincare_distance_matrix(pair, c=c)
    assert relative_error(matrix[0, 1], exact) <= TARGET
    assert relative_error(matrix[1, 0], exact) <= TARGET


@pytest.mark.parametrize("c", [1.0, 0.5])
def test_distance_matrix_matches_oracle(point_at, c):
    """A cloud spanning dist0 0..12 plus ulp-neighbours of some of its points."""
    gen = torch.Generator().manual_seed(7)
    far = point_at(torch.randn(20, 6, generator=gen), torch.linspace(0, MAX_DIST0, 20) / c**0.5, c=c).float()
    near = torch.stack([nudged(far[i], [1, -2, 0, 3, 0, -1]) for i in range(0, 20, 3)])
    cloud = torch.cat([far, near])
    matrix = g.poincare_distance_matrix(cloud, c=c)
    worst = max(
        relative_error(matrix[i, j], exact_distance(cloud[i], cloud[j], c))
        for i in range(len(cloud))
        for j in range(len(cloud))
    )
    assert worst <= TARGET
    assert torch.all(matrix.diagonal() == 0)
    assert torch.equal(matrix, matrix.T)
