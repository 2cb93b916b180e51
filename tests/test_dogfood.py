"""The product's own scanner finds nothing in the product."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_scan_of_this_repository_is_clean():
    executable = shutil.which("vaeaudit", path=str(Path(sys.executable).parent)) or "vaeaudit"
    result = subprocess.run(
        [executable, "scan", "--no-cache", str(REPO)], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "HYP" not in result.stdout
