"""Find the runs under a checkpoint root: `<root>/<run>/...` with checkpoints, logs, notes.

Every immediate sub-folder of the root is a run (an empty one is an "empty" run, worth
reporting). Inside a run, files are collected recursively without following symlinked
folders, so a link back to the root cannot loop; symlinked *files* are kept and a
looping one surfaces as "unreadable: symlink loop" when it is read.

Every file of a run is either audited or listed with the reason it was not:
checkpoints (`.pt`, `.pth`, `.ckpt`) decide the run's status; side files that can hold
a pickle (`.pkl`, `.bin`, `.zip`, `.npy`, ...) are audited for what they import; a file
with any other name is audited too when its first bytes say it is a pickle, zip, numpy
array or compressed stream; logs, READMEs, configs and other text are listed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from vaeaudit.checkpoints.regular_files import open_regular_file
from vaeaudit.checkpoints.sniff import sniff

GROUPS = ("production", "archive", "quarantine")  # where `checkpoints organize` puts runs
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")
SIDE_SUFFIXES = (".pkl", ".pickle", ".bin", ".zip", ".npy", ".npz", ".joblib", ".dill", ".tar", ".gz", ".bz2", ".xz", ".pth.tar")
LOG_SUFFIXES = (".log", ".out", ".err")
LOG_NAMES = ("log.txt", "stdout.txt", "stderr.txt", "output.txt", "train.txt")
CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".toml")
_LISTED = (  # (suffixes, reason) for files listed without being opened
    ((".jsonl", ".csv", ".tsv"), "metrics log (text)"),
    ((".png", ".jpg", ".jpeg", ".svg", ".pdf", ".gif"), "image or document"),
    ((".md", ".txt", ".rst"), "notes (text)"),
    ((".py", ".sh", ".ipynb"), "source code"),
)
_SNIFF_BYTES = 256
_PROTOCOL_ZERO = re.compile(rb"\((d|l|t|[KJMXUTG]|c[\w.]+\n|i[\w.]+\n|I-?\d|S'|V|N|\(|\]|\}|\))|c[\w.]+\n[\w.]+\n|[\]\}\)]q")


@dataclass
class RunFolder:
    """What a run folder contains, before any file is opened."""

    name: str
    path: Path
    checkpoints: list[Path] = field(default_factory=list)
    side_files: list[Path] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    not_audited: list[tuple[Path, str]] = field(default_factory=list)
    has_readme: bool = False
    has_config_file: bool = False
    newest_mtime: float = 0.0
    notes: list[str] = field(default_factory=list)


def discover_runs(root: Path) -> tuple[list[RunFolder], list[str]]:
    """The run folders under `root`, sorted by path, and notes on what was skipped.

    The folders `checkpoints organize` sorts runs into (production/, archive/,
    quarantine/) hold runs themselves: their sub-folders are runs.
    """
    notes: list[str] = []
    runs: list[RunFolder] = []
    for folder, is_group in [(root, False), *((root / group, True) for group in GROUPS if _is_plain_folder(root / group))]:
        prefix = f"{folder.name}/" if is_group else ""
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda item: item.name):
                if not is_group and entry.name in GROUPS and _is_plain_folder(Path(entry.path)):
                    continue
                if entry.is_symlink() and entry.is_dir():
                    notes.append(f"{prefix}{entry.name}: symlinked folder not followed")
                elif entry.is_dir(follow_symlinks=False):
                    runs.append(read_run(Path(entry.path)))
                elif entry.name.lower().endswith(CHECKPOINT_SUFFIXES + SIDE_SUFFIXES):
                    notes.append(
                        f"{prefix}{entry.name}: file outside any run folder; not audited (check it with `vaeaudit checkpoints inspect`)"
                    )
    return runs, notes


def _is_plain_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def read_run(path: Path) -> RunFolder:
    run = RunFolder(name=path.name, path=path)

    def unreadable(error: OSError) -> None:
        run.notes.append(f"cannot list {error.filename}: {error.strerror}")

    for folder, subfolders, files in os.walk(path, onerror=unreadable, followlinks=False):
        subfolders.sort()
        for name in [entry for entry in subfolders if Path(folder, entry).is_symlink()]:
            run.not_audited.append((Path(folder, name), "symlinked folder, not followed"))
        for name in sorted(files):
            file_path = Path(folder, name)
            _sort_file(run, file_path, name.lower())
            try:
                run.newest_mtime = max(run.newest_mtime, file_path.lstat().st_mtime)
            except OSError:
                continue
    return run


def _sort_file(run: RunFolder, path: Path, lower: str) -> None:
    """Put one file where it belongs: audited (checkpoint or side file) or listed with why."""
    if lower.endswith(CHECKPOINT_SUFFIXES):
        run.checkpoints.append(path)
    elif lower.endswith(SIDE_SUFFIXES):
        run.side_files.append(path)
    elif lower.endswith(LOG_SUFFIXES) or lower in LOG_NAMES:
        run.logs.append(path)
        run.not_audited.append((path, "log (read for crash markers)"))
    elif lower.startswith("readme"):
        run.has_readme = True
        run.not_audited.append((path, "README"))
    elif lower.endswith(CONFIG_SUFFIXES):
        run.has_config_file = True
        run.not_audited.append((path, "config (text)"))
    else:
        listed = next((reason for suffixes, reason in _LISTED if lower.endswith(suffixes)), None)
        if listed is None and _may_hold_pickle(path):
            run.side_files.append(path)
        else:
            run.not_audited.append((path, listed or "unrecognised name and content (no pickle, zip, numpy or compression magic)"))


def _may_hold_pickle(path: Path) -> bool:
    """Do the first bytes say pickle, zip, numpy or a compressed stream? (unreadable: yes,
    so the audit reports why it cannot be read)."""
    try:
        with open_regular_file(path) as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return True
    return sniff(head).kind in ("pickle", "zip", "legacy", "npy", "compressed") or _protocol_zero_start(head)


def _protocol_zero_start(head: bytes) -> bool:
    """Protocol 0/1 pickles start with an ordinary opcode, typically MARK then a container
    or GLOBAL, or GLOBAL itself (`cmodule\nname\n`)."""
    return bool(_PROTOCOL_ZERO.match(head))
