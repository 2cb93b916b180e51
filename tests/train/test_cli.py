import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from vaeaudit.cli import main

VAEAUDIT = Path(sys.executable).with_name("vaeaudit")
ONE_EPOCH_EACH = ("--set", "coverage.max_epochs=1", "--set", "hierarchy.max_epochs=1")


@pytest.fixture
def short_args(short_overrides):
    """Build `vaeaudit train` arguments for a short run in a given save dir."""

    def build(save_dir, *extra):
        sets = [argument for override in short_overrides for argument in ("--set", override)]
        return ["train", "--save-dir", str(save_dir), *sets, *extra]

    return build


def test_quiet_run_prints_nothing_and_writes_the_run(tmp_path, short_args):
    result = CliRunner().invoke(main, short_args(tmp_path, "--run-name", "quiet", "--quiet", *ONE_EPOCH_EACH))
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert (tmp_path / "quiet" / "latest.pt").is_file() and (tmp_path / "quiet" / "config.yaml").is_file()
    again = CliRunner().invoke(main, short_args(tmp_path, "--run-name", "quiet"))
    assert again.exit_code == 2 and "already exists" in again.output


def test_progress_goes_to_stderr_and_the_summary_table_to_stdout(tmp_path, monkeypatch, short_args):
    monkeypatch.setattr("vaeaudit.commands.train.StatusLine.close", lambda self: None)
    calls = []
    monkeypatch.setattr("vaeaudit.commands.train.StatusLine.__call__", lambda self, record, config: calls.append(record["phase"]))
    result = CliRunner().invoke(main, short_args(tmp_path, "--run-name", "loud", *ONE_EPOCH_EACH))
    assert result.exit_code == 0, result.output
    assert calls == ["coverage", "hierarchy"]
    assert "| hierarchy_B" in result.stdout and "time to quality" in result.stdout
    assert "original's definitions" in result.stdout and "| sigma_B" in result.stdout
    assert "no best.pt was written" in result.stderr  # one coverage epoch cannot decode every op


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--set", "hierarchy.lr=-1"], "'hierarchy.lr': expected a number in (0, 1], got -1"),
        (["--set", "hierarchy.speed=1"], "unknown config key 'hierarchy.speed'"),
        (["--set", "lr"], "expected key=value"),
        (["--resume"], "--resume needs --run-name"),
        (["--resume", "--run-name", "x", "--set", "seed=1"], "drop --config, --set and --device"),
        (["--device", "tpu"], "'--device': 'tpu' is not one of"),
        (["--resume", "--run-name", "x"], "has no latest.pt"),
        (["--run-name", "../escape"], "plain folder name"),
    ],
)
def test_usage_and_config_errors_exit_2_before_training(tmp_path, arguments, message):
    result = CliRunner().invoke(main, ["train", "--save-dir", str(tmp_path), *arguments])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "escape").exists() and not any(tmp_path.glob("*/latest.pt"))


def test_unreadable_latest_checkpoint_or_save_dir_is_a_clear_error(tmp_path):
    import torch

    (tmp_path / "broken").mkdir()
    latest = tmp_path / "broken" / "latest.pt"
    resume = ["train", "--save-dir", str(tmp_path), "--run-name", "broken", "--resume"]
    for junk in (b"not a checkpoint", b"junk\n"):  # torch raises UnpicklingError for one, KeyError for the other
        latest.write_bytes(junk)
        result = CliRunner().invoke(main, resume)
        assert result.exit_code == 2 and "not a readable checkpoint" in result.output, result.output
    torch.save({"version": "1", "epoch": 3}, latest)
    result = CliRunner().invoke(main, resume)
    assert result.exit_code == 2 and "checkpoint version '1', this trainer writes '2'" in result.output, result.output
    torch.save({"version": "2", "epoch": 3}, latest)
    result = CliRunner().invoke(main, resume)
    assert result.exit_code == 2 and "lacks best, config, model_state_dict" in result.output, result.output
    (tmp_path / "file").write_text("")
    result = CliRunner().invoke(main, ["train", "--save-dir", str(tmp_path / "file" / "sub"), "--run-name", "x"])
    assert result.exit_code == 2 and "cannot create run folder" in result.output


def test_device_option_is_recorded_and_an_unavailable_one_is_a_usage_error(tmp_path, short_args, monkeypatch):
    result = CliRunner().invoke(main, short_args(tmp_path, "--run-name", "on_cpu", "-q", "--device", "cpu", *ONE_EPOCH_EACH))
    assert result.exit_code == 0, result.output
    checkpoint = torch.load(tmp_path / "on_cpu" / "latest.pt", map_location="cpu", weights_only=True)
    assert checkpoint["device"] == "cpu" and checkpoint["config"]["device"] == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = CliRunner().invoke(main, short_args(tmp_path, "--run-name", "on_gpu", "--device", "cuda", *ONE_EPOCH_EACH))
    assert result.exit_code == 2 and "cuda was asked for" in result.output
    assert not (tmp_path / "on_gpu").exists()


def test_config_file_is_read_and_checked(tmp_path):
    config_file = tmp_path / "bad.yaml"
    config_file.write_text("model:\n  activation: tanh\n")
    result = CliRunner().invoke(main, ["train", "--save-dir", str(tmp_path), "--config", str(config_file)])
    assert result.exit_code == 2 and "'model.activation': expected one of relu, silu, gelu" in result.output


def test_ctrl_c_saves_latest_and_resume_finishes_the_run(tmp_path, monkeypatch, short_args):
    def interrupt(self, record, config):
        if record["epoch"] == 2:
            raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("vaeaudit.commands.train.StatusLine.__call__", interrupt)
        stopped = CliRunner().invoke(
            main, short_args(tmp_path, "--run-name", "stop", "--set", "coverage.max_epochs=2", "--set", "hierarchy.max_epochs=1")
        )
    assert stopped.exit_code == 130
    assert "Interrupted" in stopped.output and "--resume" in stopped.output
    assert torch.load(tmp_path / "stop" / "latest.pt", weights_only=True)["epoch"] == 2
    resumed = CliRunner().invoke(main, ["train", "--save-dir", str(tmp_path), "--run-name", "stop", "--resume", "-q"])
    assert resumed.exit_code == 0, resumed.output
    assert torch.load(tmp_path / "stop" / "latest.pt", weights_only=True)["phase"] == "hierarchy"


def test_installed_entry_point_reports_bad_config_without_a_traceback(tmp_path):
    completed = subprocess.run(
        [str(VAEAUDIT), "train", "--save-dir", str(tmp_path), "--set", "model.dropout=2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert "'model.dropout': expected a number in [0, 0.9], got 2" in completed.stderr
    assert "Traceback" not in completed.stderr
    help_text = subprocess.run([str(VAEAUDIT), "train", "--help"], capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and "--resume" in help_text.stdout


def test_a_real_sigint_saves_latest_and_exits_130(tmp_path, short_overrides):
    sets = [argument for override in short_overrides for argument in ("--set", override)]
    long_run = ["--set", "hierarchy.max_epochs=1000"]
    process = subprocess.Popen(
        [str(VAEAUDIT), "train", "--save-dir", str(tmp_path), "--run-name", "sig", "-q", *sets, *long_run],
        stderr=subprocess.PIPE,
        text=True,
    )
    log = tmp_path / "sig" / "metrics.jsonl"
    try:
        deadline = time.monotonic() + 120
        while not (log.exists() and len(log.read_text().splitlines()) >= 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "Interrupted" in stderr and "Traceback" not in stderr
    assert torch.load(tmp_path / "sig" / "latest.pt", weights_only=True)["epoch"] >= 2
