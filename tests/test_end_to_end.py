"""The product's halves agree: runs written by `vaeaudit train` pass `vaeaudit checkpoints`."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

SHORT = ["threads=1", "model.encoder_hidden=[64, 64]", "coverage.max_epochs=10", "hierarchy.max_epochs=3"]


def vaeaudit(*args, cwd):
    executable = shutil.which("vaeaudit", path=str(Path(sys.executable).parent)) or "vaeaudit"
    return subprocess.run([executable, *args], cwd=cwd, capture_output=True, text=True)


def test_trained_run_is_a_valid_complete_run_in_the_checkpoint_report(tmp_path):
    overrides = [argument for pair in SHORT for argument in ("--set", pair)]
    trained = vaeaudit("train", "--quiet", "--save-dir", "runs", "--run-name", "v5_12", *overrides, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr

    report = vaeaudit(
        "checkpoints", "report", "runs", "--format", "json", "-o", "audit.json", "--strict", "--no-progress", cwd=tmp_path
    )
    assert report.returncode == 0, report.stdout + report.stderr
    (run,) = json.loads((tmp_path / "audit.json").read_text())["runs"]
    assert (run["run"], run["status"], run["category"]) == ("v5_12", "complete", "PRODUCTION")
    assert run["problems"] in ([], "", None), run["problems"]
    assert run["coverage"] > 0.5

    inspected = vaeaudit("checkpoints", "inspect", "runs/v5_12/best_Q.pt", "--strict", cwd=tmp_path)
    assert inspected.returncode == 0, inspected.stdout + inspected.stderr
    assert "model_state_dict" in inspected.stdout
