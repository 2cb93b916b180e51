"""Output habits: a clean run says so, --quiet, --output-file, Ctrl-C, reports, noqa, gitignore."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaeaudit.cli import main

VAEAUDIT = Path(sys.executable).parent / "vaeaudit"
BAD = "from vaeaudit.geometry import exp_map_zero\n\ndef f(mu):\n    z = exp_map_zero(mu)\n    return z.norm(dim=-1)\n"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.vaeaudit]\n", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bad.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "src" / "clean.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_clean_run_says_so_with_the_file_count(project: Path) -> None:
    result = run("scan", "--no-cache", "src/clean.py")
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == "All checks passed! (1 file(s) scanned)\n"
    assert run("scan", "--no-cache", "src").stderr.endswith("Found 1 finding(s) in 2 file(s).\n")


def test_quiet_prints_findings_only(project: Path) -> None:
    result = run("scan", "--no-cache", "-q", "src")
    assert result.exit_code == 1 and result.stdout.startswith("src/bad.py:5:12: HYP001") and result.stderr == ""
    assert run("scan", "--no-cache", "--quiet", "src/clean.py").stderr == ""
    assert run("scan", "--no-cache", "--quiet", "src", "--report").stderr == ""


def test_output_file(project: Path) -> None:
    result = run("scan", "--no-cache", "src", "--output-format", "json", "--output-file", "out.json")
    assert result.exit_code == 1 and result.stdout == "" and "Wrote out.json" in result.stderr
    assert '"rule": "HYP001"' in (project / "out.json").read_text(encoding="utf-8")
    result = run("scan", "--no-cache", "src", "--output-file", "no/such/dir/out.txt")
    assert result.exit_code == 2 and "--output-file no/such/dir/out.txt: cannot write" in result.output
    assert "Traceback" not in result.output


def test_a_failed_run_keeps_the_last_report(project: Path) -> None:
    assert run("scan", "--no-cache", "src", "--report").exit_code == 1
    report = project / "reports" / "scan_report.md"
    good = report.read_text(encoding="utf-8")
    assert "src/bad.py" in good
    result = run("scan", "--no-cache", "src", "srcc", "--report")  # a mistyped path
    assert result.exit_code == 2 and "Report not written" in result.stderr
    assert report.read_text(encoding="utf-8") == good


@pytest.mark.parametrize(
    ("command", "target"), [("scan", "vaeaudit.scan.runner.scan_files"), ("fix", "vaeaudit.codemods.file_fixer.fix_paths")]
)
def test_ctrl_c_exits_130(project: Path, monkeypatch, command: str, target: str) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    module, _, name = target.rpartition(".")
    monkeypatch.setattr(sys.modules[module] if module in sys.modules else __import__(module, fromlist=[name]), name, interrupted)
    result = run(command, "src")
    assert result.exit_code == 130 and "Interrupted." in result.stderr and "Aborted" not in result.output


def test_sigint_on_the_real_entry_point_exits_130(project: Path) -> None:
    process = subprocess.Popen(
        [str(VAEAUDIT), "scan", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=project
    )
    time.sleep(2)  # blocked reading standard input by now
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert b"Traceback" not in stderr


def test_noqa_counts_in_comments_only(project: Path) -> None:
    (project / "src" / "bad.py").write_text(
        BAD.replace("return z.norm(dim=-1)", "return z.norm(dim=-1), '# noqa'")
        + "\ndef g(mu):\n    return exp_map_zero(mu).norm()  # radius # noqa: HYP001\n",
        encoding="utf-8",
    )
    result = run("scan", "--no-cache", "src/bad.py")
    assert [line.split(" ")[0] for line in result.stdout.splitlines()] == ["src/bad.py:5:12:"]


def test_gitignore_negation_keeps_what_git_keeps(project: Path) -> None:
    (project / ".gitignore").write_text("foo/*\n!foo/bar/\n*.log.py\n", encoding="utf-8")
    for name in ("foo/baz.py", "foo/bar/x.py", "foo/bar/sub/y.py", "foo/bar/debug.log.py", "top.py"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("x = 1\n", encoding="utf-8")
    shown = sorted(run("scan", "--show-files", "foo").stdout.splitlines())
    assert shown == ["foo/bar/sub/y.py", "foo/bar/x.py"]
    if shutil.which("git"):
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        listed = subprocess.run(
            ["git", "ls-files", "--others", "--exclude-standard", "foo"], cwd=project, capture_output=True, text=True, check=True
        )
        assert sorted(listed.stdout.split()) == shown


def test_ctrl_c_stops_the_worker_pool_at_once(tmp_path: Path) -> None:
    """Workers must not finish their queued chunks (seconds to minutes) after Ctrl-C."""
    body = "from vaeaudit.geometry import exp_map_zero\n" + "".join(
        f"def f{i}(mu):\n    z = exp_map_zero(mu)\n    return z.norm()\n" for i in range(300)
    )
    for index in range(80):
        (tmp_path / f"m{index}.py").write_text(body, encoding="utf-8")
    command = [str(VAEAUDIT), "scan", "--no-cache", "--jobs", "2", "."]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path, start_new_session=True)
    time.sleep(3)  # the pool is busy by now
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    started = time.monotonic()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert time.monotonic() - started < 5
    assert b"Traceback" not in stderr


def test_fix_quiet_and_output_file(project: Path) -> None:
    result = run("fix", "src", "--unsafe-fixes", "--output-file", "fix.diff")
    assert result.exit_code == 1 and result.stdout == ""
    diff = (project / "fix.diff").read_text(encoding="utf-8")
    assert diff.startswith("--- a/src/bad.py") and "+from vaeaudit.geometry import exp_map_zero, poincare_radius" in diff
    assert (project / "src" / "bad.py").read_text(encoding="utf-8") == BAD  # a diff, nothing applied
    result = run("fix", "src", "--unsafe-fixes", "--quiet")
    assert result.stdout.startswith("--- a/src/bad.py") and result.stderr == ""
    result = run("fix", "src", "--output-file", "no/such/dir/fix.diff")
    assert result.exit_code == 2 and "--output-file no/such/dir/fix.diff: cannot write" in result.stderr
