"""How a run ended, from its file names, its log and its age."""

import os
import time
from pathlib import Path

import pytest

from vaeaudit.checkpoints.fields import CheckpointFields
from vaeaudit.checkpoints.records import FileRecord
from vaeaudit.checkpoints.run_status import configured_epochs, crash_marker, run_status

CONFIG = {"coverage": {"max_epochs": 40}, "hierarchy": {"max_epochs": 60}}
DAY = 24 * 3600


def record(name: str, epoch: int | None = None, finished: bool | None = None) -> FileRecord:
    fields = CheckpointFields(epoch=epoch, config=CONFIG, finished=finished)
    return FileRecord(Path("run") / name, f"run/{name}", "run", verdict="loaded", fields=fields)


@pytest.mark.parametrize(
    ("names", "status"),
    [
        (["best.pt", "latest.pt"], "complete"),
        (["best_Q.pt"], "partial"),
        (["latest.pt", "best_Q.pt"], "partial"),
        (["latest.pt"], "partial"),
        (["epoch_3.pt", "model.pth"], "crashed"),
        ([], "empty"),
    ],
)
def test_status_from_file_names(names, status):
    assert run_status([record(name) for name in names], [], time.time(), 24.0)[0] == status


@pytest.mark.parametrize(
    ("tail", "marker"),
    [
        ("epoch 3\nTraceback (most recent call last):\n  File x\nValueError: bad\n", "Traceback (most recent call last)"),
        ("epoch 9\nKilled\n", "Killed"),
        ("RuntimeError: CUDA out of memory. Tried to allocate 2 GiB\n", "out of memory"),
        ("torch.OutOfMemoryError: boom\n", "OutOfMemoryError"),
        ("epoch 99 done\nsaved best.pt\n", None),
    ],
)
def test_crash_markers_at_the_end_of_a_log(tmp_path, tail, marker):
    log = tmp_path / "train.log"
    log.write_text("ok\n" * 5000 + tail)
    assert crash_marker(log) == marker
    if marker:
        status, reason = run_status([record("best.pt")], [log], time.time(), 24.0)
        assert status == "crashed" and "train.log" in reason


def test_an_old_traceback_followed_by_a_long_healthy_tail_is_not_a_crash(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("Traceback (most recent call last):\n" + "epoch ok\n" * 2000)
    assert crash_marker(log) is None


def test_a_run_whose_checkpoints_say_unfinished_is_interrupted_even_with_best_pt():
    now = time.time()
    marked = [record("best.pt", epoch=10, finished=False), record("latest.pt", epoch=12, finished=False)]
    status, reason = run_status(marked, [], now - 3 * DAY, 24.0, now=now)
    assert status == "interrupted" and "epoch 12" in reason and "untouched for 72 h" in reason
    assert "may still be running" in run_status(marked, [], now - 60, 24.0, now=now)[1]
    short = [record("latest.pt", epoch=12)]  # no marker: judged against the configured 100 epochs
    assert run_status(short, [], now, 24.0, now=now)[:1] == ("interrupted",)
    assert "stopped at epoch 12 of 100 configured" in run_status(short, [], now, 24.0, now=now)[1]


def test_early_stopping_and_a_full_run_are_not_interrupted():
    now = time.time()
    early = [record("best.pt", epoch=8), record("latest.pt", epoch=12, finished=True)]
    assert run_status(early, [], now, 24.0, now=now)[0] == "complete"
    done = [record("latest.pt", epoch=99)]
    assert run_status(done, [], now, 24.0, now=now)[0] == "partial"


@pytest.mark.parametrize(
    ("config", "epochs"),
    [
        ({"epochs": 30}, 30),
        ({"train": {"max_epochs": 12}}, 12),
        ({"training": {"num_epochs": 7}}, 7),
        (CONFIG, 100),
        ({"coverage": {"max_epochs": 40}}, 40),
        ({"lr": 1}, None),
        (None, None),
    ],
)
def test_configured_epochs(config, epochs):
    assert configured_epochs(config) == epochs


def test_a_fifo_named_like_a_log_is_skipped_without_blocking(tmp_path):
    log = tmp_path / "train.log"
    os.mkfifo(log)
    assert crash_marker(log) is None
