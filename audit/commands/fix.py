"""`vaeaudit fix`: show (default) or apply the rewrites of scan findings into Poincaré geometry.

An alias of ruff's interface, `vaeaudit scan --fix [--unsafe-fixes] [--diff] [--show-fixes]`:
both run `run_fix`, which runs the scan itself with a fixer (one parse per file).

Exit codes follow ruff: 0 nothing remains, 1 findings remain (a fix not applied, unsafe
or impossible, or in diff mode anything to fix: so a pre-commit hook fails), 2 errors
(bad config, unreadable or unparsable files, a rewrite that did not parse).
Diffs go to stdout (pipe them to `git apply`); everything else goes to stderr.
"""

from __future__ import annotations

from pathlib import Path

import click

from vaeaudit.commands.shared_options import settings_options, split_codes
from vaeaudit.interrupt import exit_130_on_interrupt


def _codes(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...] | None:
    return split_codes(values)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--apply", is_flag=True, help="Write the fixes. Without it, print a unified diff and write nothing.")
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Also apply fixes that may change meaning (unknown curvature, compared means, Euclidean-scale arithmetic, no dim, p≠2).",
)
@click.option("--show-fixes", is_flag=True, help="List every applied fix and where its curvature came from.")
@click.option("--select", multiple=True, callback=_codes, help="Rule codes or prefixes to fix (comma-separated).")
@click.option("--ignore", multiple=True, callback=_codes, help="Rule codes or prefixes to leave alone (comma-separated).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes for the scan pass (default: all cores).")
@settings_options
@click.option("--quiet", "-q", is_flag=True, help="Print remaining findings and errors only: no notes on applied unsafe fixes, no summary.")
@click.option(
    "--output-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the diff to this file instead of standard output.",
)
@exit_130_on_interrupt
def fix(
    paths: tuple[Path, ...],
    apply: bool,
    unsafe_fixes: bool,
    show_fixes: bool,
    select,
    ignore,
    jobs,
    preview,
    config,
    isolated,
    force_exclude,
    quiet,
    output_file,
) -> None:
    """Rewrite Euclidean norms/distances of Poincaré-ball points into poincare_distance.

    `vaeaudit fix` = `vaeaudit scan --diff`; `vaeaudit fix --apply` = `vaeaudit scan --fix`.
    PATHS default to `src` from [tool.vaeaudit] (else the current folder).
    """
    code = run_fix(
        paths,
        apply=apply,
        unsafe_fixes=unsafe_fixes,
        show_fixes=show_fixes,
        select=select,
        ignore=ignore,
        jobs=jobs,
        preview=preview,
        config=config,
        isolated=isolated,
        force_exclude=force_exclude,
        quiet=quiet,
        output_file=output_file,
    )
    if code:
        raise SystemExit(code)


def run_fix(
    paths: tuple[Path, ...],
    *,
    apply: bool,
    unsafe_fixes: bool,
    show_fixes: bool,
    select: tuple[str, ...] | None,
    ignore: tuple[str, ...] | None,
    jobs: int | None,
    preview: bool | None,
    config: Path | None,
    isolated: bool,
    force_exclude: bool | None,
    quiet: bool,
    output_file: Path | None,
    extend_exclude: tuple[str, ...] = (),
    min_confidence: str | None = None,
) -> int:
    """The fixer behind `vaeaudit fix` and `vaeaudit scan --fix/--diff` (one code path): the exit code.

    0 nothing remains, 1 findings remain (or, showing a diff, something to fix), 2 errors.
    """
    from vaeaudit.codemods.file_fixer import fix_paths
    from vaeaudit.codemods.options import FixOptions
    from vaeaudit.codemods.outcome import FIXED, UNSAFE
    from vaeaudit.config import ConfigError
    from vaeaudit.scan.formats import location
    from vaeaudit.scan.rules import unknown_selectors
    from vaeaudit.scan.settings import SettingsResolver

    start = paths[0] if paths else Path.cwd()
    try:
        # No scan cache: fix writes nothing outside the paths it is given.
        resolver = SettingsResolver(
            config=config,
            isolated=isolated,
            extend_exclude=extend_exclude,
            select=select,
            ignore=ignore,
            min_confidence=min_confidence,
            cache=False,
            preview=preview,
            force_exclude=force_exclude,
        )
        settings = resolver.settings_for(start if start.exists() else Path.cwd())
    except ConfigError as error:
        click.echo(f"error: {error}", err=True)
        return 2
    for prefix in unknown_selectors((*settings.select, *settings.ignore)):
        click.echo(f"error: unknown rule selector {prefix!r} (see `vaeaudit rule --all`)", err=True)
        return 2
    if not paths:
        paths = tuple(settings.project_root / src for src in settings.src)
    errors = 0
    existing = []
    for path in paths:
        if path.exists():
            existing.append(path)
        else:
            click.echo(f"error: {path}: no such file or folder", err=True)
            errors += 1
    options = FixOptions.from_settings(settings, unsafe_fixes=unsafe_fixes)
    counts = {"fixed": 0, "remaining": 0, "unsafe": 0}
    diffs: list[str] = []
    for report in fix_paths(existing, settings, options, apply=apply, jobs=jobs, resolver=resolver):
        if report.limitation:
            click.echo(f"warning: {report.path}: {report.limitation}", err=True)
        if report.error:
            click.echo(f"error: {report.path}: {report.error}", err=True)
            errors += 1
        if report.diff:
            diffs.append(report.diff)
            if output_file is None:
                click.echo(report.diff, nl=False)
        for outcome in report.outcomes:
            finding = outcome.finding
            where = f"{location(finding)}: {finding.rule}"
            if outcome.status == FIXED:
                counts["fixed"] += 1
                label = "fixed" if apply else "fixable"
                if outcome.reasons and not quiet:
                    click.echo(f"{where} {label} (unsafe): {'; '.join(outcome.reasons)}", err=True)
                elif show_fixes:
                    click.echo(f"{where} {label}: {outcome.note or 'no curvature needed'}", err=True)
            else:
                counts["remaining"] += 1
                counts["unsafe"] += outcome.status == UNSAFE
                label = "unsafe fix not applied" if outcome.status == UNSAFE else "not fixable"
                click.echo(f"{where} {label}: {'; '.join(outcome.reasons)}", err=True)
    if output_file is not None:
        errors += _write_output(output_file, "".join(diffs))
    if not quiet:
        click.echo(_summary(counts, errors, apply, unsafe_fixes), err=True)
    if errors:
        return 2
    if counts["remaining"] or (counts["fixed"] and not apply):
        return 1
    return 0


def _write_output(output_file: Path, text: str) -> int:
    """Write --output-file atomically; 1 (an error) when it cannot be written."""
    from vaeaudit.atomic import atomic_write_text

    try:
        atomic_write_text(output_file, text)
    except OSError as error:
        click.echo(f"error: --output-file {output_file}: cannot write: {error.strerror or error}", err=True)
        return 1
    return 0


def _summary(counts: dict[str, int], errors: int, apply: bool, unsafe_fixes: bool) -> str:
    verb = "Fixed" if apply else "Would fix"
    parts = [f"{verb} {counts['fixed']} finding(s)", f"{counts['remaining']} remaining"]
    if counts["unsafe"] and not unsafe_fixes:
        parts.append(f"{counts['unsafe']} with an unsafe fix (rerun with --unsafe-fixes to apply)")
    if errors:
        parts.append(f"{errors} error(s)")
    return ", ".join(parts) + "."
