"""Layouts and metric aliases across checkpoint formats; name rules; settings."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tree_builder import (
    good_metrics,
    history_checkpoint,
    make_config,
    model_state,
    v5_12_suffixed_checkpoint,
    v5_top_level_checkpoint,
    vaeaudit_checkpoint,
)

from vaeaudit.checkpoints.categories import CategoryRule, classify
from vaeaudit.checkpoints.fields import extract_fields
from vaeaudit.checkpoints.settings import DEFAULT_ROOT, load_settings
from vaeaudit.config import ConfigError

CONFIG = make_config()
STATE = model_state(CONFIG, 3)
METRICS = good_metrics()


@pytest.mark.parametrize(
    ("checkpoint", "layout", "q_source"),
    [
        (vaeaudit_checkpoint(STATE, CONFIG, METRICS, 7), "weights under 'model_state_dict'", "metrics.Q"),
        (v5_top_level_checkpoint(STATE, METRICS, 7), "weights under 'model_state_dict'", "Q"),
        (v5_12_suffixed_checkpoint(STATE, CONFIG, METRICS, 7), "weights under 'model_state'", "metrics.Q_B"),
        (history_checkpoint(STATE, METRICS, 7), "weights under 'model'", "Q_history[-1]"),
    ],
)
def test_every_layout_yields_all_metrics(checkpoint, layout, q_source):
    fields, state_dict = extract_fields(checkpoint)
    assert fields.layout == layout
    assert fields.epoch == 7
    assert state_dict.keys() == STATE.keys()
    assert fields.metrics == pytest.approx(METRICS)
    assert fields.metric_sources["Q"] == q_source


def test_bare_state_dict_and_unknown_objects():
    assert extract_fields(STATE)[0].layout == "bare state dict"
    assert extract_fields(STATE)[1].keys() == STATE.keys()
    assert extract_fields([1, 2])[0].layout.startswith("unrecognised")
    assert extract_fields({"epoch": 3}) == (extract_fields({"epoch": 3})[0], {})
    assert extract_fields({"epoch": 3})[0].layout == "no weights"


def test_trainer_end_marker():
    finished = vaeaudit_checkpoint(STATE, CONFIG, METRICS, 7, finished=True)
    running = vaeaudit_checkpoint(STATE, CONFIG, METRICS, 7, phase="coverage", finished=True)
    assert extract_fields(finished)[0].finished and not extract_fields(running)[0].finished


@settings(max_examples=40)
@given(value=st.floats(allow_nan=False, allow_infinity=False, width=32), wrap=st.sampled_from(["float", "numpy", "tensor"]))
def test_metric_values_in_any_numeric_wrapper(value, wrap):
    wrapped = {"float": float, "numpy": np.float32, "tensor": torch.tensor}[wrap](value)
    fields, _ = extract_fields({"model": STATE, "metrics": {"hierarchy_B": wrapped, "coverage": "n/a", "Q": True}})
    assert math.isclose(fields.metrics["hierarchy_B"], value, rel_tol=1e-6, abs_tol=1e-30)
    assert "coverage" not in fields.metrics and "Q" not in fields.metrics


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("v5_12_4", "PRODUCTION"),
        ("v5_5", "PRODUCTION"),
        ("v5_11_annealing", "TRAINING_EXPERIMENT"),
        ("v5_11_overnight", "OTHER"),
        ("homeostatic_rich", "HOMEOSTATIC_EXPERIMENT"),
        ("sweep_latent_8", "SWEEP_TEST"),
        ("stable_lr", "SWEEP_TEST"),
        ("debug_nan", "TEST"),
        ("progressive_unfreeze", "TRAINING_EXPERIMENT"),
        ("radial_only", "LOSS_EXPERIMENT"),
        ("final_rich_lr5e5", "LOSS_EXPERIMENT"),
        ("scratch_v2", "FINAL_PUSH"),
        ("hyperbolic_structure", "OTHER"),
    ],
)
def test_default_rules(name, category):
    assert classify(name)[0] == category


def test_the_matched_rule_is_named():
    category, rule = classify("v5_11_annealing")
    assert category == "TRAINING_EXPERIMENT" and "annealing" in rule
    assert classify("zzz") == ("OTHER", "no rule matched")


def _pyproject(tmp_path, body: str):
    (tmp_path / "pyproject.toml").write_text(body)
    return tmp_path


def test_settings_defaults_without_pyproject(tmp_path):
    settings_ = load_settings(tmp_path)  # nothing above a pytest tmp folder has a pyproject.toml
    assert settings_.root == Path(DEFAULT_ROOT)


def test_settings_from_pyproject(tmp_path):
    folder = _pyproject(
        tmp_path,
        '[tool.vaeaudit.checkpoints]\nroot = "runs"\nstale_after_hours = 2\n'
        'categories = [{category = "MINE", pattern = "^exp"}, {category = "PRODUCTION", pattern = "v\\\\d+", full_match = true}]\n',
    )
    settings_ = load_settings(folder)
    assert settings_.root == folder / "runs"
    assert settings_.stale_after_hours == 2.0
    assert classify("exp_1", settings_.rules)[0] == "MINE"
    assert classify("v7", settings_.rules)[0] == "PRODUCTION"
    assert classify("v7_annealing", settings_.rules)[0] == "OTHER"
    assert settings_.rules[0] == CategoryRule("MINE", "^exp")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("rot = 'x'", "unknown key 'rot'"),
        ("stale_after_hours = -1", "must be > 0"),
        ("stale_after_hours = true", "must be a int or float"),
        ("categories = [{category = 'A', pattern = '('}]", "not a valid regex"),
        ("categories = [{category = 'A', patern = 'x'}]", "unknown key 'patern'"),
        ("categories = []", "non-empty array"),
    ],
)
def test_settings_errors_name_the_key(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(_pyproject(tmp_path, f"[tool.vaeaudit.checkpoints]\n{body}\n"))
