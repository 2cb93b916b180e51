"""Point generators and the table of public functions shared by the geometry tests.

Points are drawn as a direction plus a hyperbolic radius (dist0), never as raw
coordinates: uniform coordinates would almost never reach the region near the boundary
where float32 geometry breaks, and a radius bound is what the accuracy targets are
stated in. The tanh map is evaluated here in float64, independently of the module
under test, and only then rounded to the dtype being tested.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import strategies as st

from vaeaudit.ternary_vae import geometry as g


def ball_point(direction, radius, c: float = 1.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Point(s) at hyperbolic distance `radius` from 0 along `direction` (any length ≠ 0)."""
    direction = torch.as_tensor(direction, dtype=torch.float64)
    unit = direction / torch.linalg.vector_norm(direction, dim=-1, keepdim=True)
    radius = torch.as_tensor(radius, dtype=torch.float64).unsqueeze(-1)
    return (torch.tanh(math.sqrt(c) * radius / 2) / math.sqrt(c) * unit).to(dtype)


def _directions(dim: int):
    coordinate = st.floats(-1.0, 1.0, allow_subnormal=False)
    return st.lists(coordinate, min_size=dim, max_size=dim).filter(lambda v: sum(a * a for a in v) > 1e-6)


def draw_points(data, count: int, max_radius: float, dtype: torch.dtype, c: float = 1.0, dim: int | None = None):
    """`count` points of one shared dimension (1..8 unless given), dist0 in [0, max_radius/√c].

    The bound is on √c·dist0, the radius in the unit ball, because that is what rounding
    to a dtype depends on, whatever the curvature.
    """
    if dim is None:
        dim = data.draw(st.integers(1, 8), label="dim")
    points = []
    for _ in range(count):
        direction = data.draw(_directions(dim), label="direction")
        radius = data.draw(st.floats(0.0, max_radius / math.sqrt(c)), label="dist0")
        points.append(ball_point(direction, radius, c, dtype))
    return points


@pytest.fixture(scope="session")
def points():
    """`draw_points` as a fixture, for tests that draw with `st.data()`."""
    return draw_points


def draw_direction(data, dim: int) -> torch.Tensor:
    """A float64 unit vector of `dim` coordinates."""
    direction = torch.tensor(data.draw(_directions(dim), label="direction"), dtype=torch.float64)
    return direction / torch.linalg.vector_norm(direction)


@pytest.fixture(scope="session")
def unit_vector():
    """`draw_direction` as a fixture."""
    return draw_direction


@pytest.fixture(scope="session")
def point_at():
    """`ball_point` as a fixture, for deterministic point sets."""
    return ball_point


# Every public function as (x, y, c) -> tensor, so one test can sweep them all.
CALLS = {
    "poincare_distance": lambda x, y, c: g.poincare_distance(x, y, c=c),
    "poincare_radius": lambda x, y, c: g.poincare_radius(x, c=c),
    "poincare_distance_matrix": lambda x, y, c: g.poincare_distance_matrix(torch.stack([x, y]), c=c),
    "mobius_add": lambda x, y, c: g.mobius_add(x, y, c=c),
    "lambda_x": lambda x, y, c: g.lambda_x(x, c=c),
    "exp_map_zero": lambda x, y, c: g.exp_map_zero(x, c=c),
    "log_map_zero": lambda x, y, c: g.log_map_zero(x, c=c),
    "exp_map": lambda x, y, c: g.exp_map(x, y, c=c),
    "log_map": lambda x, y, c: g.log_map(x, y, c=c),
    "project_to_ball": lambda x, y, c: g.project_to_ball(x, c=c),
}


def pytest_generate_tests(metafunc):
    """A test that asks for `geometry_call` runs once per public function."""
    if "geometry_call" in metafunc.fixturenames:
        metafunc.parametrize("geometry_call", list(CALLS.values()), ids=list(CALLS))
