"""Options that `scan` and `fix` share, declared once so their names and meaning cannot drift."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def split_codes(values: tuple[str, ...]) -> tuple[str, ...] | None:
    """`--select hyp001,HYP002 --select HYP` -> ("HYP001", "HYP002", "HYP"); None when not given."""
    codes = tuple(code.strip().upper() for value in values for code in value.split(",") if code.strip())
    return codes or None


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--preview, --config, --isolated and --force-exclude: which settings apply, and to which files."""
    for option in reversed(
        (
            click.option("--preview/--no-preview", default=None, help="Enable preview-tier rules (overrides the `preview` setting)."),
            click.option(
                "--config",
                "config",
                type=click.Path(path_type=Path, dir_okay=False),
                default=None,
                help="Use this configuration file for every path (instead of the closest one).",
            ),
            click.option("--isolated", is_flag=True, help="Ignore every configuration file: defaults and command-line flags only."),
            click.option(
                "--force-exclude/--no-force-exclude",
                default=None,
                help="Apply `exclude` also to files named on the command line (for pre-commit).",
            ),
        )
    ):
        command = option(command)
    return command
