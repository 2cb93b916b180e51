"""The one timing rule every benchmark here follows: median wall time of several runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(action: Callable[[], object], repeats: int, *, warmup: bool = False) -> float:
    """Median wall-clock seconds of `repeats` calls of `action` (after one untimed call if `warmup`)."""
    if warmup:
        action()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)
