"""Ctrl-C ends a command with exit status 130 (128 + SIGINT), as shells and ruff do.

click's own handling prints "Aborted!" and exits 1, the code `scan` and `fix` use for
"findings": a CI step or a pre-commit hook would mistake an interrupted run for a real
result. Writes are atomic (`vaeaudit.atomic`), so an interrupted run leaves no half file.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

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
