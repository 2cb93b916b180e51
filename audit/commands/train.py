"""`vaeaudit train`: run the two-phase ternary-VAE trainer from the command line.

Only click and the stdlib are imported here at module level; torch, yaml and the trainer
load when the command runs, so `vaeaudit --help` stays fast.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

EXIT_INTERRUPTED = 130
BAR_WIDTH = 20


class StatusLine:
    """Per-phase progress on stderr: one rewritten line on a terminal, a line per epoch otherwise."""

    def __init__(self) -> None:
        self.phase: str | None = None
        self.live = sys.stderr.isatty()
        self.width = 0  # longest line so far, so a shorter rewrite leaves no stale characters

    def __call__(self, record: dict[str, Any], config: dict[str, Any]) -> None:
        if self.live and self.phase not in (None, record["phase"]):
            click.echo(err=True)
        self.phase = record["phase"]
        total = config[record["phase"]]["max_epochs"]
        filled = round(BAR_WIDTH * record["phase_epoch"] / total)
        text = (
            f"{record['phase']:<9} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
            f"epoch {record['phase_epoch']}/{total}  coverage {100 * record['coverage']:.2f} %  "
            f"hierarchy_B {record['hierarchy_B']:+.5f}  richness {record['richness']:.5f}"
        )
        self.width = max(self.width, len(text))
        click.echo(f"\r{text.ljust(self.width)}" if self.live else text, err=True, nl=not self.live)

    def close(self) -> None:
        if self.live and self.phase is not None:
            click.echo(err=True)


def _summary(result: Any) -> str:
    """The final table: last epoch under both definition sets, best.pt, epochs and time per phase."""
    from tabulate import tabulate

    from vaeaudit.ternary_vae.metrics import DIAGNOSTIC_NAMES, METRIC_NAMES

    best = result.best or {}
    rows = [
        (
            name,
            f"{result.metrics[name]:.5f}",
            f"{result.canonical[name]:.5f}" if name in result.canonical else "-",
            f"{best[name]:.5f}" if name in best else "-",
        )
        for name in (*METRIC_NAMES, *DIAGNOSTIC_NAMES)
    ]
    for phase, epochs in result.epochs.items():
        rows.append((f"{phase} phase", f"{epochs} epochs", "", f"{result.seconds[phase]:.1f} s"))
    quality = f"{result.time_to_quality:.1f} s" if result.time_to_quality is not None else "not reached"
    rows.append(("time to quality", quality, "", ""))
    rows.append(("device", result.device, "", ""))
    return tabulate(rows, headers=("", "final", "final (original's definitions)", "best.pt"), tablefmt="github")


def _run_name(value: str | None) -> str:
    if value is None:
        return "ternary_" + time.strftime("%Y%m%d-%H%M%S")
    if value in ("", ".", "..") or "/" in value or "\\" in value:
        raise click.BadParameter(f"{value!r} must be a plain folder name (no path separators)", param_hint="'--run-name'")
    return value


def _write_run_readme(run_dir: Path) -> Path | None:
    """The run's README (purpose, config, metrics with their definitions, validation verdict),
    judged by the same checks as `vaeaudit checkpoints report`. A README already there is kept."""
    from vaeaudit.checkpoints.run_readme import write_missing_readmes
    from vaeaudit.checkpoints.settings import load_settings
    from vaeaudit.checkpoints.tree_audit import audit_run_folder
    from vaeaudit.config import ConfigError

    try:
        written, failures = write_missing_readmes([audit_run_folder(run_dir, load_settings(Path.cwd()))])
    except ConfigError as error:
        failures, written = [f"no run README: {error}"], []
    for failure in failures:
        click.echo(f"Warning: {failure}", err=True)
    return written[0] if written else None


@click.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML file overriding some of the defaults (see ternary_vae/defaults.yaml).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override one config key, e.g. --set hierarchy.lr=0.001 (repeatable; applied after --config).",
)
@click.option(
    "--save-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Folder that holds one sub-folder per run.",
)
@click.option("--run-name", help="Name of the run folder [default: ternary_<date>-<time>]; required with --resume.")
@click.option("--resume", is_flag=True, help="Continue <save-dir>/<run-name> from its latest.pt with its saved config.")
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda", "mps"]),
    help="Where to train [default: the config's `device`, auto = cuda if available, else cpu]. Same as --set device=...",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary; only errors.")
def train(
    config_file: Path | None,
    overrides: tuple[str, ...],
    save_dir: Path,
    run_name: str | None,
    resume: bool,
    device: str | None,
    quiet: bool,
) -> None:
    """Train the ternary VAE: coverage first, then the radial hierarchy.

    Writes config.yaml, metrics.jsonl, latest.pt, best.pt and best_Q.pt (and
    tensorboard/ when the tensorboard package is installed) into SAVE_DIR/RUN_NAME.
    Every checkpoint stores its metrics under this project's definitions (`metrics`)
    and the original system's (`metrics_canonical`), named in `metrics_spec`; load one
    with `vaeaudit.ternary_vae.load_model(path)`. Exit codes: 0 done, 1 training
    diverged, 2 bad config or usage, 130 interrupted (latest.pt saved; continue with --resume).
    """
    if resume and run_name is None:
        raise click.UsageError("--resume needs --run-name: the run to continue")
    if resume and (config_file is not None or overrides or device is not None):
        raise click.UsageError("--resume continues with the run's saved config; drop --config, --set and --device")
    if device is not None:
        overrides = (*overrides, f"device={device}")
    run_dir = save_dir / _run_name(run_name)

    from vaeaudit.ternary_vae.config import ConfigError, resolve_config
    from vaeaudit.ternary_vae.train import RunFolderError, TrainingDiverged
    from vaeaudit.ternary_vae.train import train as run_training

    try:
        config = None if resume else resolve_config(config_file, overrides)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    status = None if quiet else StatusLine()
    try:
        result = run_training(config, run_dir, resume=resume, on_epoch=status)
    except (RunFolderError, ConfigError) as error:
        raise click.UsageError(str(error)) from None
    except TrainingDiverged as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot write the run files in {run_dir}: {error}") from None
    finally:
        if status is not None:
            status.close()
    if result.interrupted:
        if (run_dir / "latest.pt").is_file():
            click.echo(
                f"Interrupted: {run_dir / 'latest.pt'} holds the last finished epoch. Continue with:\n"
                f"  vaeaudit train --resume --save-dir {save_dir} --run-name {run_dir.name}",
                err=True,
            )
        else:
            click.echo(f"Interrupted before the first epoch finished; nothing kept, so {run_dir} can start afresh.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    readme = _write_run_readme(run_dir)
    if quiet:
        return
    click.echo(_summary(result))
    click.echo(f"\nRun folder: {run_dir}" + (f" (README: {readme.name})" if readme else ""))
    if result.metrics["coverage"] < 1.0:
        click.echo(
            f"Warning: coverage stopped at {100 * result.metrics['coverage']:.2f} % after "
            f"{result.epochs['coverage']} epochs, so no best.pt was written; raise coverage.max_epochs.",
            err=True,
        )
