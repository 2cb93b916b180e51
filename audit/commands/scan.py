"""`vaeaudit scan`: report Euclidean norms and distances taken of Poincaré-ball points.

Exit codes follow ruff: 0 nothing found, 1 findings, 2 a usage/configuration error or a
file that could not be read or parsed (reported; every other file is still scanned).
Only click and the standard library are imported here; the scanner loads inside.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

_DEFAULT_REPORT = "reports/scan_report.md"


class ScanUsageError(click.ClickException):
    """A configuration or input problem: exit 2, as for click's own usage errors."""

    exit_code = 2


def _codes(values: tuple[str, ...]) -> tuple[str, ...] | None:
    """`--select HYP001,HYP002 --select HYP` -> ("HYP001", "HYP002", "HYP"); None when not given."""
    if not values:
        return None
    return tuple(code.strip().upper() for value in values for code in value.split(",") if code.strip())


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--output-format", "output_format", type=click.Choice(["text", "json", "sarif", "github", "markdown"]), default="text", show_default=True, help="How findings are printed.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option("--select", multiple=True, metavar="CODES", help="Rule codes or prefixes to report (comma-separated; replaces the configured list).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Rule codes or prefixes not to report (comma-separated; replaces the configured list).")
@click.option("--extend-exclude", multiple=True, metavar="GLOB", help="More paths to skip, on top of `exclude`.")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default=None, help="Hide findings below this confidence.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (errors still exit 2).")
@click.option("--stdin-filename", default=None, metavar="PATH", help="The file name to report (and to match per-file-ignores) when reading `-`.")
@click.option("--report", "report", is_flag=False, flag_value=_DEFAULT_REPORT, default=None, metavar="[FILE]", help=f"Also write a Markdown report (default FILE: {_DEFAULT_REPORT} under the project root).")
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Hide findings recorded in this baseline file; only new ones count.")
@click.option("--write-baseline", is_flag=True, help="Record today's findings in the --baseline file and exit 0.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the content-hash cache.")
@click.option("--cache-dir", default=None, metavar="DIR", help="Cache folder, inside the project root (default .vaeaudit_cache).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes for changed files (default: all cores).")
@click.option("--preview/--no-preview", default=None, help="Enable preview-tier rules (overrides the `preview` setting).")
def scan(paths, output_format, statistics, select, ignore, extend_exclude, min_confidence, exit_zero, stdin_filename, report, baseline, write_baseline, no_cache, cache_dir, jobs, preview):
    """Find Euclidean norms/distances of Poincaré-ball points in PATHS (default: `src` setting, or `.`).

    Use `-` to read one file from standard input (name it with --stdin-filename).
    """
    from vaeaudit.config import ConfigError
    from vaeaudit.scan.settings import load_settings

    if write_baseline and baseline is None:
        raise click.UsageError("--write-baseline needs --baseline FILE")
    reading_stdin = paths == ("-",)
    if "-" in paths and not reading_stdin:
        raise click.UsageError("`-` (standard input) cannot be combined with other paths")
    if stdin_filename is not None and not reading_stdin:
        raise click.UsageError("--stdin-filename names standard input: pass `-` as the path")
    start = _settings_start(paths, reading_stdin, stdin_filename)
    overrides = {
        "select": _codes(select),
        "ignore": _codes(ignore),
        "min_confidence": min_confidence,
        "cache": False if no_cache else None,
        "cache_dir": cache_dir,
        "preview": preview,
    }
    try:
        settings = load_settings(start, **overrides)
        if extend_exclude:
            settings = dataclasses.replace(settings, extend_exclude=settings.extend_exclude + extend_exclude)
        if settings.config_path is None and any(Path(path).is_file() for path in paths):
            # No project, and a file given: the folder around it is not ours to fill with a cache.
            settings = dataclasses.replace(settings, cache=False)
        _check_selectors(settings)
        outcome = _run(paths, reading_stdin, stdin_filename, settings, jobs)
    except ConfigError as error:
        raise ScanUsageError(str(error)) from None
    findings, errors, files_scanned, shown_paths = outcome
    if baseline is not None:
        findings = _apply_baseline(baseline, findings, write_baseline)
        if write_baseline:
            click.echo(f"Recorded {len(findings)} finding(s) in {baseline}.", err=True)
            findings = []
    _print(findings, errors, output_format, statistics, settings, files_scanned, shown_paths)
    if report is not None:
        _write_report(report, findings, errors, files_scanned, settings, shown_paths)
    if any(problem.severity == "error" for problem in errors):
        sys.exit(2)
    sys.exit(1 if findings and not exit_zero else 0)


def _settings_start(paths: tuple[str, ...], reading_stdin: bool, stdin_filename: str | None) -> Path:
    """Where to look for pyproject.toml: beside the (stdin) file or the first path, else here."""
    if reading_stdin:
        return Path(stdin_filename).parent if stdin_filename else Path.cwd()
    if paths and Path(paths[0]).exists():
        return Path(paths[0])
    return Path.cwd()


def _check_selectors(settings) -> None:
    from vaeaudit.scan.rules import unknown_selectors

    for prefix in unknown_selectors((*settings.select, *settings.ignore)):
        raise ScanUsageError(f"unknown rule selector {prefix!r} (see `vaeaudit rule --all`)")


def _run(paths, reading_stdin, stdin_filename, settings, jobs):
    """Scan stdin or the files under `paths`; returns (findings, errors, files scanned, paths shown)."""
    from vaeaudit.scan.runner import FileResult, scan_bytes, scan_files

    if reading_stdin:
        name = stdin_filename or "-"
        result = scan_bytes(name, sys.stdin.buffer.read(), settings)
        return result.findings, [result] if result.error else [], 1, [name]
    from vaeaudit.scan.discovery import iter_python_files

    roots = list(paths) or _default_roots(settings)
    missing = [FileResult(root, error="no such file or directory") for root in roots if not Path(root).exists()]
    files = list(iter_python_files([root for root in roots if Path(root).exists()], settings))
    run = scan_files(files, settings, jobs=jobs)
    return run.findings, [*missing, *run.errors], len(files), roots


def _default_roots(settings) -> list[str]:
    """The configured `src` folders, shown relative to the project root when we stand in it."""
    in_root = settings.project_root.resolve() == Path.cwd().resolve()
    return [src if in_root else str(settings.project_root / src) for src in settings.src]


def _apply_baseline(baseline: Path, findings, write: bool):
    from vaeaudit.scan.baseline import BaselineError, new_findings, read_baseline, write_baseline

    if write:
        try:
            write_baseline(baseline, findings)
        except OSError as error:
            raise ScanUsageError(f"{baseline}: cannot write baseline: {error.strerror or error}") from None
        return findings
    try:
        return new_findings(findings, read_baseline(baseline))
    except BaselineError as error:
        raise ScanUsageError(str(error)) from None


def _print(findings, errors, output_format, statistics, settings, files_scanned, shown_paths) -> None:
    from vaeaudit.scan import formats

    if statistics or output_format == "text":
        click.echo(formats.statistics(findings) if statistics else formats.text(findings, []), nl=False)
        for problem in errors:
            click.echo(formats.problem_line(problem), err=True)
        if (findings or errors) and not statistics:
            click.echo(f"Found {len(findings)} finding(s) in {files_scanned} file(s).", err=True)
        return
    if output_format == "markdown":
        from vaeaudit.scan.report import render_report

        click.echo(render_report(findings, errors, files_scanned, settings, shown_paths), nl=False)
        return
    writer = {"json": formats.as_json, "sarif": formats.sarif, "github": formats.github}[output_format]
    click.echo(writer(findings, errors), nl=False)


def _write_report(report: str, findings, errors, files_scanned, settings, shown_paths) -> None:
    from vaeaudit.atomic import atomic_write_text
    from vaeaudit.scan.report import render_report

    destination = settings.project_root / report if report == _DEFAULT_REPORT else Path(report)
    try:
        if report == _DEFAULT_REPORT:
            destination.parent.mkdir(parents=True, exist_ok=True)
        if not destination.parent.is_dir():
            raise ScanUsageError(f"--report {report}: folder {destination.parent} does not exist")
        atomic_write_text(destination, render_report(findings, errors, files_scanned, settings, shown_paths))
    except OSError as error:  # a folder in its place, no permission, a full disk: nothing half-written
        raise ScanUsageError(f"--report {report}: cannot write {destination}: {error.strerror or error}") from None
    click.echo(f"Wrote {destination}", err=True)
