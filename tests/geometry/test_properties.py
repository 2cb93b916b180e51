"""Identities of Poincaré-ball geometry, checked on points drawn by direction and radius.

Tolerances are per dtype: float32 inputs are rounded coordinates, so every identity that
re-rounds an intermediate point is only as good as float32 near that point's radius.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeaudit.ternary_vae import geometry as g

# dtype -> (largest dist0 drawn, relative tolerance on distances, absolute tolerance on
# a hyperbolic distance between two results that should coincide).
TOLERANCE = {
    torch.float32: (6.0, 2e-6, 2e-4),
    torch.float64: (10.0, 1e-12, 1e-7),
}
DTYPES = pytest.mark.parametrize("dtype", list(TOLERANCE), ids=["float32", "float64"])
CURVATURES = st.sampled_from([1.0, 0.3, 2.5])
FEW = settings(max_examples=40)


@DTYPES
@FEW
@given(data=st.data(), c=CURVATURES)
def test_distance_is_a_metric(points, data, c, dtype):
    max_radius, rtol, _ = TOLERANCE[dtype]
    x, y, z = points(data, 3, max_radius, dtype, c)
    d = lambda a, b: g.poincare_distance(a, b, c=c).item()  # noqa: E731
    assert d(x, x) == 0.0
    assert d(x, y) >= 0.0
    assert d(x, y) == d(y, x)
    assert d(x, z) <= (d(x, y) + d(y, z)) * (1 + rtol)


@DTYPES
@FEW
@given(data=st.data(), c=CURVATURES)
def test_mobius_identity_and_left_cancellation(points, data, c, dtype):
    max_radius, _, atol = TOLERANCE[dtype]
    x, y = points(data, 2, max_radius / 2, dtype, c)
    zero = torch.zeros_like(x)
    torch.testing.assert_close(g.mobius_add(zero, x, c=c), x, rtol=0, atol=0)
    torch.testing.assert_close(g.mobius_add(x, zero, c=c), x, rtol=0, atol=0)
    cancelled = g.mobius_add(-x, g.mobius_add(x, y, c=c), c=c)
    assert g.poincare_distance(cancelled, y, c=c).item() <= atol


@DTYPES
@FEW
@given(data=st.data(), c=CURVATURES)
def test_gyro_triangle_inequality(points, data, c, dtype):
    """‖x ⊕ y‖ ≤ ‖x‖ ⊕ ‖y‖, i.e. dist0(x ⊕ y) ≤ dist0(x) + dist0(y)."""
    max_radius, rtol, atol = TOLERANCE[dtype]
    x, y = points(data, 2, max_radius / 2, dtype, c)
    total = g.mobius_add(x, y, c=c)
    radius = lambda p: g.poincare_radius(p, c=c).item()  # noqa: E731
    assert radius(total) <= (radius(x) + radius(y)) * (1 + rtol) + atol
    norm = lambda p: torch.linalg.vector_norm(p.double()).item()  # noqa: E731
    scalar_sum = (norm(x) + norm(y)) / (1 + c * norm(x) * norm(y))
    assert norm(total) <= scalar_sum * (1 + 4 * torch.finfo(dtype).eps)


@DTYPES
@FEW
@given(data=st.data(), c=CURVATURES)
def test_exp_and_log_at_zero_are_inverse(points, data, c, dtype):
    max_radius, _, atol = TOLERANCE[dtype]
    (y,) = points(data, 1, max_radius, dtype, c)
    assert g.poincare_distance(g.exp_map_zero(g.log_map_zero(y, c=c), c=c), y, c=c).item() <= atol
    v = g.log_map_zero(y, c=c)
    # dist0 = 2‖v‖, so an error of atol in distance is atol/2 in the tangent vector.
    torch.testing.assert_close(g.log_map_zero(g.exp_map_zero(v, c=c), c=c), v, rtol=0, atol=atol / 2)
    torch.testing.assert_close(g.exp_map(torch.zeros_like(v), v, c=c), g.exp_map_zero(v, c=c))
    torch.testing.assert_close(g.log_map(torch.zeros_like(y), y, c=c), g.log_map_zero(y, c=c))


@DTYPES
@FEW
@given(data=st.data(), c=CURVATURES, reach=st.floats(0.0, 4.0))
def test_exp_and_log_at_a_point_are_inverse(points, unit_vector, data, c, reach, dtype):
    """A tangent vector of Riemannian length λ_x‖v‖ = reach lands at distance reach."""
    max_radius, rtol, atol = TOLERANCE[dtype]
    (x,) = points(data, 1, max_radius / 2, dtype, c)
    v = (unit_vector(data, x.shape[-1]) * reach / g.lambda_x(x.double(), c=c)).to(dtype)
    y = g.exp_map(x, v, c=c)
    assert g.poincare_distance(x, y, c=c).item() == pytest.approx(reach, rel=rtol, abs=atol)
    back = g.log_map(x, y, c=c)
    assert (g.lambda_x(x, c=c) * torch.linalg.vector_norm(back - v)).item() <= atol
    assert g.poincare_distance(g.exp_map(x, g.log_map(x, y, c=c), c=c), y, c=c).item() <= atol


@DTYPES
@FEW
@given(data=st.data(), c=st.floats(0.05, 20.0))
def test_curvature_scaling(points, data, c, dtype):
    """d_c(x, y) = d_1(√c·x, √c·y) / √c."""
    max_radius, _, atol = TOLERANCE[dtype]
    root = math.sqrt(c)
    x, y = points(data, 2, max_radius, dtype, c)
    expected = g.poincare_distance(root * x, root * y).item() / root
    assert g.poincare_distance(x, y, c=c).item() == pytest.approx(expected, rel=atol, abs=atol / root)


@DTYPES
@FEW
@given(data=st.data(), c=st.floats(0.05, 20.0), share=st.floats(0.0, 1.0))
def test_dist0_of_exp_map_zero_is_twice_the_norm(unit_vector, data, c, share, dtype):
    max_radius, _, atol = TOLERANCE[dtype]
    length = share * max_radius / (2 * math.sqrt(c))
    v = (unit_vector(data, data.draw(st.integers(1, 8))) * length).to(dtype)
    expected = 2 * torch.linalg.vector_norm(v.double()).item()
    assert g.poincare_radius(g.exp_map_zero(v, c=c), c=c).item() == pytest.approx(expected, rel=atol, abs=atol)


@DTYPES
@FEW
@given(
    data=st.data(),
    scale=st.floats(0.0, 3.0),
    c=CURVATURES,
    share=st.none() | st.floats(0.05, 0.999),
)
def test_projection_is_idempotent_and_inside(unit_vector, data, scale, c, share, dtype):
    """Euclidean scales on purpose: projection is about points that may be outside."""
    x = (unit_vector(data, data.draw(st.integers(1, 6))) * scale / math.sqrt(c)).to(dtype)
    max_norm = None if share is None else share / math.sqrt(c)
    projected = g.project_to_ball(x, max_norm=max_norm, c=c)
    default = min(1 - torch.finfo(dtype).eps, 1 - 2.0**-40) / math.sqrt(c)  # see the boundary policy
    limit = default if max_norm is None else max_norm
    norm = torch.linalg.vector_norm(projected.double()).item()
    assert norm <= limit and norm * math.sqrt(c) < 1
    assert torch.equal(g.project_to_ball(projected, max_norm=max_norm, c=c), projected)
    if torch.linalg.vector_norm(x.double()).item() <= limit:
        assert torch.equal(projected, x)


def test_functions_broadcast_over_leading_dims(point_at):
    gen = torch.Generator().manual_seed(0)
    x = point_at(torch.randn(3, 1, 5, generator=gen), torch.rand(3, 1, generator=gen) * 8)
    y = point_at(torch.randn(4, 5, generator=gen), torch.rand(4, generator=gen) * 8)
    distance = g.poincare_distance(x, y)
    assert distance.shape == (3, 4)
    assert g.poincare_distance(x, y, keepdim=True).shape == (3, 4, 1)
    assert g.mobius_add(x, y).shape == (3, 4, 5)
    assert g.exp_map(x, y).shape == g.log_map(x, y).shape == (3, 4, 5)
    assert g.poincare_radius(x).shape == g.lambda_x(x).shape == (3, 1)
    for i in range(3):
        for j in range(4):
            assert distance[i, j] == g.poincare_distance(x[i, 0], y[j])
    matrix = g.poincare_distance_matrix(x.expand(3, 4, 5).reshape(2, 6, 5), y)
    assert matrix.shape == (2, 6, 4)
    torch.testing.assert_close(matrix.reshape(3, 4, 4)[:, 0], distance)


def test_curvature_as_float_or_tensor_agrees(geometry_call, point_at):
    gen = torch.Generator().manual_seed(1)
    x = point_at(torch.randn(6, 3, generator=gen), torch.rand(6, generator=gen) * 6, c=0.7).float()
    y = point_at(torch.randn(6, 3, generator=gen), torch.rand(6, generator=gen) * 6, c=0.7).float()
    as_float = geometry_call(x, y, 0.7)
    assert torch.equal(as_float, geometry_call(x, y, torch.tensor(0.7, dtype=torch.float64)))


def test_curvature_broadcasts_per_row(point_at):
    gen = torch.Generator().manual_seed(2)
    x = point_at(torch.randn(2, 3, generator=gen), [1.0, 4.0])
    y = point_at(torch.randn(2, 3, generator=gen), [2.0, 0.5])
    rows = torch.tensor([[0.7], [0.2]], dtype=torch.float64)
    both = g.poincare_distance(x, y, c=rows)
    assert both[0] == g.poincare_distance(x[0], y[0], c=0.7)
    assert both[1] == g.poincare_distance(x[1], y[1], c=0.2)
    torch.testing.assert_close(g.exp_map_zero(x, c=rows)[1], g.exp_map_zero(x[1], c=0.2))
