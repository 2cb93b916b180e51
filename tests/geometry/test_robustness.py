"""Finite values and gradients where the textbook formulas divide by zero or cancel.

Also the boundary policy of the module docstring, the float32 radial gradient that
geoopt loses beyond ‖u‖ ≈ 3.1, and the memory shape of the distance matrix.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.overrides import TorchFunctionMode

from vaeaudit.ternary_vae import geometry as g

DTYPES = pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
PULL_RADIUS = 1 - 2.0**-40  # where the boundary policy puts points on or outside
PULLED_DIST0 = 41 * math.log(2)  # = 2·artanh(PULL_RADIUS) up to 2⁻⁴¹


def values_and_gradients(call, x, y, c=1.0):
    """call(x, y, c) and the gradients of its sum with respect to x and y."""
    x = x.detach().clone().requires_grad_()
    y = y.detach().clone().requires_grad_()
    out = call(x, y, c)
    grad_x, grad_y = torch.autograd.grad(out.sum(), [x, y], allow_unused=True)
    return [t for t in (out, grad_x, grad_y) if t is not None]


def near_boundary(dtype):
    """A point 1e-6 inside the boundary (float32 holds that to 6e-8)."""
    return torch.tensor([0.6, -0.8, 0.0], dtype=torch.float64).mul(1 - 1e-6).to(dtype)


@DTYPES
@pytest.mark.parametrize(
    "case",
    ["x = y", "x = 0", "x = y = 0", "x near boundary", "x = y near boundary", "both near boundary"],
)
def test_finite_where_formulas_degenerate(geometry_call, case, dtype):
    edge = near_boundary(dtype)
    inner = torch.tensor([0.1, 0.2, -0.3], dtype=dtype)
    zero = torch.zeros(3, dtype=dtype)
    x, y = {
        "x = y": (inner, inner),
        "x = 0": (zero, inner),
        "x = y = 0": (zero, zero),
        "x near boundary": (edge, inner),
        "x = y near boundary": (edge, edge),
        "both near boundary": (edge, -edge),
    }[case]
    for tensor in values_and_gradients(geometry_call, x, y):
        assert torch.isfinite(tensor).all()


finite_coordinates = {
    torch.float32: st.floats(allow_nan=False, allow_infinity=False, width=32),
    torch.float64: st.floats(allow_nan=False, allow_infinity=False),
}


@DTYPES
@settings(max_examples=30)
@given(data=st.data())
def test_any_finite_input_gives_finite_values_and_gradients(geometry_call, data, dtype):
    """Raw coordinates of any size, on purpose: points on and far outside the boundary too."""
    dim = data.draw(st.integers(1, 4))
    coordinates = st.lists(finite_coordinates[dtype], min_size=dim, max_size=dim)
    x = torch.tensor(data.draw(coordinates), dtype=dtype)
    y = torch.tensor(data.draw(coordinates), dtype=dtype)
    for tensor in values_and_gradients(geometry_call, x, y, c=data.draw(st.sampled_from([1.0, 0.5, 4.0]))):
        assert torch.isfinite(tensor).all()


@DTYPES
@pytest.mark.parametrize("scale", [1.0, 1.5, 1e6])
def test_points_on_or_outside_count_as_at_the_pull_radius(scale, dtype):
    c = 2.0
    direction = torch.tensor([0.6, 0.0, -0.8], dtype=torch.float64)
    outside = (direction * scale / math.sqrt(c)).to(dtype)
    pulled = direction * PULL_RADIUS / math.sqrt(c)
    inside = torch.tensor([0.1, 0.3, 0.2], dtype=dtype)
    assert g.poincare_radius(outside, c=c).item() == pytest.approx(PULLED_DIST0 / math.sqrt(c), rel=1e-5)
    assert g.poincare_distance(outside, inside, c=c).item() == pytest.approx(
        g.poincare_distance(pulled, inside.double(), c=c).item(), rel=1e-5
    )
    total = g.mobius_add(outside, inside, c=c).double()
    assert torch.linalg.vector_norm(total) * math.sqrt(c) <= 1 + torch.finfo(dtype).eps
    projected_dist0 = min(2 * math.atanh(1 - torch.finfo(dtype).eps), PULLED_DIST0) / math.sqrt(c)
    assert g.poincare_radius(g.project_to_ball(outside, c=c), c=c).item() <= projected_dist0 * (1 + 1e-9)


def test_points_inside_are_never_moved():
    """Even the last float32 point inside the ball keeps its coordinates and its radius."""
    edge = torch.tensor([1 - 2.0**-24, 0.0], dtype=torch.float32)
    assert torch.equal(g.mobius_add(edge, torch.zeros_like(edge)), edge)
    assert g.poincare_radius(edge).item() == pytest.approx(2 * math.atanh(1 - 2.0**-24), rel=1e-7)


@pytest.mark.parametrize("c", [1.0, 0.5])
@pytest.mark.parametrize("length", [0.5, 1.0, 3.0, 4.0, 6.0])
def test_radial_gradient_of_dist0_survives_in_float32(length, c):
    """d/d‖u‖ dist0(exp_map_zero(u)) = 2; geoopt's is exactly 0 beyond ‖u‖ ≈ 3.1."""
    u = torch.tensor([1.0, -2.0, 2.0, 4.0], dtype=torch.float64)
    u = (u / torch.linalg.vector_norm(u) * length).float().requires_grad_()
    (grad,) = torch.autograd.grad(g.poincare_radius(g.exp_map_zero(u, c=c), c=c), u)
    radial = (grad.double() * u.detach().double()).sum() / torch.linalg.vector_norm(u.detach().double())
    assert radial.item() == pytest.approx(2.0, rel=1e-3)


class LargestTensor(TorchFunctionMode):
    """Records the element count of the largest tensor any torch call returns."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        for tensor in result if isinstance(result, (tuple, list)) else (result,):
            if isinstance(tensor, torch.Tensor):
                self.largest = max(self.largest, tensor.numel())
        return result


@pytest.mark.parametrize(
    ("n", "dim", "identical"),
    [(2048, 64, False), (256, 64, True)],
    ids=["2048x64 cloud", "256 identical points"],
)
def test_distance_matrix_never_builds_an_n_by_n_by_d_tensor(point_at, n, dim, identical):
    """No intermediate may outgrow the n×n result, even when every pair is a close pair."""
    gen = torch.Generator().manual_seed(3)
    if identical:
        cloud = point_at(torch.randn(1, dim, generator=gen), [5.0]).float().expand(n, dim)
    else:
        cloud = point_at(torch.randn(n, dim, generator=gen), torch.rand(n, generator=gen) * 12).float()
    cloud.requires_grad_()
    with LargestTensor() as probe:
        matrix = g.poincare_distance_matrix(cloud)
        matrix.sum().backward()
    assert matrix.shape == (n, n)
    assert probe.largest <= n * n < n * n * dim
    assert torch.isfinite(cloud.grad).all()
    if identical:
        assert torch.all(matrix == 0)


def test_a_nan_coordinate_gives_nan_not_a_plausible_number(geometry_call):
    """A diverged model's NaN point must not read as a finite value (e.g. distance 0, the origin)."""
    nan_point = torch.tensor([math.nan, 0.1, 0.2])
    assert geometry_call(nan_point, torch.tensor([0.1, 0.2, -0.3]), 1.0).isnan().any()


@pytest.mark.parametrize("call", [g.poincare_distance, lambda x, y: g.poincare_distance_matrix(x[None], y[None])])
def test_a_nan_in_either_point_makes_the_distance_nan(call):
    nan_point, inner = torch.tensor([math.nan, 0.1, 0.2]), torch.tensor([0.1, 0.2, -0.3])
    assert call(inner, nan_point).isnan().all() and call(nan_point, inner).isnan().all()
