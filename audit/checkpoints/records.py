"""What the audit knows about each file and each run: the data every report renders.

Problems carry a stable `code` (for filtering and JSON consumers), a human `message`
and a `severity`: "unsafe" (never loaded: dangerous imports), "invalid" (do not trust
this run) or "warning" (worth a look, does not invalidate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vaeaudit.checkpoints.fields import CheckpointFields

if TYPE_CHECKING:
    from vaeaudit.checkpoints.recompute import Recomputed

UNSAFE = "unsafe"
INVALID = "invalid"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    severity: str = INVALID


@dataclass
class FileRecord:
    """One checkpoint file. `fields` and the tensor facts stay empty unless it loaded."""

    path: Path
    relpath: str
    run: str
    size: int = 0
    kind: str = ""
    detail: str = ""
    verdict: str = ""
    reason: str = ""
    imports: tuple[str, ...] = ()
    fields: CheckpointFields = field(default_factory=CheckpointFields)
    tensor_count: int = 0
    parameter_count: int = 0
    architecture: str = ""
    architecture_matches: bool = False  # rebuilt from its config, and the state dict fits strictly
    digests: dict[str, str] = field(default_factory=dict)
    content_hash: str = ""
    trainable_names: frozenset[str] = frozenset()
    problems: list[Problem] = field(default_factory=list)
    side: bool = False  # a side file (.pkl, .bin, .npy, ...): judged for safety, not a checkpoint of the run

    @property
    def role(self) -> str:
        """From the file name: best (best.pt), best-variant (best_Q.pt, best_*.pt),
        latest, other (epoch_N.pt, ...) or side (not a checkpoint of the run)."""
        if self.side:
            return "side"
        stem = self.path.stem.lower()
        if stem == "best":
            return "best"
        return "best-variant" if stem.startswith("best") else "latest" if stem.startswith("latest") else "other"

    @property
    def loaded(self) -> bool:
        return self.verdict == "loaded"


@dataclass
class RunRecord:
    """One run directory: its files, what state it was left in, and how far to trust it."""

    name: str
    path: Path
    category: str
    rule: str
    status: str = "empty"
    status_reason: str = ""
    files: list[FileRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    has_readme: bool = False
    has_config: bool = False
    newest_mtime: float = 0.0
    not_audited: list[tuple[str, str]] = field(default_factory=list)  # (relpath, why)
    recomputed: Recomputed | None = None  # set by `report --recompute`

    @property
    def checkpoints(self) -> list[FileRecord]:
        """The run's own checkpoint files (side files left out)."""
        return [record for record in self.files if not record.side]

    @property
    def primary(self) -> FileRecord | None:
        """The file that stands for the run: a loaded one if any, preferring best.pt, then
        other best* files, then latest*, then any other (by path)."""

        def rank(record: FileRecord) -> tuple[int, int, str]:
            order = ("best", "best-variant", "latest").index(record.role) if record.role in ("best", "best-variant", "latest") else 3
            return (0 if record.loaded else 1, order, record.relpath)

        return min(self.checkpoints, key=rank, default=None)

    @property
    def all_problems(self) -> list[Problem]:
        return [*self.problems, *(problem for record in self.files for problem in record.problems)]

    @property
    def verdict(self) -> str:
        """unsafe > invalid > valid; runs without checkpoint files are "empty"."""
        severities = {problem.severity for problem in self.all_problems}
        if UNSAFE in severities:
            return UNSAFE
        if INVALID in severities:
            return INVALID
        return "valid" if self.checkpoints else "empty"

    @property
    def metrics(self) -> dict[str, float]:
        """The recomputed metrics when `--recompute` produced them (one yardstick), else
        the primary checkpoint's stored ones."""
        if self.recomputed is not None and self.recomputed.metrics:
            return self.recomputed.metrics
        primary = self.primary
        return primary.fields.metrics if primary else {}
