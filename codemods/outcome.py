"""What happened to one finding: fixed, left because the fix is unsafe, or refused."""

from __future__ import annotations

from dataclasses import dataclass

from vaeaudit.scan.findings import Finding

FIXED = "fixed"
UNSAFE = "unsafe"  # a fix exists but changes meaning; applied only with --unsafe-fixes
REFUSED = "refused"  # no correct fix can be written; the reason says why


@dataclass(frozen=True)
class Outcome:
    """The verdict for one finding and every reason behind it (unsafe reasons stay listed once applied)."""

    finding: Finding
    status: str
    reasons: tuple[str, ...] = ()
    note: str | None = None  # where the fix's curvature came from, for the user to check

    @property
    def remains(self) -> bool:
        """Is the finding still in the code after this run?"""
        return self.status != FIXED


class Refused(Exception):
    """No fix can be written for a finding; the message says why, for the user."""
