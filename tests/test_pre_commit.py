"""The pre-commit hooks as a user gets them: the README's snippet, autoupdate, two real runs.

`bench/bench_hook_env.py` does the work (it also prints the environment's size and build
time); this test runs it and checks the outcome. pre-commit builds a fresh hook
environment from the light core, so the test needs the package index (as CI's set-up
does) but no torch: ~15 s on an idle 2-core machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOOK_ENV_LIMIT = 80 * 2**20


def test_readme_snippet_hooks_fail_fix_then_pass() -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_hook_env.py"), "--json"],
        capture_output=True, text=True, timeout=1800, check=True,
    )
    result = json.loads(completed.stdout)
    assert result["autoupdate_exit"] == 0, result["pinned_config"]
    assert "rev: main" not in result["pinned_config"]
    assert result["first_exit"] == 1, result["first_output"]
    assert "HYP001" in result["first_output"] and "files were modified by this hook" in result["first_output"]
    assert "poincare" in result["fixed_text"] and "z.norm(dim=-1)" not in result["fixed_text"]
    assert result["second_exit"] == 0, result["second_output"]
    assert result["second_output"].count("Passed") == 2
    assert 0 < result["hook_env_bytes"] <= HOOK_ENV_LIMIT, result["hook_env_bytes"]
