"""A helper's fix takes the curvature its callers prove, across the project, and only when all of them prove one.

`def radius(emb): return emb.norm(dim=-1)` cannot reach its callers' ball, but a curvature the ball's
constructor fixes (`PoincareBall(c=0.5)`) is a number, valid in the helper too. Every call in the
project counts: one that passes other values, or a file the scan does not analyse that names the
helper (its calls are unseen), leaves no curvature at all. Even when all the calls the scan saw agree,
the fix is unsafe: calls outside the given paths (a pre-commit run sees the staged files only),
through getattr, star imports or registries are unseen.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from vaeaudit.codemods.file_fixer import fix_paths
from vaeaudit.codemods.options import FixOptions
from vaeaudit.codemods.outcome import FIXED, UNSAFE
from vaeaudit.scan.settings import Settings
from vaeaudit.scan.taint import literal_curvature

HELPER = "def radius(emb):\n    return emb.norm(dim=-1)\n"
CALLER = """import geoopt

from helpers import radius


def main(mu):
    ball = geoopt.PoincareBall(c={c})
    return radius(ball.expmap0(mu))
"""


def fixed(root: Path, unsafe: bool = False, paths: list[Path] | None = None) -> list:
    settings = Settings(cache=False, project_root=root)
    reports = fix_paths(paths or [root], settings, FixOptions.from_settings(settings, unsafe_fixes=unsafe), apply=True)
    return [outcome for report in reports for outcome in report.outcomes]


def project(root: Path, **files: str) -> Path:
    for name, text in {"helpers": HELPER, "train": CALLER.format(c=0.5), **files}.items():
        (root / f"{name}.py").write_text(text)
    return root


def test_the_helper_in_another_module_takes_its_callers_curvature_as_an_unsafe_fix(tmp_path: Path) -> None:
    [outcome] = fixed(project(tmp_path))
    assert outcome.status == UNSAFE and any("calls it cannot see" in reason for reason in outcome.reasons)
    assert (tmp_path / "helpers.py").read_text() == HELPER
    [outcome] = fixed(tmp_path, unsafe=True)
    assert outcome.status == FIXED and "c=0.5" in outcome.note
    assert "return poincare_radius(emb, c=0.5)" in (tmp_path / "helpers.py").read_text()


def test_a_run_on_some_files_does_not_see_every_caller(tmp_path: Path) -> None:
    """As a pre-commit hook runs: only the staged files; `evaluate.py` passes points of another ball."""
    root = project(tmp_path, evaluate=CALLER.format(c=1.0))
    [outcome] = fixed(root, paths=[root / "helpers.py", root / "train.py"])
    assert outcome.status == UNSAFE
    assert (tmp_path / "helpers.py").read_text() == HELPER


def test_callers_of_two_curvatures_prove_none(tmp_path: Path) -> None:
    [outcome] = fixed(project(tmp_path, evaluate=CALLER.format(c=1.0)))
    assert outcome.status == UNSAFE and any("different curvatures" in reason for reason in outcome.reasons)
    assert (tmp_path / "helpers.py").read_text() == HELPER


def test_a_file_the_scan_skips_may_call_the_helper_with_anything(tmp_path: Path) -> None:
    plots = "from helpers import radius\n\nsizes = list(map(radius, [[3.0, 4.0]]))\n"  # no norm, no ball point: not analysed
    [outcome] = fixed(project(tmp_path, plots=plots))
    assert outcome.status == UNSAFE and any("did not analyse" in reason for reason in outcome.reasons)
    assert (tmp_path / "helpers.py").read_text() == HELPER


@pytest.mark.parametrize(
    ("constructor", "c"),
    [
        ("PoincareBall()", "1.0"),  # geoopt's default
        ("PoincareBall(0.5)", "0.5"),
        ("PoincareBallExact(c=2, learnable=False)", "2.0"),
        ("Stereographic(k=-0.5)", "0.5"),
        ("PoincareBall(c=0.5, learnable=True)", None),  # training moves it
        ("PoincareBall(0.5, True)", None),
        ("PoincareBall(c=curvature)", None),
        ("PoincareBall(**options)", None),
        ("Stereographic()", None),  # k = 0: flat
        ("Stereographic(k=kappa)", None),
    ],
)
def test_only_a_constructor_that_fixes_c_proves_it(constructor: str, c: str | None) -> None:
    call = cst.ensure_type(cst.parse_expression(constructor), cst.Call)
    kind = cst.ensure_type(call.func, cst.Name).value
    assert literal_curvature(call, kind) == c
