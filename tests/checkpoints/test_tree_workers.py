"""A tree audited in worker processes gives the serial result, in the serial order.

The session tree (107 files: every layout, the hostile and corrupt files) is audited
once with workers and once without; budget, Ctrl-C and a dying worker are checked on
small trees with the serial threshold lowered so that workers are used.
"""

import multiprocessing
import os
import time

import pytest
from tree_builder import good_metrics, make_config, model_state, save, vaeaudit_checkpoint

from vaeaudit.checkpoints import safe_load, tree_audit
from vaeaudit.checkpoints.report import render_table_format
from vaeaudit.checkpoints.settings import CheckpointSettings
from vaeaudit.checkpoints.tree_audit import audit_tree

SETTINGS = CheckpointSettings()


def small_tree(root, runs: int = 6):
    config = make_config(small=True)
    for index in range(runs):
        for name in ("best.pt", "latest.pt"):
            save(vaeaudit_checkpoint(model_state(config, index), config, good_metrics(), epoch=50), root / f"run_{index}" / name)
    return root


def comparable(audit) -> tuple:
    """Everything a report shows, except the time it took."""
    return render_table_format(audit, "json"), [record.__dict__ for record in audit.files], [run.status for run in audit.runs]


def test_workers_give_the_serial_records_in_the_serial_order(tree):
    serial_progress: list[tuple] = []
    parallel_progress: list[tuple] = []
    serial = audit_tree(tree.root, SETTINGS, lambda *done: serial_progress.append(done), workers=1)
    parallel = audit_tree(tree.root, SETTINGS, lambda *done: parallel_progress.append(done), workers=2)
    assert len(serial.files) >= tree_audit.SERIAL_BELOW  # the workers were used
    assert parallel_progress == serial_progress
    assert comparable(parallel) == comparable(serial)
    assert not tree.marker.exists()
    assert not multiprocessing.active_children()


def test_a_tiny_tree_is_audited_without_workers(tmp_path, monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a worker pool was started")

    monkeypatch.setattr(tree_audit, "ProcessPoolExecutor", no_pool)
    audit = audit_tree(small_tree(tmp_path / "runs", runs=2), SETTINGS, workers=2)
    assert [record.verdict for record in audit.files] == ["loaded"] * 4


def test_the_file_time_budget_holds_in_a_worker(tmp_path, monkeypatch):
    root = small_tree(tmp_path / "runs")
    load = safe_load.load_checkpoint

    def slow_for_one_file(path, policy=safe_load.DEFAULT_POLICY):
        if path.parent.name == "run_2" and path.name == "best.pt":
            time.sleep(30)
        return load(path, policy)

    monkeypatch.setattr(tree_audit, "SERIAL_BELOW", 1)
    monkeypatch.setattr(tree_audit, "CHUNK", 2)
    monkeypatch.setattr(safe_load, "load_checkpoint", slow_for_one_file)  # forked workers inherit it
    started = time.perf_counter()
    audit = audit_tree(root, CheckpointSettings(file_time_budget=0.5), workers=2)
    assert time.perf_counter() - started < 20
    verdicts = {record.relpath: record.verdict for record in audit.files}
    assert verdicts.pop("run_2/best.pt") == "too-expensive"
    assert set(verdicts.values()) == {"loaded"}


def test_ctrl_c_stops_the_workers_and_reaches_the_caller(tmp_path, monkeypatch):
    root = small_tree(tmp_path / "runs")
    monkeypatch.setattr(tree_audit, "SERIAL_BELOW", 1)
    monkeypatch.setattr(tree_audit, "CHUNK", 2)

    def interrupt_after_three(done, total, relpath):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        audit_tree(root, SETTINGS, interrupt_after_three, workers=2)
    assert not multiprocessing.active_children()


def test_chunks_of_a_worker_that_died_are_audited_here(tmp_path, monkeypatch):
    root = small_tree(tmp_path / "runs")
    serial = audit_tree(root, SETTINGS, workers=1)
    audit_chunk = tree_audit._audit_chunk
    parent = os.getpid()

    def dies_on_run_3(jobs, settings):
        if os.getpid() != parent and any(job[2] == "run_3" for job in jobs):
            os._exit(1)
        return audit_chunk(jobs, settings)

    monkeypatch.setattr(tree_audit, "SERIAL_BELOW", 1)
    monkeypatch.setattr(tree_audit, "CHUNK", 2)
    monkeypatch.setattr(tree_audit, "_audit_chunk", dies_on_run_3)
    assert comparable(audit_tree(root, SETTINGS, workers=2)) == comparable(serial)
    assert not multiprocessing.active_children()
