"""The pre-commit hooks, run by pre-commit itself against this checkout (`pre-commit try-repo`).

pre-commit builds a fresh hook virtualenv and pip-installs this project into it (about a
minute, most of it unpacking torch), so the test pins torch through the repo's
constraints.txt (an open range would pull GBs of CUDA wheels) and passes `--ref HEAD`:
without it try-repo snapshots uncommitted changes into a new shadow repo on every call
and reinstalls every time. The hook environment lives in the pytest cache and is reused
until HEAD moves. So the hooks tested are those of the last commit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
BAD = '''import torch

from ternary_vae.geometry import exp_map_zero


def radii(mu, curvature):
    z = exp_map_zero(mu, c=curvature)
    return z.norm(dim=-1)
'''


def run(*command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture
def head() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def pre_commit_home(request: pytest.FixtureRequest, head: str) -> Path:
    """A PRE_COMMIT_HOME in the pytest cache, emptied when HEAD moved (one torch-sized env at a time)."""
    home = request.config.cache.mkdir("vaeaudit-pre-commit-home")
    marker = home / "vaeaudit-head"
    if not marker.is_file() or marker.read_text() != head:
        shutil.rmtree(home)
        home.mkdir()
        marker.write_text(head)
    return home


@pytest.fixture
def git_project(tmp_path: Path, pre_commit_home: Path) -> tuple[Path, dict[str, str]]:
    project = tmp_path / "project"
    project.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(pre_commit_home),
        "PIP_CONSTRAINT": str(REPO / "constraints.txt"),
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    run("git", "init", "-q", cwd=project, env=env)
    (project / "model.py").write_text(BAD)
    run("git", "add", "model.py", cwd=project, env=env)
    return project, env


def test_check_fails_fix_rewrites_then_check_passes(git_project, head: str) -> None:
    project, env = git_project

    def hook(hook_id: str) -> subprocess.CompletedProcess:
        return run(str(PRE_COMMIT), "try-repo", str(REPO), hook_id, "--ref", head, "--all-files", cwd=project, env=env)

    check = hook("vaeaudit-check")
    assert check.returncode == 1, check.stdout + check.stderr
    assert "HYP001" in check.stdout

    fixing = hook("vaeaudit-fix")
    assert fixing.returncode == 1, fixing.stdout + fixing.stderr  # files were modified by this hook
    assert "return poincare_distance(z, torch.zeros_like(z), c=curvature)" in (project / "model.py").read_text()

    run("git", "add", "model.py", cwd=project, env=env)
    for hook_id in ("vaeaudit-check", "vaeaudit-fix"):
        result = hook(hook_id)
        assert result.returncode == 0, result.stdout + result.stderr
