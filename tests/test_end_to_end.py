"""The product's halves agree: runs written by `vaeaudit train` pass `vaeaudit checkpoints`,
and a training run interrupted with Ctrl-C is reported as interrupted, never as complete."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

SHORT = ["threads=1", "model.encoder_hidden=[64, 64]", "coverage.max_epochs=10", "hierarchy.max_epochs=3"]


def executable() -> str:
    return shutil.which("vaeaudit", path=str(Path(sys.executable).parent)) or "vaeaudit"


def vaeaudit(*args, cwd):
    return subprocess.run([executable(), *args], cwd=cwd, capture_output=True, text=True)


def overrides(pairs):
    return [argument for pair in pairs for argument in ("--set", pair)]


def test_trained_run_is_a_valid_complete_run_in_the_checkpoint_report(tmp_path):
    trained = vaeaudit("train", "--quiet", "--save-dir", "runs", "--run-name", "v5_12", *overrides(SHORT), cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    readme = (tmp_path / "runs" / "v5_12" / "README.md").read_text()
    assert "PRODUCTION" in readme and "valid" in readme and "hierarchy_B" in readme

    report = vaeaudit(
        "checkpoints",
        "report",
        "runs",
        "--recompute",
        "--output-format",
        "json",
        "-o",
        "audit.json",
        "--strict",
        "--no-progress",
        cwd=tmp_path,
    )
    assert report.returncode == 0, report.stdout + report.stderr
    (run,) = json.loads((tmp_path / "audit.json").read_text())["runs"]
    assert (run["run"], run["status"], run["category"]) == ("v5_12", "complete", "PRODUCTION")
    assert run["problems"] in ([], "", None), run["problems"]
    assert run["coverage"] > 0.5
    assert "hierarchy_B=metrics.hierarchy_B" in run["metric_keys"]
    assert run["recompute_note"] == "agrees"  # what the trainer stored is what its weights give
    assert abs(run["recomputed_hierarchy_B"] - run["hierarchy_B"]) <= 1e-4

    inspected = vaeaudit("checkpoints", "inspect", "runs/v5_12/best_Q.pt", "--strict", cwd=tmp_path)
    assert inspected.returncode == 0, inspected.stdout + inspected.stderr
    assert "model_state_dict" in inspected.stdout


def test_a_run_interrupted_with_ctrl_c_is_reported_interrupted_from_the_default_root(tmp_path):
    """`vaeaudit train` (default save dir and run name), Ctrl-C after its first checkpoint,
    then `vaeaudit checkpoints report` with no argument: it finds runs/ and says interrupted."""
    long_run = ["threads=1", "model.encoder_hidden=[64, 64]", "coverage.max_epochs=100000", "hierarchy.max_epochs=3"]
    process = subprocess.Popen([executable(), "train", "--quiet", *overrides(long_run)], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list((tmp_path / "runs").glob("*/latest.pt")) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr

    report = vaeaudit("checkpoints", "report", "--output-format", "json", "--no-progress", cwd=tmp_path)
    assert report.returncode == 0, report.stdout + report.stderr
    document = json.loads((tmp_path / "reports" / "checkpoints.json").read_text())
    (run,) = document["runs"]
    assert run["run"].startswith("ternary_") and run["category"] == "TRAINER_RUN"
    assert run["status"] == "interrupted", run["status_reason"]
    assert "did not finish" in run["status_reason"]

    markdown = vaeaudit("checkpoints", "report", "--no-progress", "--no-plot", cwd=tmp_path)
    assert markdown.returncode == 0, markdown.stderr
    best = (tmp_path / "reports" / "checkpoints.md").read_text().split("## Best runs")[1].split("## Runs to look at")[0]
    assert "ternary" not in best  # an interrupted run is never ranked
