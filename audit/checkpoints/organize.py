"""Sort a run tree the way the original audit recommended, reversibly.

Valid, complete production runs go to `production/`, runs not worth keeping at hand
(crashed, empty, copies of another run, runs that learned nothing) to `archive/`, unsafe
ones to `quarantine/`, and every run folder gets the standard name pattern
(lowercase letters, digits, `.`, `_`, `-`). The report reads runs inside these three
folders like runs at the root.

Nothing moves unless asked (`plan_moves` is the dry run). `apply_moves` refuses the whole
plan on any conflict (a target that exists, two runs with one target, a path leaving the
root, a symlink on the way, an earlier manifest), writes a manifest inside the root
before the first move, moves folders with `os.rename` within the root, and rolls back
the moves already made if one fails. `undo_moves` reverses a manifest the same way.
Nothing is ever written outside the given root.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from vaeaudit.atomic import atomic_write_text
from vaeaudit.checkpoints.rankings import is_ranked
from vaeaudit.checkpoints.records import RunRecord
from vaeaudit.checkpoints.run_tree import GROUPS

MANIFEST = ".vaeaudit-organize.json"
_NON_STANDARD = re.compile(r"[^a-z0-9._-]+")


class OrganizeError(Exception):
    """The plan cannot be applied or undone; the message lists every conflict."""


@dataclass(frozen=True)
class Move:
    """One run folder: `source` -> `target`, both relative to the root (POSIX form)."""

    source: str
    target: str
    why: str


def standard_name(name: str) -> str:
    """The run name in the standard pattern: lowercase, runs of other characters as `_`."""
    return _NON_STANDARD.sub("_", name.lower()).strip("._-") or "run"


def destination(run: RunRecord) -> tuple[str, str]:
    """(group folder or "" for the root, why) for one audited run."""
    codes = {problem.code for problem in run.all_problems}
    if run.verdict == "unsafe":
        return "quarantine", "unsafe pickle imports"
    if run.category == "PRODUCTION" and is_ranked(run):
        return "production", "valid, complete production run"
    if run.status in ("crashed", "empty"):
        return "archive", f"{run.status} run"
    if codes & {"duplicate", "learned-nothing"}:
        return "archive", "copy of another run" if "duplicate" in codes else "learned nothing"
    return "", "stays at the root"


def plan_moves(root: Path, runs: list[RunRecord]) -> list[Move]:
    """Every move the organisation needs (runs already in place are left out)."""
    moves = []
    for run in runs:
        source = PurePosixPath(run.path.relative_to(root).as_posix())
        group, why = destination(run)
        target = PurePosixPath(group, standard_name(run.name)) if group else PurePosixPath(standard_name(run.name))
        if target != source:
            renamed = standard_name(run.name) != run.name
            moves.append(Move(str(source), str(target), why + ("; standard name" if renamed else "")))
    return moves


def conflicts(root: Path, moves: list[Move]) -> list[str]:
    """Every reason the moves cannot be made as planned (empty: safe to apply)."""
    problems = []
    if (root / MANIFEST).exists():
        problems.append(f"{root / MANIFEST} exists: an earlier organisation was applied; undo it first (--undo)")
    targets: dict[str, str] = {}
    sources = {move.source for move in moves}
    for move in moves:
        for label, relative in (("source", move.source), ("target", move.target)):
            problem = _outside_or_linked(root, relative)
            if problem:
                problems.append(f"{label} {relative}: {problem}")
        if move.target in targets:
            problems.append(f"{move.source} and {targets[move.target]} would both become {move.target}")
        targets[move.target] = move.source
        if os.path.lexists(root / move.target) and move.target not in sources:
            problems.append(f"{move.target} already exists (target of {move.source})")
        if not (root / move.source).is_dir() or (root / move.source).is_symlink():
            problems.append(f"{move.source} is not a run folder")
    for chained in sorted(sources & set(targets)):
        problems.append(f"{chained} is both the target of {targets[chained]} and a run to move; organise in two steps")
    return problems


def apply_moves(root: Path, moves: list[Move]) -> Path:
    """Make the moves, all or none; returns the manifest written inside `root`."""
    found = conflicts(root, moves)
    if found:
        raise OrganizeError("; ".join(found))
    manifest = root / MANIFEST
    created = [group for group in GROUPS if any(move.target.startswith(group + "/") for move in moves) and not (root / group).exists()]
    atomic_write_text(manifest, json.dumps({"root": str(root), "created": created, "moves": [asdict(m) for m in moves]}, indent=2) + "\n")
    _rename_all(root, [(move.source, move.target) for move in moves], created, undo_on_failure=manifest)
    return manifest


def undo_moves(root: Path) -> list[Move]:
    """Reverse the manifest's moves, all or none, and remove the manifest."""
    manifest = root / MANIFEST
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
        moves = [Move(**entry) for entry in document["moves"]]
        created = [group for group in document.get("created", []) if group in GROUPS]
    except FileNotFoundError:
        raise OrganizeError(f"{manifest}: no manifest, nothing to undo") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise OrganizeError(f"{manifest}: unreadable manifest ({error})") from None
    problems = []
    for move in moves:
        for relative in (move.source, move.target):
            problem = _outside_or_linked(root, relative)
            if problem:
                problems.append(f"{relative}: {problem}")
        if not (root / move.target).is_dir():
            problems.append(f"{move.target} is gone: cannot move it back to {move.source}")
        if os.path.lexists(root / move.source):
            problems.append(f"{move.source} exists again: moving {move.target} back would overwrite it")
    if problems:
        raise OrganizeError("; ".join(problems))
    _rename_all(root, [(move.target, move.source) for move in reversed(moves)], [], undo_on_failure=None)
    for group in created:
        try:
            (root / group).rmdir()  # only if the organisation emptied it again
        except OSError:
            pass
    manifest.unlink()
    return moves


def _rename_all(root: Path, pairs: list[tuple[str, str]], created: list[str], undo_on_failure: Path | None) -> None:
    """Rename each (from, to) within `root`; on any failure, rename back what was done."""
    done: list[tuple[str, str]] = []
    try:
        for group in created:
            (root / group).mkdir()
        for source, target in pairs:
            (root / target).parent.mkdir(parents=True, exist_ok=True)
            os.rename(root / source, root / target)
            done.append((source, target))
    except BaseException:
        for source, target in reversed(done):
            os.rename(root / target, root / source)
        for group in created:
            try:
                (root / group).rmdir()
            except OSError:
                pass
        if undo_on_failure is not None:
            undo_on_failure.unlink(missing_ok=True)
        raise


def _outside_or_linked(root: Path, relative: str) -> str | None:
    """Why `relative` is not a plain path inside `root`, or None."""
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return "not a plain path inside the root"
    current = root
    for part in path.parts[:-1]:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            return f"{current} is a symlink or a file, not a folder of the root"
    resolved_root = root.resolve()
    if not (root / path).parent.resolve().is_relative_to(resolved_root):
        return "leads outside the root"
    return None
