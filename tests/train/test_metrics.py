import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

from vaeaudit.ternary_vae import geometry
from vaeaudit.ternary_vae.data import LEVEL_SIZES, N_OPS, valuations
from vaeaudit.ternary_vae.metrics import (
    HIERARCHY_CEILING,
    average_ranks,
    dist_corr,
    hierarchy,
    quality_score,
    richness,
    spearman,
)


def banded_radii(width: float) -> torch.Tensor:
    """Radii decreasing with valuation, each level spread uniformly over its own band."""
    valuation = valuations()
    radius = torch.empty(N_OPS, dtype=torch.float64)
    for level, size in enumerate(LEVEL_SIZES):
        members = (valuation == level).nonzero().squeeze(1)
        radius[members] = (9 - level) + width * (torch.arange(size, dtype=torch.float64) + 0.5) / size
    return radius


def test_ceiling_constant_is_the_published_value():
    assert HIERARCHY_CEILING == pytest.approx(-0.83205, abs=5e-6)


def test_non_overlapping_distinct_levels_reach_exactly_the_ceiling():
    assert hierarchy(banded_radii(0.5), valuations()) == pytest.approx(HIERARCHY_CEILING, abs=1e-12)


def test_collapsed_levels_score_minus_one():
    radius = (9 - valuations()).to(torch.float64)
    assert hierarchy(radius, valuations()) == pytest.approx(-1.0, abs=1e-12)
    assert richness(radius, valuations()) == 0.0


def test_richness_of_uniform_bands_is_width_squared_over_twelve():
    width = 0.4
    value = richness(banded_radii(width), valuations())
    assert value == pytest.approx(width**2 / 12, rel=0.25)  # small levels deviate from w²/12
    assert richness(banded_radii(2 * width), valuations()) == pytest.approx(4 * value)


def test_q_weights_hierarchy_by_one_and_a_half():
    assert quality_score(0.5, -0.8) == pytest.approx(1.7)
    assert quality_score(0.5, 0.8) == pytest.approx(1.7)


@given(st.lists(st.integers(min_value=-5, max_value=5), min_size=1, max_size=40))
def test_average_ranks_give_ties_the_mean_rank(values):
    ranks = average_ranks(torch.tensor(values, dtype=torch.float64)).tolist()
    for value, rank in zip(values, ranks):
        below = sum(other < value for other in values)
        equal = sum(other == value for other in values)
        assert rank == pytest.approx(below + (equal + 1) / 2)


@settings(max_examples=30)
@given(st.lists(st.integers(min_value=-100, max_value=100), min_size=3, max_size=30, unique=True))
def test_spearman_ignores_monotone_transforms(values):
    x = torch.tensor(values, dtype=torch.float64)
    y = torch.arange(len(values), dtype=torch.float64)
    assert spearman(x, y) == pytest.approx(spearman(x**3 + 2 * x, y), abs=1e-12)
    assert spearman(x, x) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)


def test_dist_corr_is_positive_when_three_adic_neighbours_are_close():
    # Place op i by its low trits: ops sharing more low trits land closer together.
    index = torch.arange(N_OPS)
    digits = torch.stack([(index // 3**k) % 3 for k in range(9)], dim=1).to(torch.float64)
    tangent = (digits - 1.0) * (0.5 ** torch.arange(9, dtype=torch.float64))
    points = geometry.exp_map_zero(tangent.to(torch.float32))
    assert dist_corr(points, 1.0) > 0.5
    shuffled = points[torch.randperm(N_OPS, generator=torch.Generator().manual_seed(0))]
    assert abs(dist_corr(shuffled, 1.0)) < 0.05


def test_metric_values_are_rank_based_so_curvature_only_rescales():
    radius = banded_radii(0.3)
    assert math.isclose(hierarchy(radius * 2, valuations()), hierarchy(radius, valuations()))
