"""The `vaeaudit` entry point: a click group whose commands load on first use.

Each command lives in `vaeaudit.commands.<module>` and is imported only when it runs or
when `--help` lists it; those modules import nothing heavier than click at top level,
so `vaeaudit --help` answers without touching torch or libcst.
"""

from __future__ import annotations

import importlib

import click

from vaeaudit import __version__

# name -> (module, attribute); order is the order `--help` lists them in.
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("vaeaudit.commands.scan", "scan"),
    "fix": ("vaeaudit.commands.fix", "fix"),
    "rule": ("vaeaudit.commands.rule", "rule"),
    "checkpoints": ("vaeaudit.commands.checkpoints", "checkpoints"),
    "train": ("vaeaudit.commands.train", "train"),
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when the command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vaeaudit")
def main() -> None:
    """Audit hyperbolic (Poincaré-ball) VAE code, checkpoints and training."""
