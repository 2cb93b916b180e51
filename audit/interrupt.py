"""Ctrl-C ends a command with exit status 130 (128 + SIGINT), as shells and ruff do.

click's own handling prints "Aborted!" and exits 1, the code `scan` and `fix` use for
"findings": a CI step or a pre-commit hook would mistake an interrupted run for a real
result. Writes are atomic (`vaeaudit.atomic`), so an interrupted run leaves no half file.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

_F = TypeVar("_F", bound=Callable[..., Any])

INTERRUPTED = 130


def exit_130_on_interrupt(command: _F) -> _F:
    """Decorate a click command's function (below `@click.command`)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(INTERRUPTED)

    return run  # type: ignore[return-value]


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop a process pool's workers now (Ctrl-C, an error), instead of letting them finish their queued tasks.

    Reads the pool's private `_processes` (Python 3.14 has `terminate_workers()`); without it
    the pool only cancels what has not started. The pool's manager thread reaps the workers
    too, so it is waited for: until then a worker it reaped can still look alive to us.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
        process.join()
    if manager is not None:
        manager.join()
