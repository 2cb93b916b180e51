"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half.

Every file the tools write goes through here: the data lands in a temporary file in the
destination's own folder (so the final rename stays on one filesystem), is flushed to
disk, and then replaces the destination with `os.replace`.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(destination: str | os.PathLike[str], *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path next to `destination`; on success, rename it into place.

    Use this when a library insists on writing a path itself (e.g. `torch.save`). On any
    exception the temporary file is removed and `destination` is untouched. The new file
    gets `mode` when given, else the mode of the file it replaces, else the umask default.
    """
    destination = Path(destination)
    if mode is None:
        mode = stat.S_IMODE(destination.stat().st_mode) if destination.exists() else _umask_default_mode()
    fd, temp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent)
    os.close(fd)
    temp_path = Path(temp_name)
    try:
        yield temp_path
        with open(temp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(temp_path, mode)
        os.replace(temp_path, destination)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(destination: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `destination` atomically (see module docstring)."""
    with atomic_path(destination, mode=mode) as temp_path:
        temp_path.write_bytes(data)


def atomic_write_text(destination: str | os.PathLike[str], text: str, *, mode: int | None = None) -> None:
    """Write `text` as UTF-8 with the newlines given (no translation), atomically."""
    atomic_write_bytes(destination, text.encode("utf-8"), mode=mode)


def _umask_default_mode() -> int:
    """The mode `open()` would give a new file (mkstemp always uses 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
