"""Metric, tensor and architecture checks, each with its named reason."""

import math

import pytest
import torch
from tree_builder import good_metrics, make_config, model_state

from vaeaudit.checkpoints.architecture import check_architecture
from vaeaudit.checkpoints.metric_checks import metric_problems
from vaeaudit.checkpoints.tensors import combined_digest, tensor_digest, tensor_facts


def codes(metrics):
    return sorted(problem.code for problem in metric_problems(metrics, 2e-3))


def test_good_metrics_pass():
    assert codes(good_metrics()) == []
    assert codes(good_metrics(hierarchy_B=-0.83205)) == []  # at the ceiling is fine


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"coverage": 1.3}, "metric-out-of-range"),
        ({"dist_corr": -1.5}, "metric-out-of-range"),
        ({"richness": -0.1}, "metric-out-of-range"),
        ({"r_v0": math.nan}, "metric-non-finite"),
        ({"hierarchy_B": -0.9}, "hierarchy-collapsed"),
        ({"hierarchy_A": -0.95}, "hierarchy-collapsed"),
        ({"hierarchy_B": 0.2}, "hierarchy-inverted"),
        ({"Q": 1.5}, "q-inconsistent"),
    ],
)
def test_each_violation_is_named(change, code):
    metrics = good_metrics(hierarchy_B=change.get("hierarchy_B", -0.82))
    metrics.update({k: v for k, v in change.items() if k != "hierarchy_B"})
    assert code in codes(metrics)


def test_hierarchy_b_is_not_judged_while_encoder_b_is_untrained():
    """A phase-1 checkpoint of the ternary trainer: encoder B is still at its init."""
    untrained = good_metrics(hierarchy_B=0.2167, dist_corr=0.12)
    judged = lambda phase: sorted(p.code for p in metric_problems(untrained, 2e-3, phase))  # noqa: E731
    assert judged("coverage") == []
    assert judged("hierarchy") == judged(None) == ["hierarchy-inverted"]


def test_missing_metrics_are_not_violations():
    assert codes({"hierarchy_B": -0.5}) == []


def test_tensor_health():
    _, health = tensor_facts(
        {
            "dead.weight": torch.zeros(3, 3),
            "flat.weight": torch.full((2, 2), 0.5),
            "nan.weight": torch.tensor([[math.inf, 1.0]]),
            "bias": torch.zeros(4),  # 1-D: a zero bias is normal
            "norm.weight": torch.ones(4),
            "ok.weight": torch.randn(3, 3),
            "steps": torch.zeros(2, 2, dtype=torch.long),
            "half.weight": torch.tensor([[0.5, math.nan]], dtype=torch.float16),
            "brain.weight": torch.full((2, 2), -2.0, dtype=torch.bfloat16),
            "double.weight": torch.tensor([[1.0, 2.0]], dtype=torch.float64),
            "grad.weight": torch.zeros(2, 2, requires_grad=True),
            "empty.weight": torch.zeros(0, 3),
        }
    )
    assert (health.dead, health.constant, health.non_finite) == (
        ["dead.weight", "grad.weight"],
        ["flat.weight", "brain.weight"],
        ["nan.weight", "half.weight"],
    )


def test_digests_see_content_not_storage():
    tensor = torch.arange(12.0).reshape(3, 4)
    assert tensor_digest(tensor.t().contiguous()) == tensor_digest(tensor.t().clone())
    assert tensor_digest(tensor) != tensor_digest(tensor.reshape(4, 3))  # same bytes, other shape
    assert tensor_digest(tensor) != tensor_digest(tensor.double())
    assert tensor_digest(tensor.requires_grad_()) == tensor_digest(torch.arange(12.0).reshape(3, 4))
    named, _ = tensor_facts({"a": tensor, "b": tensor + 1})
    assert combined_digest(named, ["a"]) != combined_digest(named)


def test_architecture_matches_the_model_of_its_config():
    config = make_config()
    check = check_architecture(config, model_state(config, 0))
    assert check.matches
    assert check.trainable and all(name.startswith(("encoder_B.", "projection.")) for name in check.trainable)


def test_architecture_mismatch_lists_missing_unexpected_and_mis_shaped():
    config = make_config()
    state = model_state(make_config(model={**config["model"], "latent_dim": 6}), 0)
    state["extra.weight"] = torch.zeros(1)
    del state["decoder.logits.bias"]
    check = check_architecture(config, state)
    assert check.checked and not check.matches
    assert check.missing == ("decoder.logits.bias",)
    assert check.unexpected == ("extra.weight",)
    assert any(item.startswith("encoder_A.mu.weight (6, 8) != (4, 8)") for item in check.mis_shaped)
    assert "does not load strictly" in check.summary()


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (None, "no config stored"),
        ({"lr": 1}, "no 'model' section"),
        ({"model": {"latent_dim": 4}}, "config not understood by vaeaudit.ternary_vae.build_model"),
    ],
)
def test_foreign_configs_are_not_checked_rather_than_falsely_flagged(config, reason):
    check = check_architecture(config, {"w": torch.zeros(2, 2)})
    assert not check.checked
    assert reason in check.summary() and check.summary().startswith("architecture not checked")
