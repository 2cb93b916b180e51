"""The pre-commit hooks, run by pre-commit itself against this checkout (`pre-commit try-repo`).

try-repo builds a fresh hook virtualenv in a temporary store on every call and
pip-installs this project into it (one to several minutes, most of it unpacking torch),
so the test makes two calls only: all hooks on a bad file (check fails, fix rewrites),
then all hooks again (both pass). torch is pinned through the repo's constraints.txt (an
open range would pull GBs of CUDA wheels), .pyc compilation is skipped (a throwaway env
never imports most of it), and PRE_COMMIT_HOME points into tmp_path so nothing leaks.

Measured: ~60 s on an idle 2-core machine (two torch-sized installs), the slowest test
of the suite; ~6 minutes when the cores are busy with other work.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
BAD = '''import torch

from vaeaudit.geometry import exp_map_zero


def radii(mu, curvature):
    z = exp_map_zero(mu, c=curvature)
    return z.norm(dim=-1)
'''


def test_check_fails_fix_rewrites_then_both_pass(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PIP_CONSTRAINT": str(REPO / "constraints.txt"),
        "PIP_NO_COMPILE": "1",
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=1200)

    run("git", "init", "-q")
    (project / "model.py").write_text(BAD)
    run("git", "add", "model.py")

    first = run(str(PRE_COMMIT), "try-repo", str(REPO), "--all-files")
    output = first.stdout + first.stderr
    assert first.returncode == 1, output
    assert "HYP001" in output and "files were modified by this hook" in output
    assert "return poincare_distance(z, torch.zeros_like(z), c=curvature)" in (project / "model.py").read_text()

    run("git", "add", "model.py")
    second = run(str(PRE_COMMIT), "try-repo", str(REPO), "--all-files")
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.count("Passed") == 2
