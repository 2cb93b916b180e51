"""Run READMEs from the template, and `checkpoints organize`: dry run, apply, undo, refusals."""

import hashlib
import json
import os

import pytest
from click.testing import CliRunner
from tree_builder import HOSTILE_NAME, MkdirPayload, good_metrics, make_config, model_state, save, vaeaudit_checkpoint

from vaeaudit.checkpoints import organize
from vaeaudit.checkpoints.run_readme import write_run_readme
from vaeaudit.checkpoints.settings import CheckpointSettings
from vaeaudit.checkpoints.tree_audit import audit_tree
from vaeaudit.cli import main

CONFIG = make_config()


def small_tree(root):
    """A production run, a crashed one, an unsafe one, a copy, an interrupted one and a hostile name."""
    state = model_state(CONFIG, 1)
    for name, files in (("v5_12", ("best.pt", "latest.pt")), ("v5_12_again", ("best.pt",)), (HOSTILE_NAME, ("best.pt",))):
        for file in files:
            save(
                vaeaudit_checkpoint(state if name != HOSTILE_NAME else model_state(CONFIG, 2), CONFIG, good_metrics(), 9),
                root / name / file,
            )
    save(vaeaudit_checkpoint(model_state(CONFIG, 3), CONFIG, good_metrics(), 4, finished=False), root / "sweep_a" / "latest.pt")
    save(vaeaudit_checkpoint(model_state(CONFIG, 4), CONFIG, good_metrics(), 2), root / "crashed_run" / "epoch_2.pt")
    payload = {**vaeaudit_checkpoint(model_state(CONFIG, 5), CONFIG, good_metrics(), 9), "x": MkdirPayload(root.parent / "RAN")}
    save(payload, root / "evil_run" / "best.pt")
    os.utime(root / "v5_12", (1, 1))  # the older copy is the original
    return root


def fingerprint(root) -> str:
    digest = hashlib.blake2b()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_run_readme_says_purpose_status_metrics_definitions_and_config(tmp_path):
    run = tmp_path / HOSTILE_NAME
    run.mkdir()
    config = {"model": {"latent_dim": 4}, 3: "mixed key"}
    config["self"] = config
    path = write_run_readme(
        run,
        category="PRODUCTION",
        status="complete",
        status_reason="has best.pt",
        verdict="valid",
        metrics={"hierarchy_B": -0.8123, "Q": 1.9},
        metric_sources={"hierarchy_B": "metrics.radial_corr_B"},
        checkpoint="best.pt",
        epoch=12,
        config=config,
    )
    text = path.read_text()
    assert "<script>" not in text and "[x](y)" not in text
    assert "A production run" in text and "complete: has best.pt" in text
    assert "`metrics.radial_corr_B`" in text and "Spearman" in text and "dist\\_corr \\+ 1.5" in text
    assert "<cycle>" in text and "epoch 12" in text


def test_an_existing_readme_is_kept_unless_asked(tmp_path):
    (tmp_path / "readme.txt").write_text("my notes")
    assert write_run_readme(tmp_path, purpose="x") is None
    assert not (tmp_path / "README.md").exists()
    assert write_run_readme(tmp_path, purpose="replaced", overwrite=True).read_text().count("replaced") == 1


def test_report_write_readmes_fills_only_missing_ones(tmp_path, monkeypatch):
    root = small_tree(tmp_path / "runs")
    (root / "sweep_a" / "README.md").write_text("hand-written\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["checkpoints", "report", "--write-readmes", "--no-plot"])
    assert result.exit_code == 0, result.output
    assert "wrote 5 run README(s)" in result.output
    assert (root / "sweep_a" / "README.md").read_text() == "hand-written\n"
    assert "interrupted" not in (root / "v5_12" / "README.md").read_text()
    report = (tmp_path / "reports" / "checkpoints.md").read_text()
    assert "Document:" not in report  # the READMEs were written before the report was


def test_organize_dry_run_apply_report_and_undo(tmp_path, monkeypatch):
    root = small_tree(tmp_path / "runs")
    before = fingerprint(root)
    runner = CliRunner()
    dry = runner.invoke(main, ["checkpoints", "organize", str(root)])
    assert dry.exit_code == 0, dry.output
    assert fingerprint(root) == before and "dry run" in dry.output
    moves = {line.split(" -> ")[0]: line.split(" -> ")[1].split("  ")[0] for line in dry.output.splitlines() if " -> " in line}
    assert moves == {
        "v5_12": "production/v5_12",
        "v5_12_again": "archive/v5_12_again",
        "crashed_run": "archive/crashed_run",
        "evil_run": "quarantine/evil_run",
        HOSTILE_NAME: "script_x_y",
    }

    applied = runner.invoke(main, ["checkpoints", "organize", str(root), "--apply"])
    assert applied.exit_code == 0, applied.output
    assert (root / "production" / "v5_12" / "best.pt").is_file() and (root / organize.MANIFEST).is_file()
    audit = audit_tree(root, CheckpointSettings())
    assert sorted(run.name for run in audit.runs) == sorted(["v5_12", "v5_12_again", "crashed_run", "evil_run", "script_x_y", "sweep_a"])
    assert {run.name: run.status for run in audit.runs}["v5_12"] == "complete"
    assert not (tmp_path / "RAN").exists()

    undone = runner.invoke(main, ["checkpoints", "organize", str(root), "--undo"])
    assert undone.exit_code == 0, undone.output
    assert fingerprint(root) == before


def test_any_conflict_refuses_the_whole_plan(tmp_path):
    root = small_tree(tmp_path / "runs")
    (root / "production").mkdir()
    (root / "production" / "v5_12").write_text("not a run")  # the target exists
    before = fingerprint(root)
    result = CliRunner().invoke(main, ["checkpoints", "organize", str(root), "--apply"])
    assert result.exit_code == 1
    assert "production/v5_12 already exists" in result.output and "nothing was moved" in result.output
    assert fingerprint(root) == before


def test_a_failed_move_rolls_back_every_move_and_the_manifest(tmp_path, monkeypatch):
    root = small_tree(tmp_path / "runs")
    before = fingerprint(root)
    moves = organize.plan_moves(root, audit_tree(root, CheckpointSettings()).runs)
    real_rename, calls = os.rename, []

    def flaky(source, target):
        calls.append(source)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_rename(source, target)

    monkeypatch.setattr(os, "rename", flaky)
    with pytest.raises(OSError):
        organize.apply_moves(root, moves)
    monkeypatch.setattr(os, "rename", real_rename)
    assert fingerprint(root) == before


def test_undo_never_leaves_the_root(tmp_path):
    root = small_tree(tmp_path / "runs")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    manifest = {"moves": [{"source": "../elsewhere/stolen", "target": "v5_12", "why": "forged"}]}
    (root / organize.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(organize.OrganizeError, match="not a plain path inside the root"):
        organize.undo_moves(root)
    assert list(outside.iterdir()) == [] and (root / "v5_12").is_dir()
