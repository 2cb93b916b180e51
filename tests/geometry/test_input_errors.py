"""Bad input is refused with a message that names the argument and the reason."""

from __future__ import annotations

import pytest
import torch

from vaeaudit.ternary_vae import geometry as g

POINTS = torch.tensor([[0.1, 0.2], [0.3, -0.1]])


@pytest.mark.parametrize(
    ("c", "error", "message"),
    [
        (0.0, ValueError, "curvature c must be finite and > 0, got 0.0"),
        (-1.0, ValueError, "> 0, got -1.0"),
        (float("inf"), ValueError, "finite"),
        (float("nan"), ValueError, "finite"),
        (torch.tensor(0.0), ValueError, "> 0 everywhere"),
        (torch.tensor(-2.0), ValueError, "> 0 everywhere"),
        (torch.tensor(1), TypeError, "curvature c must be a floating tensor"),
        (True, TypeError, "curvature c must be a float or a tensor, got bool"),
        ("1.0", TypeError, "got str"),
    ],
)
def test_bad_curvature(geometry_call, c, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        geometry_call(POINTS[0], POINTS[1], c)


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.complex64], ids=str)
def test_non_floating_points(geometry_call, dtype):
    with pytest.raises(TypeError, match="points must have a floating dtype"):
        geometry_call(POINTS[0].to(dtype), POINTS[1].to(dtype), 1.0)


@pytest.mark.parametrize(
    "call",
    [
        lambda x, y: g.poincare_distance(x, y),
        lambda x, y: g.mobius_add(x, y),
        lambda x, y: g.exp_map(x, y),
        lambda x, y: g.log_map(x, y),
        lambda x, y: g.poincare_distance_matrix(x, y),
    ],
    ids=["poincare_distance", "mobius_add", "exp_map", "log_map", "poincare_distance_matrix"],
)
def test_mismatched_coordinate_dims(call):
    with pytest.raises(ValueError, match=r"same coordinate \(last\) dimension, got shapes \(2, 2\), \(2, 3\)"):
        call(POINTS, torch.zeros(2, 3))


def test_other_bad_shapes_and_arguments():
    with pytest.raises(TypeError, match="expected a torch.Tensor of points, got list"):
        g.poincare_radius([0.1, 0.2])
    with pytest.raises(ValueError, match="at least one dimension"):
        g.poincare_radius(torch.tensor(0.5))
    with pytest.raises(ValueError, match=r"needs \(\.\.\., n, d\)"):
        g.poincare_distance_matrix(POINTS[0])
    with pytest.raises(ValueError, match="takes a scalar curvature"):
        g.poincare_distance_matrix(POINTS, c=torch.tensor([1.0]))
    for max_norm in (0.0, -0.5, 1.0, 2.0):
        with pytest.raises(ValueError, match=r"max_norm must be in \(0, 1/sqrt\(c\)\)"):
            g.project_to_ball(POINTS, max_norm=max_norm)
    with pytest.raises(ValueError, match="max_norm"):
        g.project_to_ball(POINTS, max_norm=0.6, c=4.0)
