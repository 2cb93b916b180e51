"""Open a file from a run tree only if it is a regular file, without ever blocking.

Run trees are not trusted: a FIFO named `best.pt` or `train.log` would block a plain
`open()` until some writer appears, and a link to `/dev/zero` would never end. Opening
with O_NONBLOCK returns at once for a FIFO (and changes nothing for regular files), and
the type is checked on the open descriptor, so it cannot be swapped in between.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotARegularFile(OSError):
    """The path is a FIFO, device, socket or folder; the message names which."""


def open_regular_file(path: Path) -> BinaryIO:
    """`path` opened for binary reading; raises NotARegularFile (an OSError) otherwise."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    handle = open(descriptor, "rb")
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        handle.close()
        raise NotARegularFile(f"not a regular file ({_file_type(mode)})")
    return handle


def _file_type(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return name
    return "special file"
