"""The standby: a process forked when a cached scan starts, which imports the analysis meanwhile and then
analyses the few files an edit needs (`vaeaudit.scan.standby`, `runner.analysis_standby`).

What it must never change: the findings. What it must never leave behind: a process.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaeaudit.cli import main
from vaeaudit.scan import runner
from vaeaudit.scan.runner import analysis_standby, scan_files
from vaeaudit.scan.settings import Settings
from vaeaudit.scan.standby import Standby, spare_core

PROJECT = Path(__file__).parent / "fixtures" / "project_cross_file"

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the standby needs fork")
needs_a_spare_core = pytest.mark.skipif(not spare_core(2), reason="a scan starts a standby only with a spare core")


def no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # reaped: not our child any more
    return False


def test_it_answers_with_what_its_prepared_function_returns_then_is_reaped_on_close() -> None:
    standby = Standby(lambda: lambda request: [request, os.getpid()])
    request, pid = standby.ask("points")
    assert request == "points"
    assert pid == standby.pid != os.getpid()  # answered in the other process
    standby.close()
    assert gone(pid)
    assert standby.ask("again") is None


def test_a_standby_that_died_answers_none() -> None:
    standby = Standby(lambda: lambda request: request)
    assert standby.pid is not None
    os.kill(standby.pid, signal.SIGKILL)
    assert standby.ask("anything") is None
    assert standby.pid is None  # reaped by the failed ask


def test_a_standby_whose_preparation_fails_answers_none() -> None:
    def prepare():
        raise ImportError("no libcst here")

    standby = Standby(prepare)
    assert standby.ask("anything") is None


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    return root


def findings(run) -> list[tuple]:
    return sorted((Path(f.path).name, f.line, f.rule, f.confidence, f.evidence) for f in run.findings)


@needs_a_spare_core
def test_an_edit_is_analysed_in_the_standby_and_finds_what_a_scan_without_one_finds(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path)
    settings = Settings(project_root=root, cache_dir=".cache")
    files = sorted(root.rglob("*.py"))
    scan_files(files, settings, jobs=1)  # the cache the edit is answered from
    losses = root / "losses.py"
    losses.write_text(losses.read_text() + "\n\ndef radial_loss(embeddings, targets):\n    return torch.norm(embeddings, dim=-1).sum()\n")
    expected = findings(scan_files(files, Settings(project_root=root, cache=False), jobs=1))
    here: Counter[str] = Counter()
    scan_one = runner._scan_one

    def counting(name, *args, **kwargs):
        here[Path(name).name] += 1  # counted in this process only: the standby counts in its own copy
        return scan_one(name, *args, **kwargs)

    monkeypatch.setattr(runner, "_scan_one", counting)
    standby = analysis_standby(settings, jobs=2)
    assert standby is not None
    try:
        run = scan_files(files, settings, jobs=2, standby=standby)
    finally:
        standby.close()
    assert findings(run) == expected
    assert any(name == "losses.py" for name, *_ in expected)  # the edit's own finding, found with its callers' inputs
    assert not here  # every analysis ran in the standby


@needs_a_spare_core
def test_a_standby_that_died_leaves_the_analysis_to_this_process(tmp_path: Path) -> None:
    root = project(tmp_path)
    settings = Settings(project_root=root, cache_dir=".cache")
    files = sorted(root.rglob("*.py"))
    scan_files(files, settings, jobs=1)
    train = root / "train.py"
    train.write_text(train.read_text() + "\n\ndef spread(points):\n    return points.norm(dim=-1)\n")
    expected = findings(scan_files(files, Settings(project_root=root, cache=False), jobs=1))
    standby = analysis_standby(settings, jobs=2)
    assert standby is not None and standby.pid is not None
    os.kill(standby.pid, signal.SIGKILL)
    try:
        assert findings(scan_files(files, settings, jobs=2, standby=standby)) == expected
    finally:
        standby.close()


@needs_a_spare_core
def test_only_a_cached_scan_with_a_cache_already_there_and_a_spare_core_gets_one(tmp_path: Path) -> None:
    root = project(tmp_path)
    settings = Settings(project_root=root, cache_dir=".cache")
    assert analysis_standby(settings, jobs=2) is None  # a first scan: its files go to a pool
    (root / ".cache").mkdir()
    assert analysis_standby(Settings(project_root=root, cache_dir=".cache", cache=False), jobs=2) is None
    assert analysis_standby(settings, jobs=1) is None  # no spare core
    standby = analysis_standby(settings, jobs=2)
    assert standby is not None
    standby.close()


def test_the_scan_command_leaves_no_process_behind(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path)
    (root / "pyproject.toml").write_text("[tool.vaeaudit]\n")
    monkeypatch.chdir(root)
    first = CliRunner().invoke(main, ["scan", "--exit-zero", "-j", "2", "."])
    (root / "train.py").write_text((root / "train.py").read_text() + "# edited\n")
    second = CliRunner().invoke(main, ["scan", "--exit-zero", "-j", "2", "."])
    assert first.exit_code == second.exit_code == 0, second.output
    assert first.output == second.output
    assert no_children_left()


def test_a_scan_started_with_sigchld_ignored_still_closes_its_standby() -> None:
    """With SIGCHLD ignored (a parent process may set it), the kernel reaps the child itself: waitpid finds none."""
    before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        standby = Standby(lambda: lambda request: request)
        assert standby.ask("x") == "x"
        standby.close()  # before: ChildProcessError, a traceback instead of the report
    finally:
        signal.signal(signal.SIGCHLD, before)


def test_no_process_to_spare_means_no_standby_and_no_leaked_pipe(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path)
    (root / ".cache").mkdir()

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    open_before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    assert analysis_standby(Settings(project_root=root, cache_dir=".cache"), jobs=2) is None
    if open_before is not None:
        assert len(os.listdir("/proc/self/fd")) == open_before


def test_no_standby_is_forked_beside_another_thread() -> None:
    import threading

    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not spare_core(2)  # a lock held by the thread at the fork would stay held in the child
    finally:
        release.set()
        thread.join()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc")
def test_the_standby_holds_none_of_the_scans_files() -> None:
    kept, other = os.pipe()  # say, the write end of a pipe the caller reads the report from
    try:
        standby = Standby(lambda: lambda request: sorted(int(fd) for fd in os.listdir("/proc/self/fd")))
        held = standby.ask(None)
        standby.close()
    finally:
        os.close(kept)
        os.close(other)
    assert kept not in held and other not in held
    assert {0, 1, 2} <= set(held) and len(held) <= 6  # its standard streams (on /dev/null), its two pipes, the listing


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_standby_dies_with_a_scan_killed_by_sigterm() -> None:
    script = (
        "import os, pickle, signal, time\n"
        "from vaeaudit.scan.standby import Standby\n"
        "standby = Standby(lambda: lambda request: time.sleep(60))\n"
        "print(standby.pid, flush=True)\n"
        "pickle.dump('a file', standby._send)\n"  # it is busy analysing when the scan is killed
        "standby._send.flush()\n"
        "time.sleep(0.5)\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    pid = int(done.stdout.split()[0])
    for _ in range(100):
        if not alive(pid):
            break
        time.sleep(0.05)
    assert not alive(pid)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"  # a zombie is dead, waiting to be reaped
    except FileNotFoundError:
        return False
