"""The standby: a process forked when a cached scan starts, which imports the analysis meanwhile and then
analyses the few files an edit needs (`vaeaudit.scan.standby`, `runner.analysis_standby`).

What it must never change: the findings. What it must never leave behind: a process.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaeaudit.cli import main
from vaeaudit.scan import runner
from vaeaudit.scan.runner import analysis_standby, scan_files
from vaeaudit.scan.settings import Settings
from vaeaudit.scan.standby import Standby

PROJECT = Path(__file__).parent / "fixtures" / "project_cross_file"

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the standby needs fork")


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
