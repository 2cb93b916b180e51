"""Per-tensor facts of a state dict: content digests and numerical health.

Duplicates are found by tensor *content*, not file hash: two `torch.save` calls of the
same weights differ in the archive prefix and the serialization id. A digest per tensor
also lets the audit compare subsets (the trainable part of two runs, or a run against
the frozen checkpoint it started from).
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TensorHealth:
    """Names of tensors with non-finite values, all-zero ("dead") or constant weights."""

    non_finite: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)
    constant: list[str] = field(default_factory=list)


def tensor_digest(tensor: Any) -> str:
    """XXH3-128 of dtype, shape and raw bytes: equal iff the tensors are bit-identical.

    An identity check between runs, not a defence against forged collisions: 128 bits
    make an accidental collision negligible, and the hash runs on every tensor of every
    file at ~20x SHA-1's speed (SHA-1 alone was ~7 % of a trainer checkpoint's audit).
    """
    import torch
    import xxhash

    digest = xxhash.xxh3_128(f"{tensor.dtype}{tuple(tensor.shape)}".encode())
    if tensor.is_cpu and tensor.dtype in _numpy_dtypes() and tensor.is_contiguous() and not tensor.is_neg():
        digest.update((tensor.detach() if tensor.requires_grad else tensor).numpy())  # the same bytes, hashed in place
        return digest.hexdigest()
    flat = tensor.detach().contiguous().reshape(-1)
    raw = flat.view(torch.uint8) if flat.numel() and flat.dtype != torch.bool else flat.to(torch.uint8)
    digest.update(raw.numpy().data if raw.numel() else b"")  # hashed in place, no copy
    return digest.hexdigest()


@functools.cache
def _numpy_dtypes() -> frozenset[Any]:
    """Torch dtypes whose `.numpy()` view holds exactly the bytes the slow path hashes (bool: 0/1)."""
    import torch

    return frozenset(
        (torch.float64, torch.float32, torch.float16, torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool)
    )


def combined_digest(named_digests: Mapping[str, str], names: Iterable[str] | None = None) -> str:
    """One digest over (name, digest) pairs, restricted to `names` when given."""
    chosen = sorted(named_digests if names is None else names)
    digest = hashlib.blake2b(digest_size=16)
    for name in chosen:
        digest.update(f"{name}={named_digests[name]};".encode())
    return digest.hexdigest()


def tensor_facts(state_dict: Mapping[str, Any]) -> tuple[dict[str, str], TensorHealth]:
    """(digest per tensor, health) of a state dict, in one pass over its tensors.

    Health: floating tensors are checked for NaN/inf; weight matrices (>= 2-D) for dead
    or constant values. 1-D tensors are left out of the dead/constant test: biases start
    at zero and LayerNorm weights at one, so a constant vector there is normal. One
    min/max per tensor answers everything (NaN propagates into both, +-inf shows in one
    of them), and all of them become Python floats in one conversion, not two per tensor.
    """
    import torch

    named_digests: dict[str, str] = {}
    floating: list[tuple[str, Any]] = []
    extremes: list[Any] = []
    for name, tensor in state_dict.items():
        named_digests[name] = tensor_digest(tensor)
        if tensor.is_floating_point() and tensor.numel():
            floating.append((name, tensor))
            extremes.extend(torch.aminmax(tensor))
    health = TensorHealth()
    values = torch.stack(extremes).tolist() if extremes else []  # mixed float dtypes promote exactly
    for index, (name, tensor) in enumerate(floating):
        low, high = values[2 * index], values[2 * index + 1]
        if not (math.isfinite(low) and math.isfinite(high)):
            health.non_finite.append(name)
        elif tensor.dim() >= 2 and tensor.numel() >= 2 and low == high:
            (health.dead if high == 0.0 else health.constant).append(name)
    return named_digests, health
