"""The fixes as libcst CodemodCommands, so `python -m libcst.tool codemod -x ...` runs them too.

    python -m libcst.tool codemod --no-format -x vaeaudit.codemods.commands.FixAllCommand src/
    python -m libcst.tool codemod --no-format -x vaeaudit.codemods.commands.FixRadiusCommand --unsafe-fixes src/

Each command scans the module it is given with the project's settings (the
pyproject.toml nearest to the file), rewrites with the same engine as `vaeaudit fix`,
and warns about every finding it leaves (unsafe or impossible) with the reason. A
rewrite that would not parse again is dropped and the file left as it was.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodCommand, CodemodContext, SkipFile

from vaeaudit.codemods.options import FixOptions
from vaeaudit.codemods.rewrite import rewrite_module
from vaeaudit.codemods.verify import parse_problem


class FixAllCommand(CodemodCommand):
    """Rewrite every fixable HYP finding (what `vaeaudit fix` does)."""

    DESCRIPTION: str = "Rewrite Euclidean norms/distances of Poincaré-ball points into poincare_distance (HYP001, HYP002)."
    RULES: tuple[str, ...] = ("HYP001", "HYP002")

    def __init__(self, context: CodemodContext, unsafe_fixes: bool = False) -> None:
        super().__init__(context)
        self.unsafe_fixes = unsafe_fixes

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--unsafe-fixes",
            action="store_true",
            default=False,
            help="Also apply fixes that may change meaning (see `vaeaudit fix --help`).",
        )

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        from vaeaudit.config import ConfigError
        from vaeaudit.scan import scan_module
        from vaeaudit.scan.settings import load_settings

        filename = self.context.filename
        try:
            settings = load_settings(Path(filename).parent if filename else Path.cwd(), select=self.RULES)
        except ConfigError as error:
            raise SkipFile(str(error)) from None
        findings = scan_module(tree, filename or "<stdin>", settings)
        result = rewrite_module(tree, findings, FixOptions.from_settings(settings, unsafe_fixes=self.unsafe_fixes))
        for outcome in result.outcomes:
            if outcome.remains:
                finding = outcome.finding
                self.warn(f"{finding.rule} at {finding.line}:{finding.col} {outcome.status}: {'; '.join(outcome.reasons)}")
        if not result.changed:
            return tree
        problem = parse_problem(result.module.bytes, filename or "<stdin>")
        if problem is not None:
            self.warn(f"the rewritten module does not parse ({problem}); left unchanged")
            return tree
        return result.module


class FixRadiusCommand(FixAllCommand):
    """HYP001 only: Euclidean norm of a ball point used as its radius."""

    DESCRIPTION = "Rewrite Euclidean norms of Poincaré-ball points into poincare_distance to the origin (HYP001)."
    RULES = ("HYP001",)


class FixDistanceCommand(FixAllCommand):
    """HYP002 only: Euclidean distance between ball points."""

    DESCRIPTION = "Rewrite Euclidean distances between Poincaré-ball points into poincare_distance(_matrix) (HYP002)."
    RULES = ("HYP002",)
