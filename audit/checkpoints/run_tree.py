"""Find the runs under a checkpoint root: `<root>/<run>/...` with checkpoints, logs, notes.

Every immediate sub-folder of the root is a run (an empty one is an "empty" run, worth
reporting). Inside a run, checkpoint files are collected recursively without following
symlinked folders, so a link back to the root cannot loop; symlinked *files* are kept
and a looping one surfaces as "unreadable: symlink loop" when it is read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")
LOG_SUFFIXES = (".log", ".out", ".err")
LOG_NAMES = ("log.txt", "stdout.txt", "stderr.txt", "output.txt", "train.txt")
CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".toml")


@dataclass
class RunFolder:
    """What a run folder contains, before any file is opened."""

    name: str
    path: Path
    checkpoints: list[Path] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    has_readme: bool = False
    has_config_file: bool = False
    newest_mtime: float = 0.0
    notes: list[str] = field(default_factory=list)


def discover_runs(root: Path) -> tuple[list[RunFolder], list[str]]:
    """The run folders under `root`, sorted by name, and notes on what was skipped."""
    notes: list[str] = []
    runs: list[RunFolder] = []
    with os.scandir(root) as entries:
        for entry in sorted(entries, key=lambda item: item.name):
            if entry.is_symlink() and entry.is_dir():
                notes.append(f"{entry.name}: symlinked folder not followed")
            elif entry.is_dir(follow_symlinks=False):
                runs.append(_read_run(Path(entry.path)))
            elif entry.name.endswith(CHECKPOINT_SUFFIXES):
                notes.append(f"{entry.name}: checkpoint directly under the root, outside any run folder; not audited")
    return runs, notes


def _read_run(path: Path) -> RunFolder:
    run = RunFolder(name=path.name, path=path)

    def unreadable(error: OSError) -> None:
        run.notes.append(f"cannot list {error.filename}: {error.strerror}")

    for folder, subfolders, files in os.walk(path, onerror=unreadable, followlinks=False):
        subfolders.sort()
        for name in sorted(files):
            file_path = Path(folder, name)
            lower = name.lower()
            if lower.endswith(CHECKPOINT_SUFFIXES):
                run.checkpoints.append(file_path)
            elif lower.endswith(LOG_SUFFIXES) or lower in LOG_NAMES:
                run.logs.append(file_path)
            elif lower.startswith("readme"):
                run.has_readme = True
            elif lower.endswith(CONFIG_SUFFIXES):
                run.has_config_file = True
            try:
                run.newest_mtime = max(run.newest_mtime, file_path.lstat().st_mtime)
            except OSError:
                continue
    return run
