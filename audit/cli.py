"""The `vaeaudit` entry point: a click group whose commands load on first use.

Each command lives in `vaeaudit.commands.<module>` and is imported only when it runs or
when `--help` lists it; those modules import nothing heavier than click at top level,
so `vaeaudit --help` answers without touching torch or libcst.

The light core (`pip install vaeaudit`) runs `scan`, `fix` and `rule`; `checkpoints` and
`train` need the `torch` extra. A command whose extra is missing stops before it starts,
with exit 2 and the pip command that installs what it needs.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import NamedTuple

import click

from vaeaudit import __version__


class CommandSpec(NamedTuple):
    module: str
    attribute: str
    extra: str | None = None  # the optional-dependencies group the command needs
    needs: tuple[str, ...] = ()  # top-level modules that extra provides


_TORCH_EXTRA = ("torch", "pandas", "tabulate", "yaml", "xxhash", "zlib_ng")

# name -> where it lives; order is the order `--help` lists them in.
COMMANDS: dict[str, CommandSpec] = {
    "scan": CommandSpec("vaeaudit.commands.scan", "scan"),
    "fix": CommandSpec("vaeaudit.commands.fix", "fix"),
    "rule": CommandSpec("vaeaudit.commands.rule", "rule"),
    "checkpoints": CommandSpec("vaeaudit.commands.checkpoints", "checkpoints", "torch", _TORCH_EXTRA),
    "train": CommandSpec("vaeaudit.commands.train", "train", "torch", _TORCH_EXTRA),
}


class MissingExtra(click.ClickException):
    """A command's optional dependencies are not installed (a set-up error: exit 2)."""

    exit_code = 2


def missing_modules(spec: CommandSpec) -> list[str]:
    """The modules of the command's extra that cannot be imported (found without importing)."""
    return [name for name in spec.needs if importlib.util.find_spec(name) is None]


class LazyGroup(click.Group):
    """A group that imports a command's module only when the command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        spec = COMMANDS[cmd_name]
        return getattr(importlib.import_module(spec.module), spec.attribute)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        """Resolve as click does, then refuse to run a command whose extra is missing.

        `--help` still works without the extra: reading about a command installs nothing.
        """
        name, command, rest = super().resolve_command(ctx, args)
        spec = COMMANDS.get(name or "")
        if spec and spec.extra and not ctx.resilient_parsing and not {"-h", "--help"} & set(rest):
            missing = missing_modules(spec)
            if missing:
                raise MissingExtra(
                    f"`vaeaudit {name}` needs {', '.join(missing)}, which is not installed. "
                    f"Install it with: pip install 'vaeaudit[{spec.extra}]'"
                )
        return name, command, rest


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vaeaudit")
def main() -> None:
    """Audit hyperbolic (Poincaré-ball) VAE code, checkpoints and training."""
