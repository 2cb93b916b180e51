"""The pre-commit hooks as a user gets them: the README's snippet, `pre-commit autoupdate`, two runs.

What it does, in a throwaway folder:
1. snapshots this checkout (tracked and untracked, not ignored, files) into a fresh git
   repository, standing in for the published one;
2. writes the README's `.pre-commit-config.yaml` snippet into a new project, with the
   snapshot as `repo:`, and runs `pre-commit autoupdate` as the snippet's comment says;
3. runs `pre-commit run --all-files` on a file with a real finding (the check fails, the
   fix rewrites the file), then again (both hooks pass).

It prints the hook environment's size on disk and the time of the first run (which
builds it), the figures issue 11 sets limits on (≤ 80 MB, ≤ 15 s). `--json` prints the
same as one JSON object (tests/test_pre_commit.py reads it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
BAD = """import torch

from vaeaudit.geometry import exp_map_zero


def radii(mu, curvature):
    z = exp_map_zero(mu, c=curvature)
    return z.norm(dim=-1)
"""
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def readme_snippet() -> str:
    """The first ```yaml block of the README's pre-commit section, as a user would copy it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### 3. pre-commit") :]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    if match is None:
        raise SystemExit("README.md: no ```yaml block in the pre-commit section")
    return match.group(1)


def snapshot(destination: Path, env: dict[str, str]) -> None:
    """This checkout's working tree as the only commit of a new repository."""
    files = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "snapshot"]):
        subprocess.run(command, cwd=destination, env=env, check=True)


def directory_size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def measure(work: Path) -> dict[str, object]:
    env = {**os.environ, **GIT_IDENTITY, "PRE_COMMIT_HOME": str(work / "home")}
    env.pop("PIP_CONSTRAINT", None)  # the light core must not need the torch pin
    published = work / "vaeaudit"
    published.mkdir()
    snapshot(published, env)

    project = work / "project"
    project.mkdir()
    snippet = readme_snippet()
    config = re.sub(r"(repo:\s*)\S+", lambda m: m.group(1) + str(published), snippet, count=1)
    (project / ".pre-commit-config.yaml").write_text(config)
    (project / "model.py").write_text(BAD)

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=1200)

    run("git", "init", "-q")
    run("git", "add", "-A")
    update = run(str(PRE_COMMIT), "autoupdate")
    started = time.perf_counter()
    first = run(str(PRE_COMMIT), "run", "--all-files")
    first_seconds = time.perf_counter() - started
    fixed_text = (project / "model.py").read_text()
    run("git", "add", "-A")
    second = run(str(PRE_COMMIT), "run", "--all-files")
    environments = [p for p in (work / "home").rglob("py_env-*") if p.is_dir()]
    return {
        "autoupdate_exit": update.returncode,
        "pinned_config": (project / ".pre-commit-config.yaml").read_text(),
        "first_exit": first.returncode,
        "first_output": first.stdout + first.stderr,
        "fixed_text": fixed_text,
        "second_exit": second.returncode,
        "second_output": second.stdout + second.stderr,
        "hook_env_bytes": sum(directory_size(p) for p in environments),
        "first_run_seconds": round(first_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vaeaudit-hook-") as tmp:
        result = measure(Path(tmp))
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"autoupdate exit {result['autoupdate_exit']}; first run exit {result['first_exit']} (1 expected), "
        f"second run exit {result['second_exit']} (0 expected)"
    )
    print(f"hook environment: {result['hook_env_bytes'] / 2**20:.1f} MB on disk (target <= 80 MB)")
    print(f"first run, building the environment: {result['first_run_seconds']:.1f} s (target <= 15 s)")


if __name__ == "__main__":
    main()
