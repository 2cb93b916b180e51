"""Layouts and metric aliases across checkpoint formats; name rules; settings."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tree_builder import (
    V5_11_ERA_KEYS,
    good_metrics,
    history_checkpoint,
    homeostasis_checkpoint,
    make_config,
    model_state,
    v5_11_era_checkpoint,
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


def test_v5_11_era_spellings_are_read_and_their_keys_named():
    fields, _ = extract_fields(v5_11_era_checkpoint(STATE, METRICS, 7))
    assert fields.layout == "weights under 'model'"
    assert fields.metrics == pytest.approx(METRICS, rel=1e-6)  # numpy float32 scalars
    assert {name: source for name, source in fields.metric_sources.items() if name != "coverage"} == {
        name: f"metrics.{key}" for name, key in V5_11_ERA_KEYS.items()
    }


def test_homeostasis_layout_reads_hierarchy_r_v0_b_and_dist_corr_b():
    fields, _ = extract_fields(homeostasis_checkpoint(STATE, METRICS, 7))
    assert (fields.metric_sources["hierarchy_B"], fields.metric_sources["r_v0"], fields.metric_sources["dist_corr"]) == (
        "hierarchy",
        "r_v0_B",
        "dist_corr_B",
    )
    assert "Q" not in fields.metrics  # best_Q is the best so far, not this checkpoint's Q
    assert fields.version == "5.11"


def test_configured_aliases_replace_a_row(tmp_path):
    folder = _pyproject(tmp_path, '[tool.vaeaudit.checkpoints.metric-aliases]\nhierarchy_B = ["hier_custom"]\n')
    aliases = load_settings(folder).aliases
    fields, _ = extract_fields({"model": STATE, "hier_custom": -0.5, "hierarchy_B": -0.7}, aliases)
    assert (fields.metrics["hierarchy_B"], fields.metric_sources["hierarchy_B"]) == (-0.5, "hier_custom")
    assert aliases["Q"] == ("Q", "Q_B", "q")


def test_bare_state_dict_and_unknown_objects():
    assert extract_fields(STATE)[0].layout == "bare state dict"
    assert extract_fields(STATE)[1].keys() == STATE.keys()
    assert extract_fields([1, 2])[0].layout.startswith("unrecognised")
    assert extract_fields({"epoch": 3}) == (extract_fields({"epoch": 3})[0], {})
    assert extract_fields({"epoch": 3})[0].layout == "no weights"


def test_trainer_end_marker():
    finished = vaeaudit_checkpoint(STATE, CONFIG, METRICS, 7, finished=True)
    first_phase = vaeaudit_checkpoint(STATE, CONFIG, METRICS, 7, phase="coverage", finished=True)
    stopped = vaeaudit_checkpoint(STATE, CONFIG, METRICS, 7, finished=False)
    assert [extract_fields(c)[0].finished for c in (finished, first_phase, stopped)] == [True, False, False]
    assert extract_fields(v5_top_level_checkpoint(STATE, METRICS, 7))[0].finished is None  # no marker at all
    assert extract_fields({"model": STATE, "completed": True})[0].finished is True


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


def test_old_spellings_are_read_with_a_deprecation_message(tmp_path):
    folder = _pyproject(
        tmp_path, '[tool.vaeaudit.checkpoints]\nq_tolerance = 0.01\ncategories = [{category = "A", pattern = "a", full_match = true}]\n'
    )
    settings_ = load_settings(folder)
    assert settings_.q_tolerance == 0.01 and settings_.rules[0].full_match
    assert [message.split(": ")[-1] for message in settings_.deprecations] == [
        "'q_tolerance' is deprecated, write 'q-tolerance'",
        "'full_match' is deprecated, write 'full-match'",
    ]


def test_settings_from_pyproject(tmp_path):
    folder = _pyproject(
        tmp_path,
        '[tool.vaeaudit.checkpoints]\nroot = "runs"\nstale-after-hours = 2\nfile-time-budget = 5\nallowed-globals = ["mypkg.Config"]\n'
        'categories = [{category = "MINE", pattern = "^exp"}, {category = "PRODUCTION", pattern = "v\\\\d+", full-match = true}]\n',
    )
    settings_ = load_settings(folder)
    assert settings_.root == folder / "runs"
    assert (settings_.stale_after_hours, settings_.file_time_budget, settings_.deprecations) == (2.0, 5.0, ())
    assert settings_.policy.classify("mypkg.Config") == "allowed"
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
        ("allowed-globals = ['os.system']", "dangerous set and cannot be allowed"),
        ("allowed-globals = ['not a name']", "not a dotted name"),
        ("stale_after_hours = 1\nstale-after-hours = 2", "keep only 'stale-after-hours'"),
        ("[tool.vaeaudit.checkpoints.metric-aliases]\nhierarchy_C = ['x']", "unknown key 'hierarchy_C'"),
        ("[tool.vaeaudit.checkpoints.metric-aliases]\nQ = 'Q'", "array of non-empty strings"),
    ],
)
def test_settings_errors_name_the_key(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(_pyproject(tmp_path, f"[tool.vaeaudit.checkpoints]\n{body}\n"))
