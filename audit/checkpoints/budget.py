"""A per-file time budget, so one pathological file cannot hang a whole tree's report.

Static limits catch the known shapes (object graphs that expand through shared
references, oversized members); the budget catches the rest. It is a real-time interval
timer whose signal raises `OverBudget` in the main thread at the next Python
instruction, which interrupts the weights-only unpickler and our own checks alike.
`OverBudget` is a BaseException so that `except Exception` around torch.load cannot
swallow it. Outside the main thread (no signals there) the budget is not enforced.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class OverBudget(BaseException):
    """The file took longer than its budget."""


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise OverBudget inside the block once `seconds` of wall time have passed."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer") or seconds <= 0:
        yield
        return

    def expire(_signum, _frame) -> None:
        raise OverBudget

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
