"""The whole tree: statuses, verdicts and reasons per run, and the reports built from them."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from tree_builder import HOSTILE_NAME, PRINT_SENTINEL

from vaeaudit.checkpoints.plot import plotting_available, write_pareto_plot
from vaeaudit.checkpoints.report import render_markdown, render_table_format
from vaeaudit.checkpoints.settings import CheckpointSettings
from vaeaudit.checkpoints.tree_audit import audit_tree
from vaeaudit.cli import main

# run -> (status, verdict, problem codes that must be present)
EXPECTED_RUNS = {
    "v5_12_4": ("complete", "valid", {"has-duplicates"}),
    "v5_5": ("complete", "valid", {"architecture-unchecked"}),
    "v5_11_era_radial": ("complete", "valid", {"architecture-unchecked"}),
    "homeostasis_v5_11": ("complete", "valid", {"architecture-unchecked"}),
    "v5_11_best_q_only": ("partial", "valid", set()),
    "sweep_crashed_epochs": ("crashed", "valid", set()),
    "homeostatic_rich": ("complete", "valid", set()),
    "empty_run": ("empty", "empty", set()),
    "partial_run": ("interrupted", "valid", set()),
    "stale_partial": ("interrupted", "valid", set()),
    "sweep2_traceback": ("crashed", "valid", set()),
    "oom_run": ("crashed", "valid", set()),
    "killed_run": ("crashed", "valid", set()),
    "sweep_latent_8": ("crashed", "valid", set()),
    "hierarchy_push": ("complete", "invalid", {"hierarchy-collapsed"}),
    "rich_inverted": ("complete", "invalid", {"hierarchy-inverted"}),
    "debug_nan": ("complete", "invalid", {"non-finite-tensor"}),
    "dead_weights": ("complete", "invalid", {"dead-tensor"}),
    "q_mismatch": ("complete", "invalid", {"q-inconsistent"}),
    "out_of_range": ("complete", "invalid", {"metric-out-of-range"}),
    "arch_mismatch": ("complete", "invalid", {"architecture-mismatch"}),
    "foreign_format": ("complete", "valid", {"architecture-unchecked"}),
    "epoch_order": ("complete", "invalid", {"epoch-order"}),
    "v5_12_copy": ("complete", "invalid", {"duplicate"}),
    "v5_11_overnight": ("complete", "invalid", {"learned-nothing"}),
    "phase2_seed_a": ("complete", "invalid", {"learned-nothing"}),
    "phase2_seed_b": ("complete", "invalid", {"learned-nothing"}),
    "coverage_phase_a": ("interrupted", "valid", set()),  # phase-2 tensors still at their init: expected
    "test_bad_malicious": ("complete", "unsafe", {"unsafe-pickle"}),
    "test_bad_print_pickle": ("complete", "unsafe", {"unsafe-pickle"}),
    "test_bad_flipped_crc": ("complete", "invalid", {"corrupt"}),
    "test_bad_torchscript": ("complete", "invalid", {"not-a-checkpoint"}),
    HOSTILE_NAME: ("complete", "valid", set()),
}


@pytest.fixture(scope="module")
def audit(tree):
    return audit_tree(tree.root, CheckpointSettings())


def test_runs_get_the_expected_status_verdict_and_reasons(audit):
    runs = {run.name: run for run in audit.runs}
    for name, (status, verdict, codes) in EXPECTED_RUNS.items():
        run = runs[name]
        found = {problem.code for problem in run.all_problems}
        assert (run.status, run.verdict) == (status, verdict), (name, run.status_reason, found)
        assert codes <= found, (name, found)
    assert len(runs) >= 50
    assert {run.category for run in audit.runs} >= {
        "PRODUCTION",
        "LOSS_EXPERIMENT",
        "SWEEP_TEST",
        "TEST",
        "FINAL_PUSH",
        "HOMEOSTATIC_EXPERIMENT",
        "TRAINING_EXPERIMENT",
        "OTHER",
    }


def test_every_stored_hierarchy_is_shown_with_its_key(audit):
    runs = {run.name: run for run in audit.runs}
    assert runs["v5_11_era_radial"].metrics["hierarchy_B"] == pytest.approx(-0.80)
    assert runs["v5_11_era_radial"].primary.fields.metric_sources["hierarchy_B"] == "metrics.radial_corr_B"
    assert runs["homeostasis_v5_11"].primary.fields.metric_sources["hierarchy_B"] == "hierarchy"
    stored = [run for run in audit.runs if run.primary and run.primary.loaded and run.primary.fields.metrics]
    assert stored and all("hierarchy_B" in run.metrics for run in stored)
    sources = render_markdown(audit).split("## Where the numbers come from")[1].split("## Recommendations")[0]
    assert "`radial_corr_B`" in sources and "`hierarchy`" in sources and "three metric definitions" in sources
    row = next(row for row in json.loads(render_table_format(audit, "json"))["runs"] if row["run"] == "v5_11_era_radial")
    assert "hierarchy_B=metrics.radial_corr_B" in row["metric_keys"] and "Q=metrics.Q_B" in row["metric_keys"]


def test_interrupted_and_partial_runs_are_never_ranked(audit):
    best = render_markdown(audit).split("## Best runs")[1].split("## Runs to look at")[0]
    for name in ("partial_run", "coverage_phase_a", "v5_11_best_q_only", "stale_partial"):
        assert name.replace("_", "\\_") not in best


def test_valid_runs_have_no_false_alarms(audit):
    for name in ("v5_12", "v5_11_3", "sweep_lr_1e3", "scratch_v2", "v5_11_annealing"):
        run = next(run for run in audit.runs if run.name == name)
        assert run.verdict == "valid"
        assert [p.code for p in run.all_problems] == []


def test_no_payload_ran_during_the_tree_audit(audit, tree):
    assert not tree.marker.exists()


def test_markdown_report(audit):
    text = render_markdown(audit)
    production = text.split("## Production runs")[1].split("## Best runs")[0]
    versions = [line.split("|")[1].strip() for line in production.splitlines() if line.startswith("| v")]
    assert versions == ["v5.5", "v5.10", "v5.11", "v5.11.3", "v5.11.8", "v5.12", "v5.12.4"]
    assert "v5.11.annealing" not in production
    header = next(line for line in production.splitlines() if line.startswith("| Version"))
    assert [cell.strip() for cell in header.strip("|").split("|")] == [
        "Version",
        "Coverage",
        "Hier_B",
        "Richness",
        "r_v0",
        "r_v9",
        "Q",
        "Notes",
    ]
    best = text.split("## Best runs")[1].split("## Runs to look at")[0]
    assert "hierarchy\\_push" not in best and "killed\\_run" not in best  # collapsed or crashed never rank
    pareto = best.split("Pareto front")[1]
    assert "homeostatic\\_rich" in pareto and "final\\_rich\\_lr5e5" in pareto
    trouble = text.split("## Runs to look at")[1].split("## Runs by category")[0]
    assert "posix.mkdir" in trouble and "CRC mismatch" in trouble and "untouched for" in trouble
    assert "TRAINING\\_EXPERIMENT: search /progressive\\|annealing\\|learnable/" in text
    assert "Archive: crashed or empty runs" in text and "Resume or archive: interrupted runs" in text
    recommendations = text.split("## Recommendations")[1]
    assert "`v5_11`" in recommendations.split("Document:")[1].split("\n")[0]  # production, valid, no README
    assert "misc\\_probe" not in recommendations.split("Document:")[1]  # no blanket README advice


def test_hostile_run_name_cannot_break_a_table_or_inject_markup(audit):
    text = render_markdown(audit)
    assert "<script>" not in text and "[x](y)" not in text
    row = next(line for line in text.splitlines() if "\\<script\\>" in line and "no rule matched" in line)
    header = next(line for line in text.splitlines() if line.startswith("| run ") and "matched rule" in line)
    unescaped_pipes = lambda line: len(line.replace("\\|", "")) - len(line.replace("\\|", "").replace("|", ""))  # noqa: E731
    assert unescaped_pipes(row) == unescaped_pipes(header)


def test_json_and_csv_have_one_row_per_run_and_per_file(audit):
    document = json.loads(render_table_format(audit, "json"))
    listed = sum(len(run.not_audited) for run in audit.runs)
    assert len(document["runs"]) == len(audit.runs) and len(document["files"]) == len(audit.files) + listed
    assert {row["load"] for row in document["files"][len(audit.files) :]} == {"not-audited"}
    assert document["summary"]["verdicts"]["unsafe"] == 2
    overnight = next(row for row in document["runs"] if row["run"] == "v5_11_overnight")
    assert "learned-nothing" in overnight["problems"] and overnight["Q"] == pytest.approx(0.7 + 1.5 * 0.83)
    rows = list(csv.DictReader(io.StringIO(render_table_format(audit, "csv"))))
    assert sum(row["row"] == "run" for row in rows) == len(audit.runs)
    assert sum(row["row"] == "file" for row in rows) == len(audit.files) + listed
    assert any(row["row"] == "run" and row["run"] == HOSTILE_NAME for row in rows)
    v5_12_4 = next(row for row in rows if row["row"] == "run" and row["run"] == "v5_12_4")
    assert (v5_12_4["files"], v5_12_4["epoch"]) == ("3", "90")  # counts, not "3.0"
    assert isinstance(overnight["epoch"], int) and all(isinstance(row["size"], int) for row in document["files"][: len(audit.files)])


# ---------------------------------------------------------------------------- CLI


def test_cli_report_writes_markdown_and_exits_0(tree, tmp_path):
    output = tmp_path / "out" / "report.md"
    result = CliRunner().invoke(main, ["checkpoints", "report", str(tree.root), "-o", str(output), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert output.read_text().startswith("# Checkpoint audit")
    assert f"wrote {output}" in result.output
    written = sorted(path.name for path in output.parent.iterdir())  # and no temp files left behind
    assert written == (["report.md", "report.png"] if plotting_available() else ["report.md"])
    assert ("![hierarchy_B vs richness" in output.read_text()) == plotting_available()


def test_plot_of_the_pareto_front(audit, tmp_path):
    pytest.importorskip("matplotlib")
    destination = tmp_path / "front.png"
    assert write_pareto_plot(audit.runs, destination)
    assert destination.read_bytes().startswith(b"\x89PNG")
    assert not write_pareto_plot([], tmp_path / "none.png") and not (tmp_path / "none.png").exists()


def test_no_plot_flag(tree, tmp_path):
    output = tmp_path / "plain.md"
    result = CliRunner().invoke(main, ["checkpoints", "report", str(tree.root), "-o", str(output), "--no-plot"])
    assert result.exit_code == 0
    assert [path.name for path in tmp_path.iterdir()] == ["plain.md"]
    assert "No plot" in output.read_text()


def test_cli_strict_exits_1_and_still_writes(tree, tmp_path):
    output = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["checkpoints", "report", str(tree.root), "-o", str(output), "--format", "json", "--strict"])
    assert result.exit_code == 1
    assert json.loads(output.read_text())["runs"]


def test_cli_default_root_and_output_from_pyproject(tree, tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(f'[tool.vaeaudit.checkpoints]\nroot = "{tree.root}"\n')
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["checkpoints", "report", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert (project / "reports" / "checkpoints.csv").is_file()


@pytest.mark.parametrize(
    ("arguments", "pyproject", "message"),
    [
        (["/no/such/root"], None, "is not a folder"),
        ([], None, "checkpoint root runs is not a folder"),
        (["--format", "pdf"], None, "Invalid value for '--output-format' / '--format'"),
        ([], "[tool.vaeaudit.checkpoints]\nrooot = 'x'\n", "unknown key 'rooot'"),
    ],
)
def test_cli_usage_errors_exit_2_without_traceback(tmp_path, monkeypatch, arguments, pyproject, message):
    if pyproject:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["checkpoints", "report", *arguments])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "reports").exists()


def test_cli_progress_only_when_asked(tree, tmp_path):
    runner = CliRunner()
    quiet = runner.invoke(main, ["checkpoints", "report", str(tree.root), "-o", str(tmp_path / "a.md")])
    loud = runner.invoke(main, ["checkpoints", "report", str(tree.root), "-o", str(tmp_path / "b.md"), "--progress"])
    assert "[1/" not in quiet.stderr
    assert "[1/" in loud.stderr and "v5_12_4/best.pt" in loud.stderr


def test_cli_inspect(tree):
    runner = CliRunner()
    good = runner.invoke(main, ["checkpoints", "inspect", str(tree.root / "v5_12" / "best.pt")])
    assert good.exit_code == 0
    expected = ("weights under 'model_state'", "metrics.Q_B", "encoder_B.mu.weight", "Architecture matches", "no problems found")
    assert all(text in good.output for text in (*expected, "numpy._core.multiarray.scalar")), good.output
    bad = runner.invoke(main, ["checkpoints", "inspect", str(tree.bad_files["malicious"]), "--strict"])
    assert bad.exit_code == 1
    assert "dangerous: posix.mkdir" in bad.output and "Tensors" not in bad.output
    missing = runner.invoke(main, ["checkpoints", "inspect", "/no/such.pt"])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_installed_entry_point(tree, tmp_path):
    executable = Path(sys.executable).with_name("vaeaudit")
    output = tmp_path / "cli.md"
    report = subprocess.run(
        [executable, "checkpoints", "report", str(tree.root), "-o", str(output)], capture_output=True, text=True, timeout=120
    )
    assert report.returncode == 0, report.stderr
    assert "[1/" not in report.stderr  # stderr is a pipe, not a terminal: quiet
    assert PRINT_SENTINEL not in report.stdout + report.stderr
    inspect = subprocess.run(
        [executable, "checkpoints", "inspect", str(tree.bad_files["zip_bomb"])], capture_output=True, text=True, timeout=120
    )
    assert inspect.returncode == 0 and "zip-bomb header" in inspect.stdout
    assert not tree.marker.exists() and os.path.exists(output)


def test_cli_unwritable_output_is_a_usage_error(tree, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["checkpoints", "report", str(tree.root), "-o", str(blocker / "r.md")])
    assert result.exit_code == 2 and "cannot write" in result.output
    assert blocker.read_text() == "not a folder"


def test_what_is_not_audited_is_said(tmp_path):
    root = tmp_path / "runs"
    (root / "real_run").mkdir(parents=True)
    (root / "loose.pt").write_bytes(b"")
    (root / "linked").symlink_to(root / "real_run")
    (root / "real_run" / "back").symlink_to(root)  # a loop, never followed
    audit = audit_tree(root, CheckpointSettings())
    assert [run.name for run in audit.runs] == ["real_run"]
    assert audit.runs[0].status == "empty"
    text = render_markdown(audit)
    assert "loose.pt: file outside any run folder" in text.replace("\\", "")
    assert "linked: symlinked folder not followed" in text


def test_empty_root_still_gives_headed_tables(tmp_path):
    root = tmp_path / "none"
    root.mkdir()
    output = tmp_path / "r.csv"
    result = CliRunner().invoke(main, ["checkpoints", "report", str(root), "-o", str(output), "--format", "csv"])
    assert result.exit_code == 0 and "0 runs" in result.output
    header = output.read_text().splitlines()
    assert len(header) == 1 and header[0].startswith("row,run,category,rule,status")
    text = render_markdown(audit_tree(root, CheckpointSettings()))
    assert "_none_" in text and "- Categories: none." in text


def test_inspect_never_sends_control_characters_to_the_terminal(tmp_path):
    import torch

    path = tmp_path / "ansi.pt"
    torch.save({"model_state_dict": {"\x1b[2Jevil.weight": torch.ones(2, 2)}, "epoch": 1}, path)
    result = CliRunner().invoke(main, ["checkpoints", "inspect", str(path)])
    assert result.exit_code == 0
    assert "\x1b" not in result.output and "\\x1b[2Jevil.weight" in result.output
