"""`vaeaudit fix` takes each file's settings from its closest configuration file, as `scan` does."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from vaeaudit.cli import main

RADIUS = """import torch

from vaeaudit.geometry import exp_map_zero


def radii(mu, curvature: float):
    z = exp_map_zero(mu, c=curvature)
    return torch.norm(z, dim=-1)
"""


def test_each_path_is_fixed_under_its_closest_config(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.vaeaudit]\n")
    for name, table in (("fixed", ""), ("ignored", 'ignore = ["HYP001"]\n')):
        (tmp_path / name).mkdir()
        (tmp_path / name / "vaeaudit.toml").write_text(table)
        (tmp_path / name / "model.py").write_text(RADIUS)
    result = CliRunner().invoke(main, ["fix", "--apply", "fixed", "ignored"])
    assert result.exit_code == 0, result.output
    assert "poincare_radius" in (tmp_path / "fixed" / "model.py").read_text()
    assert (tmp_path / "ignored" / "model.py").read_text() == RADIUS  # its own config ignores HYP001
