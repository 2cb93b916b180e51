"""`report --recompute`: stored vs recomputed under one definition set, disagreements flagged."""

import json

import pytest
import torch
from click.testing import CliRunner
from tree_builder import good_metrics, make_config, model_state, save, v5_11_era_checkpoint, vaeaudit_checkpoint

from vaeaudit.checkpoints.definitions import RECOMPUTE_SET
from vaeaudit.checkpoints.recompute import recompute_runs
from vaeaudit.checkpoints.report import render_table_format
from vaeaudit.checkpoints.settings import CheckpointSettings
from vaeaudit.checkpoints.tree_audit import audit_tree
from vaeaudit.cli import main
from vaeaudit.ternary_vae.data import all_operations, valuations
from vaeaudit.ternary_vae.metrics import evaluate
from vaeaudit.ternary_vae.model import build_model

CONFIG = make_config()


def honest_checkpoint(seed: int) -> dict:
    """A checkpoint whose stored metrics are exactly what its weights give."""
    state = model_state(CONFIG, seed)
    model = build_model(CONFIG)
    model.load_state_dict(state)
    with torch.no_grad():
        metrics = evaluate(model, all_operations(), valuations())
    return vaeaudit_checkpoint(state, CONFIG, metrics, 9)


@pytest.fixture(scope="module")
def recomputed(tmp_path_factory):
    root = tmp_path_factory.mktemp("recompute") / "runs"
    save(honest_checkpoint(1), root / "honest" / "best.pt")
    tampered = honest_checkpoint(2)
    tampered["metrics"]["hierarchy_B"] = -0.8315  # a better number than its weights give
    save(tampered, root / "tampered" / "best.pt")
    save(v5_11_era_checkpoint(model_state(CONFIG, 3), good_metrics(), 9), root / "v5_11_era" / "best.pt")
    audit = audit_tree(root, CheckpointSettings())
    recompute_runs(audit.runs, CheckpointSettings())
    return root, {run.name: run for run in audit.runs}, audit


def test_honest_stored_metrics_agree(recomputed):
    _, runs, _ = recomputed
    honest = runs["honest"]
    assert honest.recomputed.metrics and honest.recomputed.disagreements == []
    assert honest.recomputed.definition_set == RECOMPUTE_SET
    assert honest.verdict == "valid" and honest.metrics is honest.recomputed.metrics


def test_a_tampered_stored_metric_is_flagged_with_both_values(recomputed):
    _, runs, _ = recomputed
    (disagreement,) = runs["tampered"].recomputed.disagreements
    assert (disagreement.metric, disagreement.stored, disagreement.key) == ("hierarchy_B", -0.8315, "metrics.hierarchy_B")
    message = next(p.message for p in runs["tampered"].all_problems if p.code == "recompute-disagrees")
    assert "hierarchy_B -0.8315 (metrics.hierarchy_B) →" in message and RECOMPUTE_SET in message
    assert runs["tampered"].verdict == "invalid"
    assert "recompute-disagrees" in {problem.code for problem in runs["tampered"].all_problems}


def test_a_model_that_cannot_be_rebuilt_says_why_and_is_not_ranked(recomputed):
    _, runs, _ = recomputed
    era = runs["v5_11_era"]
    assert era.recomputed.metrics == {} and "no config stored" in era.recomputed.reason
    from vaeaudit.checkpoints.rankings import is_ranked

    assert not is_ranked(era) and is_ranked(runs["honest"])


def test_json_rows_carry_stored_and_recomputed(recomputed):
    _, _, audit = recomputed
    rows = {row["run"]: row for row in json.loads(render_table_format(audit, "json"))["runs"]}
    assert rows["honest"]["recompute_note"] == "agrees"
    assert rows["tampered"]["hierarchy_B"] == pytest.approx(-0.8315)  # what it stored
    assert rows["tampered"]["recomputed_hierarchy_B"] != pytest.approx(-0.8315)  # what its weights give


def test_cli_recompute_shows_stored_and_recomputed(recomputed, tmp_path):
    root, _, _ = recomputed
    markdown = tmp_path / "r.md"
    result = CliRunner().invoke(main, ["checkpoints", "report", str(root), "--recompute", "--no-plot", "-o", str(markdown)])
    assert result.exit_code == 0, result.output
    table = markdown.read_text().split("## Recomputed under one definition set")[1].split("## Where the numbers come from")[0]
    assert "DISAGREES: 1 stored metric" in table and "agrees" in table and "→" in table
