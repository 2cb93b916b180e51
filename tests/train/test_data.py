import torch
from hypothesis import given
from hypothesis import strategies as st

from vaeaudit.ternary_vae.data import (
    LEVEL_SIZES,
    N_OPS,
    all_operations,
    sampling_weights,
    stratified_batches,
    three_adic_valuation,
    valuations,
)


def naive_valuation(n: int) -> int:
    if n == 0:
        return 9
    count = 0
    while n % 3 == 0:
        n //= 3
        count += 1
    return min(count, 9)


def test_operations_encode_their_index_in_base_three():
    trits = all_operations()
    assert trits.shape == (N_OPS, 9)
    digits = (trits + 1).long()
    index = (digits * 3 ** torch.arange(9)).sum(dim=1)
    assert torch.equal(index, torch.arange(N_OPS))


def test_level_sizes_match_the_valuations():
    assert torch.bincount(valuations(), minlength=10).tolist() == list(LEVEL_SIZES)
    assert sum(LEVEL_SIZES) == N_OPS


@given(st.integers(min_value=-(3**12), max_value=3**12))
def test_valuation_matches_repeated_division(n):
    assert three_adic_valuation(torch.tensor([n])).item() == naive_valuation(abs(n))


def test_full_oversampling_gives_every_level_the_same_share():
    weights = sampling_weights(valuations(), 1.0)
    shares = torch.zeros(10, dtype=torch.float64).index_add(0, valuations(), weights)
    assert torch.allclose(shares, torch.full((10,), 0.1, dtype=torch.float64))


def test_stratified_batches_cover_one_epoch_and_follow_the_seed():
    weights = sampling_weights(valuations(), 0.5)
    first = list(stratified_batches(weights, 1000, torch.Generator().manual_seed(3)))
    again = list(stratified_batches(weights, 1000, torch.Generator().manual_seed(3)))
    assert sum(len(batch) for batch in first) == N_OPS
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    drawn = torch.cat(first)
    assert (valuations()[drawn] >= 5).sum() > 100  # 81 such ops; uniform sampling would draw ~81
