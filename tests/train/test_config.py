import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeaudit.ternary_vae.config import RULES, ConfigError, default_config, parse_override, resolve_config, validate


def flatten(config, prefix=""):
    for key, value in config.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def test_every_default_has_a_rule_and_every_rule_a_default():
    assert set(flatten(default_config())) == set(RULES)


def test_defaults_validate_unchanged():
    assert validate(default_config()) == default_config()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("hierarchy.lrr=0.1", "unknown config key 'hierarchy.lrr'; allowed keys in 'hierarchy': max_epochs"),
        ("nope=1", "unknown config key 'nope'"),
        ("hierarchy.lr=-1", r"'hierarchy.lr': expected a number in \(0, 1\], got -1"),
        ("hierarchy.lr=fast", "'hierarchy.lr': expected a number"),
        ("coverage.max_epochs=2.5", r"'coverage.max_epochs': expected an integer in \[1, "),
        ("model.activation=tanh", "expected one of relu, silu, gelu"),
        ("model.layer_norm=1", "expected true or false"),
        ("model.encoder_hidden=[]", "non-empty list of integers"),
        ("model.max_radius=1.5", "model.max_radius"),
        ("model.logvar_min=5", "logvar_min must be below logvar_max"),
        ("hierarchy.band_width=1.0", "9 bands need radius"),
        ("model=3", "'model': expected a mapping"),
    ],
)
def test_bad_values_are_rejected_with_the_key_and_the_allowed_values(override, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config(overrides=(override,))


def test_overrides_apply_after_the_file_and_accept_yaml_quirks(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("hierarchy:\n  lr: 3e-3\n  max_epochs: 7\nseed: 5\n")
    config = resolve_config(path, ("hierarchy.max_epochs=9", "model.encoder_hidden=[8, 4]"))
    assert config["hierarchy"]["lr"] == 0.003  # PyYAML reads 3e-3 as a string
    assert config["hierarchy"]["max_epochs"] == 9 and config["seed"] == 5
    assert config["model"]["encoder_hidden"] == [8, 4]
    assert isinstance(config["coverage"]["beta"], float)


@pytest.mark.parametrize(("text", "message"), [("[1, 2", "not valid YAML"), ("- 1\n- 2\n", "expected a mapping")])
def test_bad_config_files_are_named(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"config file {path}: {message}"):
        resolve_config(path)


def test_override_needs_key_and_value():
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_override("hierarchy.lr")
    assert parse_override("a.b=[1, 2]") == {"a": {"b": [1, 2]}}


FLOAT_KEYS = sorted(key for key, rule in RULES.items() if rule.kind == "float")


@settings(max_examples=40)
@given(st.sampled_from(FLOAT_KEYS), st.floats(allow_nan=False, allow_infinity=False), st.booleans())
def test_a_number_outside_its_range_is_rejected_and_named(key, value, as_int):
    rule = RULES[key]
    if as_int and abs(value) < 1e15:
        value = int(value)
    outside = value > rule.high or value < rule.low or (rule.low_open and value == rule.low)
    override = f"{key}={value!r}"
    try:
        resolve_config(overrides=(override,))
    except ConfigError as error:
        assert key in str(error)
    else:
        assert not outside
