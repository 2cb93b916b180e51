"""Fixes call the geometry the project already has, adapted to its signature, and run correctly."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import torch

from vaeaudit.codemods.file_fixer import fix_paths
from vaeaudit.codemods.options import FixOptions
from vaeaudit.codemods.outcome import FIXED, REFUSED
from vaeaudit.codemods.project_geometry import read_signature
from vaeaudit.scan.settings import load_settings

GEOMETRY = """import torch


def exp_map_zero(v, c=1.0):
    n = v.norm(dim=-1, keepdim=True).clamp_min(1e-15)
    return torch.tanh(c ** 0.5 * n) * v / (c ** 0.5 * n)


def poincare_radius(x, c=1.0):
    return 2 / c ** 0.5 * torch.atanh(c ** 0.5 * torch.linalg.vector_norm(x, dim=-1))


def poincare_distance(x, y, curvature=1.0):
    sq = ((x - y) ** 2).sum(-1)
    gap = (1 - curvature * (x ** 2).sum(-1)) * (1 - curvature * (y ** 2).sum(-1))
    return 2 / curvature ** 0.5 * torch.asinh((curvature * sq / gap) ** 0.5)
"""
USER = """import torch

from lab.geometry import exp_map_zero, poincare_distance


def radii(mu, curvature):
    z = exp_map_zero(mu, c=curvature)
    return torch.norm(z, dim=-1, keepdim=True)


def gaps(mu_a, mu_b, curvature):
    za = exp_map_zero(mu_a, c=curvature)
    zb = exp_map_zero(mu_b, c=curvature)
    return torch.norm(za - zb, dim=-1)
"""


def fix(root: Path) -> list:
    settings = load_settings(root, cache=False)
    reports = list(fix_paths([root], settings, FixOptions.from_settings(settings, unsafe_fixes=False), apply=True))
    assert [report.error for report in reports if report.error] == []
    return [outcome for report in reports for outcome in report.outcomes]


def test_the_projects_functions_are_used_with_their_own_signature(tmp_path: Path) -> None:
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "__init__.py").write_text("")
    (tmp_path / "lab" / "geometry.py").write_text(GEOMETRY)
    (tmp_path / "train.py").write_text(USER)
    outcomes = fix(tmp_path)
    assert [outcome.status for outcome in outcomes] == [FIXED, FIXED]
    assert "the project's lab.geometry" in outcomes[0].note
    text = (tmp_path / "train.py").read_text()
    assert "from lab.geometry import exp_map_zero, poincare_distance, poincare_radius\n" in text
    assert "return poincare_radius(z, c=curvature).unsqueeze(-1)\n" in text  # no keepdim parameter
    assert "return poincare_distance(za, zb, curvature=curvature)\n" in text  # its curvature keyword
    assert "vaeaudit" not in text
    sys.path.insert(0, str(tmp_path))
    try:
        fixed = runpy.run_path(str(tmp_path / "train.py"))
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == "lab" or name.startswith("lab.")]:
            del sys.modules[name]
    mu = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 0.5
    torch.testing.assert_close(fixed["radii"](mu, 0.8), 2 * mu.norm(dim=-1, keepdim=True))  # dist0(expmap0(v)) = 2‖v‖
    assert fixed["gaps"](mu, mu, 0.8).abs().max() < 1e-6


def test_an_imported_function_whose_signature_does_not_fit_is_not_shadowed(tmp_path: Path) -> None:
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "geometry.py").write_text(GEOMETRY.replace("def poincare_radius(x, c=1.0)", "def poincare_radius(x, k)"))
    source = USER.replace("exp_map_zero, poincare_distance", "exp_map_zero, poincare_radius")
    (tmp_path / "train.py").write_text(source)
    outcomes = fix(tmp_path)
    assert outcomes[0].status == REFUSED and "already bound" in outcomes[0].reasons[0]


def test_read_signature() -> None:
    assert read_signature("def d(x, y, *, c=1.0, keepdim=False): ...", "m", "d", 2).keepdim
    assert read_signature("def d(x, y, curvature): ...", "m", "d", 2).curvature == "curvature"
    assert read_signature("def d(x, y, k): ...", "m", "d", 2) is None  # k = -c: not a curvature keyword
    assert read_signature("def d(x, y, c, eps): ...", "m", "d", 2) is None  # an extra required parameter
    assert read_signature("def d(c, x): ...", "m", "d", 2) is None  # curvature where a point goes


def test_this_tools_own_geometry_file_is_not_a_project_module() -> None:
    """In a checkout of this tool, ternary_vae/geometry.py is imported as vaeaudit.geometry: a fix there
    must not write `from ternary_vae.geometry import ...` (no such module once installed)."""
    from vaeaudit.codemods.project_geometry import ProjectGeometry

    repository = Path(__file__).resolve().parents[2]
    assert (repository / "ternary_vae" / "geometry.py").is_file()
    geometry = ProjectGeometry(repository)
    assert geometry.defined("poincare_radius", 1) is None
    assert geometry.source("vaeaudit.geometry") is not None  # still read as this tool's geometry
