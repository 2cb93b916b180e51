"""`vaeaudit scan`: report Euclidean norms and distances taken of Poincaré-ball points.

Exit codes follow ruff: 0 nothing found, 1 findings, 2 a usage/configuration error or a
file that could not be read or parsed (reported; every other file is still scanned).
Only click and the standard library are imported here; the scanner loads inside.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import click

from vaeaudit.commands.shared_options import settings_options, split_codes
from vaeaudit.interrupt import exit_130_on_interrupt

_DEFAULT_REPORT = "reports/scan_report.md"


class ScanUsageError(click.ClickException):
    """A configuration or input problem: exit 2, as for click's own usage errors."""

    exit_code = 2


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--output-format",
    "output_format",
    type=click.Choice(["text", "json", "sarif", "github", "markdown"]),
    default="text",
    show_default=True,
    help="How findings are printed.",
)
@click.option(
    "--output-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the findings to this file instead of standard output.",
)
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only: no summary, no progress messages.")
@click.option(
    "--select", multiple=True, metavar="CODES", help="Rule codes or prefixes to report (comma-separated; replaces the configured list)."
)
@click.option(
    "--ignore", multiple=True, metavar="CODES", help="Rule codes or prefixes not to report (comma-separated; replaces the configured list)."
)
@click.option("--extend-exclude", multiple=True, metavar="GLOB", help="More paths to skip, on top of `exclude`.")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default=None, help="Hide findings below this confidence.")
@settings_options
@click.option(
    "--show-settings", is_flag=True, help="Print the settings that apply to the first path (and the file they come from), then exit."
)
@click.option("--show-files", is_flag=True, help="Print the files that would be scanned, then exit.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (errors still exit 2).")
@click.option(
    "--stdin-filename", default=None, metavar="PATH", help="The file name to report (and to match per-file-ignores) when reading `-`."
)
@click.option(
    "--report",
    "report",
    is_flag=False,
    flag_value=_DEFAULT_REPORT,
    default=None,
    metavar="[FILE]",
    help=f"Also write a Markdown report (default FILE: {_DEFAULT_REPORT} under the project root). A run with errors keeps the last report.",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Hide findings recorded in this baseline file; only new ones count.",
)
@click.option("--write-baseline", is_flag=True, help="Record today's findings in the --baseline file and exit 0.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the content-hash cache.")
@click.option("--cache-dir", default=None, metavar="DIR", help="Cache folder, inside the project root (default .vaeaudit_cache).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes for changed files (default: all cores).")
@click.option("--fix", "fix_", is_flag=True, help="Apply the safe fixes (as `vaeaudit fix --apply`).")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff: also the fixes that may change meaning.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff and write nothing (as `vaeaudit fix`).")
@click.option("--show-fixes", is_flag=True, help="With --fix or --diff: list each fix and where its curvature came from.")
@exit_130_on_interrupt
def scan(
    paths,
    output_format,
    output_file,
    statistics,
    quiet,
    select,
    ignore,
    extend_exclude,
    force_exclude,
    min_confidence,
    preview,
    config,
    isolated,
    show_settings,
    show_files,
    exit_zero,
    stdin_filename,
    report,
    baseline,
    write_baseline,
    no_cache,
    cache_dir,
    jobs,
    fix_,
    unsafe_fixes,
    diff,
    show_fixes,
):
    """Find Euclidean norms/distances of Poincaré-ball points in PATHS (default: `src` setting, or `.`).

    Python files and Jupyter notebooks are scanned. Each path takes the settings of its
    closest configuration file (`.vaeaudit.toml`, `vaeaudit.toml`, or `pyproject.toml`
    with `[tool.vaeaudit]`). Use `-` to read one file from standard input (name it with
    --stdin-filename).
    """
    from vaeaudit.config import ConfigError
    from vaeaudit.scan.settings import SettingsResolver

    if write_baseline and baseline is None:
        raise click.UsageError("--write-baseline needs --baseline FILE")
    reading_stdin = paths == ("-",)
    if "-" in paths and not reading_stdin:
        raise click.UsageError("`-` (standard input) cannot be combined with other paths")
    if stdin_filename is not None and not reading_stdin:
        raise click.UsageError("--stdin-filename names standard input: pass `-` as the path")
    overrides = {
        "select": split_codes(select),
        "ignore": split_codes(ignore),
        "min_confidence": min_confidence,
        "cache": False if no_cache else None,
        "cache_dir": cache_dir,
        "preview": preview,
        "force_exclude": force_exclude,
    }
    try:
        resolver = SettingsResolver(config=config, isolated=isolated, extend_exclude=extend_exclude, **overrides)
        settings = resolver.settings_for(_settings_start(paths, reading_stdin, stdin_filename))
        if show_settings:
            click.echo(_settings_text(settings), nl=False)
            return
        if show_files:
            for path, _settings in _discover(paths or _default_roots(settings), resolver):
                click.echo(str(path))
            return
        if fix_ or diff:  # ruff's interface: `vaeaudit fix` is the same fixer, on the same scan
            _check_fix_options(reading_stdin, output_format, statistics, baseline, write_baseline, report)
            code = _fix(paths, diff, unsafe_fixes, show_fixes, overrides, config, isolated, extend_exclude, jobs, quiet, output_file)
            sys.exit(0 if exit_zero and code == 1 else code)
        outcome = _run(paths, reading_stdin, stdin_filename, settings, resolver, jobs)
    except ConfigError as error:
        raise ScanUsageError(str(error)) from None
    findings, errors, files_scanned, shown_paths = outcome
    if baseline is not None:
        findings = _apply_baseline(baseline, findings, write_baseline)
        if write_baseline:
            _say(quiet, f"Recorded {len(findings)} finding(s) in {baseline}.")
            findings = []
    failed = any(problem.severity == "error" for problem in errors)
    _emit(_render(findings, errors, output_format, statistics, settings, files_scanned, shown_paths), output_file, quiet)
    if output_format == "text" and not statistics:
        from vaeaudit.scan.formats import problem_line

        for problem in errors:
            click.echo(problem_line(problem), err=True)
        if findings or errors:
            _say(quiet, f"Found {len(findings)} finding(s) in {files_scanned} file(s).")
        else:
            _say(quiet, f"All checks passed! ({files_scanned} file(s) scanned)")
    if report is not None:
        if failed:
            _say(quiet, "Report not written: some files could not be scanned; the last report (if any) is kept.")
        else:
            _write_report(report, findings, errors, files_scanned, settings, shown_paths, quiet)
    if failed:
        sys.exit(2)
    sys.exit(1 if findings and not exit_zero else 0)


def _check_fix_options(reading_stdin, output_format, statistics, baseline, write_baseline, report) -> None:
    """Options of a report that --fix/--diff do not print: a usage error, never silently dropped."""
    given = [
        name
        for name, on in (
            ("`-` (standard input)", reading_stdin),
            (f"--output-format {output_format}", output_format != "text"),
            ("--statistics", statistics),
            ("--baseline", baseline is not None or write_baseline),
            ("--report", report is not None),
        )
        if on
    ]
    if given:
        raise click.UsageError(f"{given[0]} cannot be combined with --fix or --diff")


def _fix(paths, diff, unsafe_fixes, show_fixes, overrides, config, isolated, extend_exclude, jobs, quiet, output_file) -> int:
    """`vaeaudit fix` (`--apply` unless --diff) with this command's options: its exit code."""
    from vaeaudit.commands.fix import run_fix

    return run_fix(
        tuple(Path(path) for path in paths),
        apply=not diff,
        unsafe_fixes=unsafe_fixes,
        show_fixes=show_fixes,
        select=overrides["select"],
        ignore=overrides["ignore"],
        jobs=jobs,
        preview=overrides["preview"],
        config=config,
        isolated=isolated,
        force_exclude=overrides["force_exclude"],
        quiet=quiet,
        output_file=output_file,
        extend_exclude=extend_exclude,
        min_confidence=overrides["min_confidence"],
    )


def _settings_start(paths: tuple[str, ...], reading_stdin: bool, stdin_filename: str | None) -> Path:
    """Whose settings answer for the whole run (src, report, --show-settings): the (stdin) file or the first path, else here."""
    if reading_stdin:
        return Path(stdin_filename) if stdin_filename else Path.cwd()
    if paths and Path(paths[0]).exists():
        return Path(paths[0])
    return Path.cwd()


def _settings_text(settings) -> str:
    """The resolved settings as TOML a user could paste into `[tool.vaeaudit]`."""
    from vaeaudit.scan.settings import config_values

    lines = [
        f"# Settings from {settings.config_path or 'the defaults (no configuration file)'}",
        f"# project root: {settings.project_root}",
    ]
    lines += [f"{key} = {_toml(value)}" for key, value in config_values(settings).items()]
    return "\n".join(lines) + "\n"


def _toml(value) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(name)} = {_toml(items)}" for name, items in value.items()) + " }" if value else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(value)


def _say(quiet: bool, message: str) -> None:
    """A message for the person at the terminal (stderr), silenced by --quiet."""
    if not quiet:
        click.echo(message, err=True)


def _discover(roots, resolver) -> list:
    """(file, its settings) for each file to scan under the `roots` that exist, in discovery order."""
    from vaeaudit.scan.discovery import discover

    return discover([str(root) for root in roots if os.path.exists(root)], resolver)


def _run(paths, reading_stdin, stdin_filename, settings, resolver, jobs):
    """Scan stdin or the files under `paths`; returns (findings, errors, files scanned, paths shown).

    Files are scanned in groups that share settings (one per configuration file), and
    reported in discovery order.
    """
    from vaeaudit.scan.runner import FileResult, analysis_standby, scan_bytes, scan_files

    if reading_stdin:
        name = stdin_filename or "-"
        result = scan_bytes(name, sys.stdin.buffer.read(), settings)
        return result.findings, [result] if result.error else [], 1, [name]
    roots = list(paths) or _default_roots(settings)
    missing = [FileResult(root, error="no such file or directory") for root in roots if not os.path.exists(root)]
    standby = None
    try:
        standby = analysis_standby(settings, jobs)  # started first: it imports the analysis while we discover
        discovered = _discover(roots, resolver)
        files = [path for path, _settings in discovered]
        named_files = any(os.path.isfile(root) for root in roots)
        groups: dict = {}
        for path, governing in discovered:
            groups.setdefault(governing, []).append(path)
        results = {}
        for group_settings, group in groups.items():
            if group_settings.config_path is None and named_files:
                # No project, and a file given: the folder around it is not ours to fill with a cache.
                group_settings = dataclasses.replace(group_settings, cache=False)
            for result in scan_files(group, group_settings, jobs=jobs, standby=standby).results:
                results[result.path] = result
    finally:
        if standby is not None:
            standby.close()
    ordered = [results[str(path)] for path in files]
    findings = [finding for result in ordered for finding in result.findings]
    return findings, [*missing, *(result for result in ordered if result.error is not None)], len(files), roots


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


def _render(findings, errors, output_format, statistics, settings, files_scanned, shown_paths) -> str:
    """The run's main output in the chosen format (in text format, problems go to stderr instead)."""
    from vaeaudit.scan import formats

    if statistics:
        return formats.statistics(findings)
    if output_format == "markdown":
        from vaeaudit.scan.report import render_report

        return render_report(findings, errors, files_scanned, settings, shown_paths)
    if output_format == "text":
        return formats.text(findings, [])
    return {"json": formats.as_json, "sarif": formats.sarif, "github": formats.github}[output_format](findings, errors)


def _emit(output: str, output_file: Path | None, quiet: bool) -> None:
    """Print `output`, or write it atomically to --output-file."""
    if output_file is None:
        click.echo(output, nl=False)
        return
    from vaeaudit.atomic import atomic_write_text

    try:
        atomic_write_text(output_file, output)
    except OSError as error:
        raise ScanUsageError(f"--output-file {output_file}: cannot write: {error.strerror or error}") from None
    _say(quiet, f"Wrote {output_file}")


def _write_report(report: str, findings, errors, files_scanned, settings, shown_paths, quiet: bool) -> None:
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
    _say(quiet, f"Wrote {destination}")
