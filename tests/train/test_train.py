import json
import math

import pytest
import torch

from vaeaudit.ternary_vae import losses
from vaeaudit.ternary_vae.config import ConfigError
from vaeaudit.ternary_vae.metrics import DIAGNOSTIC_NAMES, METRIC_NAMES, METRICS_SPEC
from vaeaudit.ternary_vae.model import build_model
from vaeaudit.ternary_vae.train import CHECKPOINT_VERSION, RunFolderError, TrainingDiverged, resolve_device, train

STORED = (*METRIC_NAMES, *DIAGNOSTIC_NAMES)

CHECKPOINTS = ("best.pt", "best_Q.pt", "latest.pt")


def records(run_dir):
    """metrics.jsonl without the wall-clock field, which legitimately differs between runs."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [{key: value for key, value in json.loads(line).items() if key != "elapsed_s"} for line in lines]


def tensorboard_installed():
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def test_a_run_writes_every_file_and_moves_quality_the_right_way(finished_run):
    run_dir, result = finished_run
    expected = ("config.yaml", "metrics.jsonl", *CHECKPOINTS, *(("tensorboard",) if tensorboard_installed() else ()))
    assert sorted(path.name for path in run_dir.iterdir()) == sorted(expected)
    history = records(run_dir)
    coverage = [record for record in history if record["phase"] == "coverage"]
    hierarchy = [record for record in history if record["phase"] == "hierarchy"]
    assert coverage[-1]["coverage"] == 1.0 > coverage[0]["coverage"]
    assert len(hierarchy) == 3
    assert hierarchy[-1]["hierarchy_B"] < hierarchy[0]["hierarchy_B"] < 0
    assert hierarchy[-1]["hierarchy_B"] < -0.6 and hierarchy[-1]["richness"] > 0
    assert all(record["coverage"] == 1.0 for record in hierarchy)  # phase 2 cannot cost coverage
    # Under the original's definitions too: sampled z, float32 radii, its richness formula.
    assert hierarchy[-1]["canonical"]["hierarchy_B"] < hierarchy[0]["canonical"]["hierarchy_B"] < 0
    assert hierarchy[-1]["hierarchy_B_sampled"] < -0.6 and hierarchy[-1]["canonical"]["richness"] > 0
    # Encoder B's σ is trained: untouched (≈ 1) through phase 1, far smaller once phase 2 ran.
    assert coverage[-1]["sigma_B"] > 0.9 and hierarchy[-1]["sigma_B"] < 0.7
    assert hierarchy[-1]["at_cap"] <= 0.01
    assert result.metrics == {name: history[-1][name] for name in STORED}
    assert result.canonical == history[-1]["canonical"]
    assert result.epochs == {"coverage": len(coverage), "hierarchy": 3}
    last_line = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    assert result.seconds["coverage"] + result.seconds["hierarchy"] == pytest.approx(last_line["elapsed_s"])


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_checkpoints_load_weights_only_with_the_documented_layout(finished_run, name):
    run_dir, _ = finished_run
    checkpoint = torch.load(run_dir / name, map_location="cpu", weights_only=True)
    assert checkpoint["version"] == CHECKPOINT_VERSION
    assert isinstance(checkpoint["epoch"], int) and checkpoint["phase"] in ("coverage", "hierarchy")
    assert set(checkpoint["metrics"]) == set(STORED)
    assert set(checkpoint["metrics_canonical"]) == set(METRIC_NAMES)
    assert all(type(value) is float for value in (*checkpoint["metrics"].values(), *checkpoint["metrics_canonical"].values()))
    assert checkpoint["metrics_spec"] == METRICS_SPEC
    assert checkpoint["seed"] == checkpoint["config"]["seed"] and checkpoint["device"] == "cpu"
    assert "state" in checkpoint["optimizer_state_dict"]
    with torch.device("meta"):
        skeleton = build_model(checkpoint["config"])
    assert list(skeleton.state_dict()) == list(checkpoint["model_state_dict"])
    build_model(checkpoint["config"]).load_state_dict(checkpoint["model_state_dict"], strict=True)


def test_best_checkpoint_holds_the_lowest_hierarchy_at_full_coverage(finished_run):
    run_dir, result = finished_run
    full = [record for record in records(run_dir) if record["coverage"] == 1.0]
    best = torch.load(run_dir / "best.pt", weights_only=True)["metrics"]
    assert best["hierarchy_B"] == min(record["hierarchy_B"] for record in full)
    assert result.best == best
    best_q = torch.load(run_dir / "best_Q.pt", weights_only=True)["metrics"]
    assert best_q["Q"] == max(record["Q"] for record in full)


def test_same_seed_and_resume_after_interruptions_reproduce_an_uninterrupted_run(finished_run, short_config, tmp_path):
    reference_dir, _ = finished_run
    phase_1_epochs = sum(record["phase"] == "coverage" for record in records(reference_dir))
    stops = {2, phase_1_epochs, phase_1_epochs + 2}  # inside phase 1, at the switch, inside phase 2

    def interrupt(record, config):
        if record["epoch"] in stops:
            stops.discard(record["epoch"])
            raise KeyboardInterrupt

    run_dir = tmp_path / "interrupted"
    assert train(short_config, run_dir, on_epoch=interrupt).interrupted
    while (result := train(None, run_dir, resume=True, on_epoch=interrupt)).interrupted:
        pass
    assert not stops
    assert records(run_dir) == records(reference_dir)
    assert result.metrics == {name: records(reference_dir)[-1][name] for name in STORED}
    assert result.best == torch.load(reference_dir / "best.pt", weights_only=True)["metrics"]


def test_an_existing_run_is_not_overwritten_and_a_missing_one_not_resumed(finished_run, short_config, tmp_path):
    run_dir, _ = finished_run
    with pytest.raises(RunFolderError, match="already exists"):
        train(short_config, run_dir)
    with pytest.raises(RunFolderError, match="no latest.pt"):
        train(short_config, tmp_path / "missing", resume=True)
    with pytest.raises(RunFolderError, match="nothing to resume"):
        train(None, run_dir, resume=True)


def test_a_nan_loss_stops_with_the_epoch_terms_and_last_checkpoint(short_config, tmp_path, monkeypatch):
    calls = {"count": 0}
    real = losses.reconstruction_loss

    def poisoned(logits, trits):
        calls["count"] += 1
        value = real(logits, trits)
        return value * math.nan if calls["count"] > 60 else value  # 39 batches per epoch

    monkeypatch.setattr(losses, "reconstruction_loss", poisoned)
    with pytest.raises(TrainingDiverged) as error:
        train(short_config, tmp_path / "nan")
    message = str(error.value)
    assert "epoch 2 (coverage phase)" in message
    assert "reconstruction=nan" in message and "kl=" in message
    assert str(tmp_path / "nan" / "latest.pt") in message
    assert torch.load(tmp_path / "nan" / "latest.pt", weights_only=True)["epoch"] == 1


def test_a_write_that_dies_midway_leaves_the_previous_latest_checkpoint_intact(short_config, tmp_path, monkeypatch):
    """The trainer's checkpoint writes go through a temporary file: half a latest.pt never
    replaces the last good one, and no temporary file is left behind."""
    real_save, latest_saves = torch.save, []

    def dies_on_second_latest(obj, handle):
        if ".latest.pt." in str(getattr(handle, "name", "")):
            latest_saves.append(obj["epoch"])
            if len(latest_saves) == 2:
                handle.write(b"PK\x03\x04 half a checkpoint")
                raise OSError(28, "No space left on device")
        real_save(obj, handle)

    monkeypatch.setattr(torch, "save", dies_on_second_latest)
    run_dir = tmp_path / "full_disk"
    with pytest.raises(OSError, match="No space left"):
        train(short_config, run_dir)
    assert latest_saves == [1, 2]
    assert torch.load(run_dir / "latest.pt", map_location="cpu", weights_only=True)["epoch"] == 1
    assert sorted(path.name for path in run_dir.iterdir()) == ["config.yaml", "latest.pt", "metrics.jsonl"]


@pytest.mark.parametrize("stop", ["ctrl-c", "nan loss"])
def test_a_new_run_ending_before_its_first_checkpoint_leaves_no_folder(short_config, tmp_path, monkeypatch, stop):
    """Otherwise the name could neither start again (folder not empty) nor resume (no latest.pt)."""
    real = losses.reconstruction_loss

    def fails_at_once(logits, trits):
        if stop == "ctrl-c":
            raise KeyboardInterrupt
        return real(logits, trits) * math.nan

    run_dir = tmp_path / "early"
    with monkeypatch.context() as patch:
        patch.setattr(losses, "reconstruction_loss", fails_at_once)
        if stop == "ctrl-c":
            assert train(short_config, run_dir).interrupted
        else:
            with pytest.raises(TrainingDiverged, match="none yet"):
                train(short_config, run_dir)
    assert not run_dir.exists()
    keep = tmp_path / "has_notes"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="not empty"):
        train(short_config, keep)  # a folder with someone else's files is never touched
    assert (keep / "notes.txt").read_text() == "mine"


def test_phase_2_trains_encoder_B_and_its_variance_and_leaves_A_and_the_decoder_alone(short_config, tmp_path):
    config = {**short_config, "coverage": {**short_config["coverage"], "max_epochs": 2}}
    config["hierarchy"] = {**short_config["hierarchy"], "max_epochs": 1}

    def stop_after_phase_1(record, config):
        if record["phase"] == "coverage" and record["phase_epoch"] == 2:
            raise KeyboardInterrupt

    run_dir = tmp_path / "phases"
    assert train(config, run_dir, on_epoch=stop_after_phase_1).interrupted
    before = torch.load(run_dir / "latest.pt", weights_only=True)["model_state_dict"]
    train(None, run_dir, resume=True)
    after = torch.load(run_dir / "latest.pt", weights_only=True)["model_state_dict"]
    assert before["encoder_B.logvar.weight"].shape == after["encoder_B.logvar.weight"].shape
    assert not torch.equal(before["encoder_B.logvar.weight"], after["encoder_B.logvar.weight"])
    assert not torch.equal(before["encoder_B.mu.weight"], after["encoder_B.mu.weight"])
    frozen = [name for name in after if name.startswith(("encoder_A.", "decoder."))]
    assert frozen and all(torch.equal(before[name], after[name]) for name in frozen)


def test_device_choice_is_checked_and_recorded(short_config, tmp_path, monkeypatch):
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match="float64"):
        resolve_device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ConfigError, match="cuda was asked for"):
        train({**short_config, "device": "cuda"}, tmp_path / "gpu")
    assert not (tmp_path / "gpu").exists()  # nothing left behind: the name can start again


def two_epochs(config):
    """One epoch per phase: enough for everything that is logged once per epoch."""
    return {**config, "coverage": {**config["coverage"], "max_epochs": 1}, "hierarchy": {**config["hierarchy"], "max_epochs": 1}}


class RecordingWriter:
    """Stands in for torch.utils.tensorboard.SummaryWriter (an optional package)."""

    def __init__(self):
        self.scalars, self.texts, self.hparams, self.closed = {}, [], [], False

    def add_scalar(self, tag, value, step):
        self.scalars.setdefault(tag, []).append((step, value))

    def add_text(self, tag, text, step):
        self.texts.append((tag, step, text))

    def add_hparams(self, hparams, metrics, run_name):
        self.hparams.append((hparams, metrics))

    def close(self):
        self.closed = True


def test_tensorboard_gets_scalars_per_epoch_the_level_table_and_hparams(short_config, tmp_path, monkeypatch):
    import vaeaudit.ternary_vae.train as trainer

    writer = RecordingWriter()
    opened = []
    monkeypatch.setattr(trainer, "_tensorboard_writer", lambda run_dir, first_step: opened.append(first_step) or writer)
    config = two_epochs(short_config)
    train(config, tmp_path / "tb")
    epochs = len(records(tmp_path / "tb"))
    assert opened == [1] and writer.closed
    assert [step for step, _ in writer.scalars["metrics/hierarchy_B"]] == list(range(1, epochs + 1))
    assert {"canonical/richness", "loss/reconstruction", "loss/geodesic", "loss/kl", "schedule/lr"} <= set(writer.scalars)
    tag, step, table = writer.texts[-1]
    assert tag == "radius_per_level" and step == epochs and table.count("\n") == 11  # header, rule, 10 levels
    hparams, final = writer.hparams[0]
    assert hparams["hierarchy.band_width"] == config["hierarchy"]["band_width"] and "final_canonical/richness" in final


def test_without_the_tensorboard_package_nothing_is_logged_or_required(short_config, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("torch.utils.tensorboard"):
            raise ImportError("No module named 'tensorboard'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    train(two_epochs(short_config), tmp_path / "plain")
    assert not (tmp_path / "plain" / "tensorboard").exists()
