import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeaudit.ternary_vae import losses
from vaeaudit.ternary_vae.config import default_config, max_dist0
from vaeaudit.ternary_vae.data import N_OPS, valuations
from vaeaudit.ternary_vae.metrics import HIERARCHY_CEILING, hierarchy, richness


def default_bands():
    config = default_config()
    return losses.level_bands(config["hierarchy"], max_dist0(config["model"]))


def test_bands_are_ordered_disjoint_and_inside_the_reachable_radius():
    low, high = default_bands()
    assert float(low.min()) > 0 and float(high.max()) < max_dist0(default_config()["model"])
    assert torch.all(high[1:] < low[:-1])  # higher valuation, strictly smaller radii


def test_the_band_layout_is_the_loss_optimum_and_hits_the_metric_targets():
    valuation = valuations()
    low, high = default_bands()
    quantile = losses.within_level_quantiles(torch.rand(N_OPS, dtype=torch.float64), valuation)
    radius = low[valuation] + (high - low)[valuation] * quantile
    terms = losses.rich_hierarchy_loss(radius, valuation, quantile, (low, high))
    assert all(float(value) < 1e-20 for value in terms.values())
    assert abs(hierarchy(radius, valuation) - HIERARCHY_CEILING) < 1e-9
    assert richness(radius, valuation) > 0.00787


@settings(max_examples=20)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_quantiles_keep_the_order_within_each_level(seed):
    valuation = valuations()
    radius = torch.rand(N_OPS, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    quantile = losses.within_level_quantiles(radius, valuation)
    members = (valuation == 2).nonzero().squeeze(1)
    assert torch.equal(torch.argsort(quantile[members]), torch.argsort(radius[members]))
    assert float(quantile.min()) > 0 and float(quantile.max()) < 1


def test_collapsed_levels_are_penalised_by_the_spread_term_but_not_by_radial_loss():
    valuation = valuations()
    bands = default_bands()
    centre = (bands[0] + bands[1])[valuation] / 2
    quantile = losses.within_level_quantiles(torch.rand(N_OPS, dtype=torch.float64), valuation)
    terms = losses.rich_hierarchy_loss(centre, valuation, quantile, bands)
    assert float(terms["spread"]) > 1e-3 and float(terms["mean"]) < 1e-20
    assert float(losses.radial_loss(centre, valuation, bands)) < 1e-20


def test_separation_penalises_only_ops_outside_their_band():
    valuation = torch.tensor([0, 1])
    low, high = default_bands()
    inside = torch.stack([(low[0] + high[0]) / 2, (low[1] + high[1]) / 2])
    outside = torch.stack([high[0] + 0.1, low[1] - 0.2])
    quantile = torch.tensor([0.5, 0.5], dtype=torch.float64)
    assert float(losses.rich_hierarchy_loss(inside, valuation, quantile, (low, high))["separation"]) == 0.0
    separation = losses.rich_hierarchy_loss(outside, valuation, quantile, (low, high))["separation"]
    assert abs(float(separation) - (0.1 + 0.2) / 2) < 1e-9  # linear: a small excursion still gets a full push


def test_geodesic_loss_moves_directions_towards_three_adic_neighbours_and_never_radii():
    index = torch.tensor([0, 9, 1])  # v(0-9)=2 (close), v(9-1)=0, v(1-0)=0
    direction = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [-1.0, 0.1], [0.0, 1.0]]), dim=-1).requires_grad_()
    radius = torch.tensor([2.0, 2.5, 3.0], requires_grad=True)
    loss = losses.padic_geodesic_loss(direction, radius, index, 1.0)
    loss.backward()
    assert torch.isfinite(loss) and direction.grad.abs().sum() > 0
    assert radius.grad is None or radius.grad.abs().sum() == 0  # radii are the bands' business
    # Turning op 9 towards op 0 lowers the loss.
    nearer = direction.detach().clone()
    nearer[1] = nearer[0]
    assert float(losses.padic_geodesic_loss(nearer, radius, index, 1.0)) < float(loss.detach())


def test_geodesic_targets_are_reachable_inside_the_bands():
    """A 3-adically far pair (target 1) is satisfied by opposite directions at any radii,
    so the loss has no reason to push points to the radius cap."""
    index = torch.tensor([1, 2])  # v(1-2) = 0 both ways: target distance ratio 1
    opposite = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    for radii in ([0.5, 0.7], [2.0, 3.0]):
        assert float(losses.padic_geodesic_loss(opposite, torch.tensor(radii), index, 1.0)) < 1e-10


def test_reconstruction_and_kl_behave():
    trits = torch.tensor([[-1.0, 0.0, 1.0]])
    perfect = torch.nn.functional.one_hot((trits + 1).long(), 3).float() * 50
    assert float(losses.reconstruction_loss(perfect, trits)) < 1e-6
    assert float(losses.kl_divergence(torch.zeros(4, 3), torch.zeros(4, 3))) == 0.0
    assert losses.beta_schedule(0, 1e-3, 2) == 0.0 and losses.beta_schedule(5, 1e-3, 2) == 1e-3
