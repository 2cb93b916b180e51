"""The fixed fixtures compute hyperbolic geometry, not just parse: run them and check the numbers.

For a point z = exp_map_zero(mu, c), the hyperbolic radius is exactly 2‖mu‖ for every c,
which gives an oracle independent of the code under test.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest
import torch

from vaeaudit.geometry import exp_map_zero, poincare_distance, poincare_distance_matrix

FIXTURES = Path(__file__).parent / "fixtures"
MU = torch.randn(6, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 0.6
MU_B = torch.randn(6, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 0.6
RADIUS = 2 * MU.norm(dim=-1)


def fixed(case: str) -> dict:
    return runpy.run_path(str(FIXTURES / f"{case}.out.py"))


@pytest.mark.parametrize(
    "case", ["torch_norm_radius", "call_receiver_radius", "sqrt_sum_of_squares", "comments_and_formatting_kept", "torch_alias"]
)
def test_fixed_radius_is_the_hyperbolic_radius(case: str) -> None:
    torch.testing.assert_close(fixed(case)["radii"](MU, 0.7), RADIUS)


def test_keepdim_survives_the_fix() -> None:
    result = fixed("keepdim_preserved")["radii"](MU, 1.3)
    torch.testing.assert_close(result, RADIUS.unsqueeze(-1))


def test_method_with_self_curvature() -> None:
    encoder = fixed("tensor_method_self_curvature")["Encoder"](curvature=2.5)
    torch.testing.assert_close(encoder.radius(MU), RADIUS)


def test_numpy_fix_returns_numpy_radii() -> None:
    result = fixed("unsafe_numpy_norm")["radii"](MU, 0.9)
    assert isinstance(result, np.ndarray)
    np.testing.assert_allclose(result, RADIUS.numpy(), rtol=1e-12)


def test_fixed_distances_are_poincare_distances() -> None:
    za, zb = exp_map_zero(MU, c=0.8), exp_map_zero(MU_B, c=0.8)
    expected = poincare_distance(za, zb, c=0.8)
    torch.testing.assert_close(fixed("difference_norm")["pair_distance"](MU, MU_B, 0.8), expected)
    torch.testing.assert_close(fixed("pairwise_distance")["pair_distance"](MU, MU_B, 0.8), expected)
    torch.testing.assert_close(
        fixed("difference_method_keepdim")["pair_distance"](MU, MU_B, 0.8), expected.unsqueeze(-1)
    )
    torch.testing.assert_close(fixed("cdist_to_matrix")["all_pairs"](MU, 0.8), poincare_distance_matrix(za, za, c=0.8))
