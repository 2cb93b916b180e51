"""A process forked when a cached scan starts, to import the analysis while the scan reads its cache.

A warm re-scan after an edit analyses one file or a few. Importing the analysis (libcst's node
classes: ~0.14 s) then costs about as much as reading the cache and stating every file of the
project, and more than analysing the edited file. With a spare core the two overlap: the scan forks
a `Standby` first, which imports the analysis and waits; the scan hands it the files it finds it must
analyse, if any, and kills it when it is done (at once, when nothing changed). The price, when
nothing needs analysing, is the fork and the copy-on-write faults it causes: ~15-30 ms of a warm scan.

Requests and answers travel as pickles over a pipe between the two processes of one scan, as
`multiprocessing` would send them (whose import would cost every warm run ~15 ms); nothing else
is ever unpickled here. The standby dies with the scan (`PR_SET_PDEATHSIG` on Linux, else when its
pipe closes), holds none of the scan's files or streams, and ignores Ctrl-C, which is the scan's to handle.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
from collections.abc import Callable
from typing import Any

# What the forked process runs first (imports the analysis); it returns the function that answers each request.
Prepare = Callable[[], Callable[[Any], Any]]


def spare_core(workers: int) -> bool:
    """Whether a standby can run beside the scan: more than one worker allowed, more than one core this process
    may run on (its affinity, not the machine's count), `fork`, and no other thread (a thread holding a lock,
    an import's say, at the fork would leave it held forever in the child)."""
    if workers < 2 or not hasattr(os, "fork"):
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threading = sys.modules.get("threading")  # not imported: no thread was started through it
    return cores > 1 and (threading is None or threading.active_count() == 1)


class Standby:
    """The forked process and the two pipes to it; `ask` returns None once it is gone (the caller then
    analyses in its own process: the outcome is the same). OSError when the process cannot be forked."""

    def __init__(self, prepare: Prepare) -> None:
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        parent = os.getpid()
        # Ctrl-C between the fork and the child's handler would unwind the scan's stack in the child: held back.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            for fd in (to_child, from_parent, to_parent, from_child):
                os.close(fd)
            raise
        if pid == 0:  # the standby: never returns
            _serve(prepare, parent, to_child, from_child, held)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
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
        except Exception:  # noqa: BLE001 - it died (killed, out of memory), or a request would not pickle: analyse here
            self.close()
            return None

    def close(self) -> None:
        """Kill the process (idle, or still importing) and reap it; the pipes are closed."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass  # reaped already: SIGCHLD ignored by whatever started the scan
            self.pid = None
        for stream in (self._send, self._receive):
            try:
                stream.close()
            except OSError:
                pass


def _serve(prepare: Prepare, parent: int, inbox_fd: int, outbox_fd: int, held: set[int | signal.Signals]) -> None:
    """The standby's whole life: prepare, then answer each request until the scan closes the pipe or kills it."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        _die_with(parent)
        # Not holding the scan's streams or files: a pipe reading its report waits for every writer to close it.
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        keep = sorted((inbox_fd, outbox_fd))
        os.closerange(3, keep[0])
        os.closerange(keep[0] + 1, keep[1])
        os.closerange(keep[1] + 1, _MAX_FD)
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


_MAX_FD = os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1024


def _die_with(parent: int) -> None:
    """Be killed when the scan's process ends, however it ends (SIGTERM from a CI cancel too); exit if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)
