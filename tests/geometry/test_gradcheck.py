"""Analytic gradients of every function match finite differences in float64.

Points sit at moderate radii and away from x = y and x = 0, where the functions are
smooth; the curvature gets a gradient too, since models may learn it.
"""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck

from vaeaudit.ternary_vae import geometry as g


def smooth_points(point_at):
    gen = torch.Generator().manual_seed(11)
    x = point_at(torch.randn(3, 4, generator=gen), [0.5, 2.0, 3.5])
    y = point_at(torch.randn(3, 4, generator=gen), [1.5, 3.0, 0.8])
    return x.requires_grad_(), y.requires_grad_()


def test_gradcheck_every_function(geometry_call, point_at):
    x, y = smooth_points(point_at)
    c = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    assert gradcheck(geometry_call, (x, y, c), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_gradcheck_projection_moving_points(point_at):
    """Points outside max_norm, where projection is not the identity."""
    x, _ = smooth_points(point_at)
    assert gradcheck(lambda p: g.project_to_ball(p * 3, max_norm=0.5), (x,), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("offset", [1e-3, 3e-6], ids=["near pair", "close pair (direct recompute)"])
def test_gradcheck_distance_matrix_close_pairs(point_at, offset):
    x, _ = smooth_points(point_at)
    cloud = torch.cat([x.detach(), x.detach()[:1] + offset]).requires_grad_()
    assert gradcheck(lambda p: g.poincare_distance_matrix(p[:2], p[2:]), (cloud,), eps=1e-7, atol=1e-5, rtol=1e-4)
