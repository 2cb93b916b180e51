import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeaudit.ternary_vae import geometry
from vaeaudit.ternary_vae.data import LEVEL_SIZES, N_OPS, valuations
from vaeaudit.ternary_vae.metrics import (
    HIERARCHY_CEILING,
    METRIC_NAMES,
    average_ranks,
    canonical_dist_corr,
    canonical_radius,
    canonical_richness,
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
    for value, rank in zip(values, ranks, strict=True):
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


# ----------------------------------------------------------------------------- original-canonical-v1


def test_canonical_richness_is_the_originals_formula_on_a_hand_made_example():
    """The original: for v in 0..9, levels with > 1 member add np.var (population) of
    their radii; the sum is divided by 10, not by the number of levels summed."""
    radius = torch.tensor([1.0, 2.0, 3.0, 5.0, 7.0, 4.0])
    valuation = torch.tensor([0, 0, 0, 1, 1, 2])
    # v=0: var(1,2,3) = 2/3; v=1: var(5,7) = 1; v=2 has one member and adds nothing.
    assert canonical_richness(radius, valuation) == pytest.approx((2 / 3 + 1) / 10, abs=1e-12)


def test_canonical_richness_is_below_ours_on_the_same_radii():
    radius, valuation = banded_radii(0.34), valuations()
    ours, theirs = richness(radius, valuation), canonical_richness(radius, valuation)
    # Population instead of unbiased variance (half of it for the 2 ops at v = 8), 9 levels / 10.
    expected = sum(radius[valuation == v].var(correction=0).item() for v in range(9)) / 10
    assert theirs == pytest.approx(expected, rel=1e-12)
    assert 0.75 * ours < theirs < 0.9 * ours


def test_canonical_radius_is_the_float32_artanh_form():
    points = torch.tensor([[0.0, 0.0], [0.3, 0.4], [0.0, 0.95]])
    radius = canonical_radius(points, 1.0)
    assert radius.dtype == torch.float32
    assert radius.tolist() == pytest.approx([0.0, 2 * math.atanh(0.5), 2 * math.atanh(0.95)], rel=1e-6)
    assert torch.allclose(radius.double(), geometry.poincare_radius(points.double()), rtol=1e-6)


def test_canonical_dist_corr_uses_euclidean_distance_against_level_gaps():
    valuation = valuations()
    on_a_line = torch.zeros(N_OPS, 2, dtype=torch.float64)
    on_a_line[:, 0] = 0.5 - valuation.double() / 16  # distance = |v_i − v_j| / 16, exact in binary
    assert canonical_dist_corr(on_a_line) == pytest.approx(1.0, abs=1e-9)
    noise = torch.rand(N_OPS, 2, generator=torch.Generator().manual_seed(0)) * 0.5
    assert abs(canonical_dist_corr(noise)) < 0.05


def test_every_stored_metric_has_a_named_versioned_definition():
    from vaeaudit.ternary_vae.metrics import CANONICAL, DIAGNOSTIC_NAMES, METRICS_SPEC, OURS

    assert METRICS_SPEC[OURS]["name"] == "vaeaudit-hyperbolic" and METRICS_SPEC[OURS]["version"] == 1
    assert set(METRICS_SPEC[OURS]["definitions"]) == {*METRIC_NAMES, *DIAGNOSTIC_NAMES}
    assert set(METRICS_SPEC[CANONICAL]["definitions"]) == set(METRIC_NAMES)
    assert METRICS_SPEC[CANONICAL]["stored_under"] == "metrics_canonical"


def test_both_definition_sets_on_a_model_and_sampling_is_a_fixed_draw(short_config):
    from vaeaudit.ternary_vae.data import all_operations
    from vaeaudit.ternary_vae.metrics import DIAGNOSTIC_NAMES, evaluate, evaluate_canonical
    from vaeaudit.ternary_vae.model import build_model

    torch.manual_seed(0)
    model = build_model(short_config)
    trits, valuation = all_operations(), valuations()
    ours, theirs = evaluate(model, trits, valuation), evaluate_canonical(model, trits, valuation)
    assert set(ours) == {*METRIC_NAMES, *DIAGNOSTIC_NAMES} and set(theirs) == set(METRIC_NAMES)
    assert evaluate_canonical(model, trits, valuation) == theirs  # ε is fixed, not an accident
    assert ours["coverage"] == theirs["coverage"]
    assert ours["hierarchy_B_sampled"] == pytest.approx(theirs["hierarchy_B"], abs=1e-3)  # float32 vs float64 radii
    assert ours["hierarchy_B_sampled"] != ours["hierarchy_B"]  # an untrained σ_B ≈ 1 scatters radii
    assert 0.5 < ours["sigma_B"] < 2.0 and ours["at_cap"] == 0.0
