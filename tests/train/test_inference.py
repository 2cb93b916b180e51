import pytest
import torch

from vaeaudit.ternary_vae import embed, geometry, load_model
from vaeaudit.ternary_vae.data import N_OPS, all_operations, valuations
from vaeaudit.ternary_vae.metrics import evaluate


def test_load_model_returns_the_trained_model_in_eval_mode(finished_run):
    run_dir, _ = finished_run
    model = load_model(run_dir / "best.pt")
    assert not model.training
    saved = torch.load(run_dir / "best.pt", map_location="cpu", weights_only=True)
    assert all(torch.equal(model.state_dict()[name], tensor) for name, tensor in saved["model_state_dict"].items())


def test_embed_means_match_the_stored_metrics_and_sampling_is_reproducible(finished_run):
    run_dir, _ = finished_run
    model = load_model(run_dir / "best.pt")
    points = embed(model)
    assert points.shape == (N_OPS, model.encoder_B.mu.out_features)
    assert torch.equal(points, embed(model, encoder="B", sample=False))
    assert not torch.equal(points, embed(model, encoder="A"))
    first = embed(model, sample=True, generator=torch.Generator().manual_seed(1))
    again = embed(model, sample=True, generator=torch.Generator().manual_seed(1))
    assert torch.equal(first, again) and not torch.equal(first, points)
    assert geometry.poincare_radius(points.double()).max() < geometry.poincare_radius(torch.tensor([[0.999]]).double()).item()
    some = embed(model, operations=all_operations()[:5])
    assert torch.allclose(some, points[:5], atol=1e-6)
    stored = torch.load(run_dir / "best.pt", map_location="cpu", weights_only=True)["metrics"]
    assert evaluate(model, all_operations(), valuations())["hierarchy_B"] == pytest.approx(stored["hierarchy_B"], abs=1e-9)


def test_load_model_refuses_files_that_are_not_trainer_checkpoints(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"linear.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(ValueError, match="no 'config'"):
        load_model(path)
    with pytest.raises(ValueError, match="encoder must be"):
        embed(torch.nn.Linear(1, 1), encoder="C")
