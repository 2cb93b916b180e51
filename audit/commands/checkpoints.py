"""`vaeaudit checkpoints report|inspect`: audit a tree of training runs, or one file.

Only click and the standard library are imported here; torch, pandas and jinja2 load
inside the command bodies, so `vaeaudit --help` stays fast. Exit codes: 0 done, 1 with
--strict and something invalid or unsafe, 2 usage or configuration error, 130 Ctrl-C.
A report is written atomically and only once everything succeeded, so a failed or
interrupted run never replaces the previous report.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vaeaudit.interrupt import exit_130_on_interrupt

FORMATS = ("md", "json", "csv")
DEFAULT_OUTPUT_STEM = Path("reports") / "checkpoints"


@click.group()
def checkpoints() -> None:
    """Classify, validate and report on training-run checkpoints, safely.

    No file is ever unpickled beyond torch's weights-only loader, and files whose
    pickles import anything dangerous are reported as UNSAFE and never loaded.
    """


def _settings():
    from vaeaudit.checkpoints.settings import load_settings
    from vaeaudit.config import ConfigError

    try:
        settings = load_settings(Path.cwd())
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    for message in settings.deprecations:
        click.echo(f"warning: {message}", err=True)
    return settings


class _Progress:
    """`done/total path` on one stderr line, rewritten in place."""

    def __call__(self, done: int, total: int, label: str) -> None:
        from vaeaudit.checkpoints.terminal import terminal_safe

        click.echo(f"\r\033[K[{done}/{total}] {terminal_safe(label[-70:])}", nl=False, err=True)
        if done == total:
            click.echo(err=True)


@checkpoints.command()
@click.argument("root", required=False, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the report [default: reports/checkpoints.<format>].",
)
@click.option(
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="md",
    show_default=True,
    help="md: the Markdown report; json/csv: one row per run and one per file. --format is an alias.",
)
@click.option("--strict", is_flag=True, help="Exit 1 when any run is invalid or unsafe.")
@click.option("--progress/--no-progress", default=None, help="Show progress on stderr [default: only when stderr is a terminal].")
@click.option(
    "--plot/--no-plot",
    default=True,
    show_default=True,
    help="With matplotlib installed, also write <output>.png (hierarchy vs richness) and link it.",
)
@click.option(
    "--recompute",
    is_flag=True,
    help="Rebuild every run this project's model code can rebuild, recompute its metrics on all 19,683 operations "
    "under one definition set, show stored vs recomputed and flag disagreements; rank on the recomputed numbers.",
)
@click.option(
    "--write-readmes",
    is_flag=True,
    help="Also write README.md (purpose, status, metrics with their definitions, config) into every run that has none.",
)
@exit_130_on_interrupt
def report(
    root: Path | None,
    output: Path | None,
    output_format: str,
    strict: bool,
    progress: bool | None,
    plot: bool,
    recompute: bool,
    write_readmes: bool,
) -> None:
    """Audit every run under ROOT and write a report.

    ROOT defaults to `root` in [tool.vaeaudit.checkpoints] of the nearest pyproject.toml,
    else runs/ (where `vaeaudit train` writes). Exit codes: 0 report written, 1 with
    --strict and any invalid or unsafe run, 2 usage or configuration error, 130 Ctrl-C.
    """
    settings = _settings()
    root = root if root is not None else settings.root
    if not root.is_dir():
        raise click.UsageError(f"checkpoint root {root} is not a folder (give ROOT or set root in [tool.vaeaudit.checkpoints])")
    output = output if output is not None else DEFAULT_OUTPUT_STEM.with_suffix(f".{output_format}")

    from vaeaudit.atomic import atomic_write_text
    from vaeaudit.checkpoints import report as reporting
    from vaeaudit.checkpoints.plot import plotting_available, write_pareto_plot
    from vaeaudit.checkpoints.tree_audit import audit_tree

    show_progress = sys.stderr.isatty() if progress is None else progress
    try:
        audit = audit_tree(root, settings, _Progress() if show_progress else None)
    except OSError as error:  # the root itself cannot be listed; folders below it only get a note
        raise click.UsageError(f"cannot read checkpoint root {root}: {error.strerror or error}") from None
    if recompute:
        from vaeaudit.checkpoints.recompute import recompute_runs

        recompute_runs(audit.runs, settings, _Progress() if show_progress else None)
    if write_readmes:
        from vaeaudit.checkpoints.run_readme import write_missing_readmes

        written, failures = write_missing_readmes(audit.runs)
        for failure in failures:
            click.echo(f"error: {failure}", err=True)
        click.echo(f"wrote {len(written)} run README(s)")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if output_format == "md":
            plot_path = reporting.plot_path_for(output)
            drew = plot and plotting_available() and write_pareto_plot(audit.runs, plot_path)
            text = reporting.render_markdown(audit, plot_path.name if drew else "")
        else:
            text = reporting.render_table_format(audit, output_format)
        atomic_write_text(output, text)
    except OSError as error:  # a bad -o is a usage error (2); 1 is reserved for --strict
        raise click.UsageError(f"cannot write {output}: {error.strerror or error}") from None
    verdicts = [run.verdict for run in audit.runs]
    click.echo(
        f"wrote {output}: {len(audit.runs)} runs, {len(audit.files)} files, "
        f"{verdicts.count('invalid')} invalid, {verdicts.count('unsafe')} unsafe ({audit.seconds:.2f} s)"
    )
    if strict and ("invalid" in verdicts or "unsafe" in verdicts):
        click.echo("--strict: invalid or unsafe runs found", err=True)
        sys.exit(1)


@checkpoints.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit 1 when the file is invalid or unsafe.")
@exit_130_on_interrupt
def inspect(file: Path, strict: bool) -> None:
    """Print everything known about one checkpoint FILE: format, pickle imports, keys,
    tensors, metrics and validation results. The file is loaded only if it is safe."""
    if not file.exists() and not file.is_symlink():
        raise click.UsageError(f"{file}: no such file")
    from vaeaudit.checkpoints.describe import inspect_file

    text, record = inspect_file(file, _settings())
    click.echo(text, nl=False)
    if strict and any(problem.severity in ("invalid", "unsafe") for problem in record.problems):
        sys.exit(1)


@checkpoints.command()
@click.argument("root", required=False, type=click.Path(path_type=Path))
@click.option("--apply", "apply_", is_flag=True, help="Make the moves (all or none) and write a manifest into ROOT.")
@click.option("--undo", is_flag=True, help="Move every run back where the manifest in ROOT says it was.")
@exit_130_on_interrupt
def organize(root: Path | None, apply_: bool, undo: bool) -> None:
    """Plan (default) or make the moves that sort ROOT's runs into production/, archive/
    and quarantine/ under standard names.

    Valid, complete production runs go to production/; crashed, empty, duplicate and
    learned-nothing runs to archive/; unsafe runs to quarantine/; every folder name
    becomes lowercase letters, digits, `.`, `_` and `-`. Nothing is written outside
    ROOT, and any conflict refuses the whole plan. Exit codes: 0 planned or done,
    1 refused (conflicts), 2 usage error, 130 Ctrl-C.
    """
    if apply_ and undo:
        raise click.UsageError("--apply and --undo exclude each other")
    settings = _settings()
    root = root if root is not None else settings.root
    if not root.is_dir():
        raise click.UsageError(f"checkpoint root {root} is not a folder (give ROOT or set root in [tool.vaeaudit.checkpoints])")
    from vaeaudit.checkpoints import organize as organizing
    from vaeaudit.checkpoints.terminal import terminal_safe

    if undo:
        try:
            moves = organizing.undo_moves(root)
        except (organizing.OrganizeError, OSError) as error:
            click.echo(terminal_safe(f"refused: {error}"), err=True)
            sys.exit(1)
        click.echo(f"moved {len(moves)} run(s) back; removed {root / organizing.MANIFEST}")
        return
    from vaeaudit.checkpoints.tree_audit import audit_tree

    moves = organizing.plan_moves(root, audit_tree(root, settings).runs)
    for move in moves:
        click.echo(terminal_safe(f"{move.source} -> {move.target}  ({move.why})"))
    problems = organizing.conflicts(root, moves)
    if problems:
        for problem in problems:
            click.echo(terminal_safe(f"conflict: {problem}"), err=True)
        click.echo("refused: nothing was moved", err=True)
        sys.exit(1)
    if not apply_:
        click.echo(f"{len(moves)} move(s) planned; nothing moved (dry run). Apply with --apply, reverse with --undo.")
        return
    try:
        manifest = organizing.apply_moves(root, moves)
    except (organizing.OrganizeError, OSError) as error:
        click.echo(terminal_safe(f"refused: {error}; nothing was moved"), err=True)
        sys.exit(1)
    click.echo(f"moved {len(moves)} run(s); manifest {manifest} (reverse with --undo)")
