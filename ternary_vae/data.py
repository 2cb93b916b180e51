"""The data set: all 3^9 = 19,683 ternary operations, their trits and 3-adic valuations.

Operation i has trits ((i // 3^k) % 3) − 1 for k = 0..8 (low digit first) and valuation
v(i) = the largest k with 3^k | i (v(0) = 9), so level v holds 2·3^(8−v) operations for
v < 9 and one (i = 0) for v = 9. The whole set fits in memory many times over, so
"data loading" is index sampling.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

N_TRITS = 9
N_OPS = 3**N_TRITS
N_LEVELS = N_TRITS + 1
LEVEL_SIZES: tuple[int, ...] = tuple(2 * 3 ** (N_TRITS - 1 - v) for v in range(N_TRITS)) + (1,)


def all_operations() -> torch.Tensor:
    """(19683, 9) float32 trits in {−1, 0, 1}, row i = operation i."""
    index = torch.arange(N_OPS).unsqueeze(1)
    powers = 3 ** torch.arange(N_TRITS)
    return ((index // powers) % 3 - 1).to(torch.float32)


def three_adic_valuation(values: torch.Tensor) -> torch.Tensor:
    """v(n) for integer n (sign ignored); v(0) is capped at 9, the valuation of op 0."""
    remaining = values.abs().to(torch.long)
    valuation = torch.zeros_like(remaining)
    for _ in range(N_TRITS):
        divisible = (remaining % 3 == 0) & (valuation < N_TRITS)
        valuation += divisible.to(torch.long)
        remaining = torch.where(divisible, remaining // 3, remaining)
    return valuation


def valuations() -> torch.Tensor:
    """(19683,) long 3-adic valuation of every operation index."""
    return three_adic_valuation(torch.arange(N_OPS))


def sampling_weights(valuation: torch.Tensor, oversample: float) -> torch.Tensor:
    """Per-op weights ∝ level_size^(−oversample): 0 samples uniformly, 1 gives every level
    the same share, so the 19 ops with v ≥ 7 are not drowned by the 13,122 with v = 0."""
    sizes = torch.tensor(LEVEL_SIZES, dtype=torch.float64)[valuation]
    weights = sizes.pow(-oversample)
    return weights / weights.sum()


def stratified_batches(weights: torch.Tensor, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """One epoch (N_OPS samples, with replacement) of index batches drawn by `weights`."""
    drawn = torch.multinomial(weights, N_OPS, replacement=True, generator=generator)
    yield from drawn.split(batch_size)
