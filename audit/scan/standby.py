"""A process forked when a cached scan starts, to import the analysis while the scan reads its cache.

A warm re-scan after an edit analyses one file or a few. Importing the analysis (libcst's node
classes: ~0.14 s) then costs about as much as reading the cache and stating every file of the
project, and more than analysing the edited file. With a spare core the two overlap: the scan forks
a `Standby` first, which imports the analysis and waits; the scan hands it the files it finds it must
analyse, if any, and kills it when it is done (at once, when nothing changed).

Items and outcomes travel as pickles over a pipe between the two processes of one scan, as
`multiprocessing` would send them (whose import would cost every warm run ~15 ms); nothing else
is ever unpickled here.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from typing import Any

# What the forked process runs first (imports the analysis); it returns the function that answers each request.
Prepare = Callable[[], Callable[[Any], Any]]


def available(workers: int) -> bool:
    """A standby pays off only on a spare core, and needs `fork` (it inherits the scan's state, no pickling)."""
    return workers > 1 and hasattr(os, "fork")


class Standby:
    """The forked process and the two pipes to it; `ask` returns None once it is gone (the caller then
    analyses in its own process: the outcome is the same)."""

    def __init__(self, prepare: Prepare) -> None:
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        pid = os.fork()
        if pid == 0:  # the standby: never returns
            os.close(from_parent)
            os.close(to_parent)
            _serve(prepare, to_child, from_child)
        os.close(to_child)
        os.close(from_child)
        self.pid: int | None = pid
        self._send = os.fdopen(from_parent, "wb")
        self._receive = os.fdopen(to_parent, "rb")

    def ask(self, request: Any) -> Any:
        """What the prepared function returns for `request`; None once the process is gone."""
        if self.pid is None:
            return None
        try:
            pickle.dump(request, self._send, protocol=pickle.HIGHEST_PROTOCOL)
            self._send.flush()
            return pickle.load(self._receive)
        except (OSError, EOFError, pickle.UnpicklingError):  # it died (killed, out of memory)
            self.close()
            return None

    def close(self) -> None:
        """Kill the process (idle, or still importing) and reap it; the pipes are closed."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = None
        for stream in (self._send, self._receive):
            try:
                stream.close()
            except OSError:
                pass


def _serve(prepare: Prepare, inbox_fd: int, outbox_fd: int) -> None:
    """The standby's whole life: prepare, then answer each batch until the scan closes the pipe or kills it."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the scan's to handle: it kills this process
        # Not holding the scan's standard streams: a pipe reading the report waits for every writer to close it.
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        analyse = prepare()
        with os.fdopen(inbox_fd, "rb") as inbox, os.fdopen(outbox_fd, "wb") as outbox:
            while True:
                try:
                    request = pickle.load(inbox)
                except EOFError:
                    break
                pickle.dump(analyse(request), outbox, protocol=pickle.HIGHEST_PROTOCOL)
                outbox.flush()
    except BaseException:  # noqa: BLE001 - whatever happens here, the scan analyses in its own process instead
        code = 1
    finally:
        os._exit(code)  # no atexit handlers, no flush of buffers copied from the scan
