"""Project-wide inference through the CLI's pipeline: evidence chains across files, the cache and re-solving."""

from __future__ import annotations

import shutil
from pathlib import Path

from vaeaudit.scan.runner import scan_files
from vaeaudit.scan.settings import Settings

PROJECT = Path(__file__).parent / "fixtures" / "project_cross_file"


def copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    return root


def scan(root: Path, **settings):
    files = sorted(root.rglob("*.py"))
    return scan_files(files, Settings(project_root=root, cache_dir=".cache", **settings), jobs=1)


def test_a_finding_shows_its_chain_across_files_newest_step_first(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    (finding,) = [f for f in scan(root, cache=False).findings if f.path.endswith("losses.py")]
    assert finding.line == 7 and finding.confidence == "high"
    assert finding.evidence[0].startswith("embeddings <- argument of radial_loss(z) (")
    assert "train.py:12)" in finding.evidence[0]
    assert finding.evidence[-1].startswith("encode() returns exp_map_zero(h) (") and "encoder.py:7)" in finding.evidence[-1]
    assert all("\n" not in step for step in finding.evidence) and "\n" not in finding.message


def test_warm_scan_parses_nothing_and_one_changed_file_re_solves_its_dependents(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    cold = scan(root)
    warm = scan(root)
    assert warm.parsed == 0 and warm.cached == len(warm.results)
    assert sorted((f.path, f.line) for f in warm.findings) == sorted((f.path, f.line) for f in cold.findings)
    encoder = root / "models" / "encoder.py"
    encoder.write_text(encoder.read_text().replace("return exp_map_zero(h)\n", "return h\n", 1), encoding="utf-8")
    changed = scan(root)
    lost = {(Path(f.path).name, f.line) for f in cold.findings} - {(Path(f.path).name, f.line) for f in changed.findings}
    assert lost == {("losses.py", 7), ("train.py", 11), ("probe.py", 7)}  # `encode` no longer returns ball points
    assert changed.parsed < len(changed.results)  # files that do not depend on encode() come from the cache


def test_a_single_file_scan_knows_nothing_of_other_files() -> None:
    from vaeaudit.scan import scan_source

    losses = PROJECT / "losses.py"
    assert scan_source(losses.read_bytes(), str(losses), Settings(project_root=PROJECT)) == []


def test_a_ball_point_names_the_manifold_object_it_lies_on_across_files(tmp_path: Path) -> None:
    """`code_emb.emb` of a class that built it with `manifold=self.manifold`: the fix hint names
    `code_emb.manifold`, spelled where the distance is taken, with where the ball was built; warm (cached
    summaries) as cold."""
    root = tmp_path / "project"
    shutil.copytree(Path(__file__).parent / "fixtures" / "project_instances", root)
    for run in (scan(root), scan(root)):
        hints = {(Path(f.path).name, f.line): f.fix for f in run.findings}
        assert hints[("train.py", 11)].manifold == "code_emb.manifold"  # a parameter's attribute, through a caller
        assert hints[("train.py", 32)].manifold == "hyperbolic.manifold"  # a local instance
        for hint in (hints[("train.py", 11)], hints[("train.py", 32)]):
            assert hint.manifold_kind == "PoincareBall" and hint.manifold_origin.endswith("embeddings.py:11")


def test_a_ball_table_is_low_when_a_caller_may_pass_another_distance() -> None:
    """`dist=PoincareDistance` as a default: a caller may choose the Euclidean class (low); a method of the
    class spelling out the Poincaré distance holds whatever the caller does (medium)."""
    root = Path(__file__).parent / "fixtures" / "project_ball_tables"
    findings = {(Path(f.path).name, f.line): f for f in scan(root, cache=False).findings}
    assert findings[("model.py", 40)].confidence == "low"
    assert findings[("model.py", 64)].confidence == "medium"
    assert "defaults to `PoincareDistance`" in " ".join(findings[("evaluate.py", 20)].evidence)
    assert "between ball points `lt[i, :]` and `lt[j, :]`" in findings[("evaluate.py", 15)].message  # two rows, not all pairs


def test_a_file_on_disk_proven_to_hold_ball_points_carries_them_to_the_scripts_that_load_it(tmp_path: Path) -> None:
    """`ui/search.py` passes rows of `models/case_embeddings.pkl` to poincare_distance; `scripts/radii.py` (which the
    prefilter defers: no word of it says hyperbolic) loads the same file by another relative path and takes radii."""
    root = tmp_path / "project"
    shutil.copytree(Path(__file__).parent / "fixtures" / "project_saved_artifacts", root)
    radii = root / "scripts" / "radii.py"
    expected = [number for number, line in enumerate(radii.read_text(encoding="utf-8").splitlines(), 1) if "# expect: HYP001" in line]
    for cache in (False, True, True):  # cold, then a warm run from the cached summaries
        findings = scan(root, cache=cache).findings
        assert sorted((Path(f.path).name, f.line, f.rule, f.confidence) for f in findings) == [
            ("radii.py", line, "HYP001", "medium") for line in expected
        ]
    assert any("models/case_embeddings.pkl holds ball points" in step for step in findings[0].evidence)
    assert any("search.py:" in step for step in findings[0].evidence)


def test_a_star_import_of_a_project_module_binds_its_public_names(tmp_path: Path) -> None:
    """`from hyplib.layers import *` (and `from hyplib import *` through the package's own star import) reach
    the module's functions and classes; names that start with `_` and names this file defines again do not."""
    root = tmp_path / "project"
    shutil.copytree(Path(__file__).parent / "fixtures" / "project_star_imports", root)
    expected = sorted(
        (path.name, number)
        for path in (root / "model.py", root / "train.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "# expect: HYP001" in line
    )
    for cache in (False, True, True):  # cold, then a warm run from the cached summaries
        findings = scan(root, cache=cache).findings
        assert sorted((Path(f.path).name, f.line) for f in findings if f.rule == "HYP001") == expected
    (spread,) = [f for f in findings if f.path.endswith("train.py")]
    assert any("to_ball" in step for step in spread.evidence)


def test_a_package_that_only_star_imports_still_reaches_an_inherited_method_cold(tmp_path: Path) -> None:
    """`pkg/__init__.py` holds nothing but `from .layers import *`: deferred, then analysed with no functions of its
    own. The function index must see it analysed from then on (an unanalysed owner hides the class's methods), or a
    cold scan misses what a warm one finds (found by review: the index was reused for `None` as for `{}`)."""
    files = {
        "base.py": "import geoopt\n\n\nclass Base:\n    def __init__(self):\n        self.ball = geoopt.PoincareBall()\n\n"
        "    def radius_of(self, z):\n        return z.norm(dim=-1)\n",
        "pkg/__init__.py": "from .layers import *\n",
        "pkg/layers.py": "from base import Base\n\n\nclass Sub(Base):\n    pass\n",
        "train.py": "from geoopt import PoincareBall\nfrom pkg import Sub\n\n\ndef run(h):\n    z = PoincareBall().expmap0(h)\n"
        "    m = Sub()\n    return m.radius_of(z)\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    findings = scan(tmp_path, cache=False).findings
    assert [(Path(f.path).name, f.line, f.rule) for f in findings] == [("base.py", 9, "HYP001")]


def test_a_star_import_binds_only_what_all_lists(tmp_path: Path) -> None:
    """`from M import *` of a module with `__all__ = ["to_ball"]` leaves the earlier `from torch import norm` bound:
    M's own public `norm` is not exported (found by review: binding every public name lost this finding)."""
    (tmp_path / "M.py").write_text(
        'from geoopt import PoincareBall\n\n__all__ = ["to_ball"]\n\n\ndef to_ball(h):\n    return PoincareBall().expmap0(h)\n\n\n'
        "def norm(x, dim=-1):\n    return PoincareBall().dist0(x)\n",
        encoding="utf-8",
    )
    (tmp_path / "B.py").write_text(
        "from torch import norm\nfrom M import *\n\n\ndef radius(h):\n    z = to_ball(h)\n    return norm(z, dim=-1)\n", encoding="utf-8"
    )
    findings = scan(tmp_path, cache=False).findings
    assert [(Path(f.path).name, f.line, f.rule) for f in findings] == [("B.py", 7, "HYP001")]


def test_an_all_that_the_module_extends_or_that_lists_a_private_name_still_binds_it(tmp_path: Path) -> None:
    """`__all__.append("embed")`: the literal is not all `import *` binds, so every public name is (as before
    `__all__` was read); a `_embed` that `__all__` lists is bound although private (found by review)."""
    (tmp_path / "geo.py").write_text(
        'from geoopt import PoincareBall\n\n__all__ = ["helper", "_embed"]\n__all__.append("embed")\n\n\n'
        "def helper(x):\n    return x\n\n\ndef embed(v):\n    return PoincareBall().expmap0(v)\n\n\n"
        "def _embed(v):\n    return PoincareBall().expmap0(v)\n",
        encoding="utf-8",
    )
    (tmp_path / "main.py").write_text(
        "from geo import *\n\n\ndef radii(v):\n    return embed(v).norm(dim=-1), _embed(v).norm(dim=-1)\n", encoding="utf-8"
    )
    (tmp_path / "other.py").write_text(
        'from geoopt import PoincareBall\n\n__all__ = ["_embed"]\n\n\ndef _embed(v):\n    return PoincareBall().expmap0(v)\n',
        encoding="utf-8",
    )
    (tmp_path / "private.py").write_text("from other import *\n\n\ndef radius(v):\n    return _embed(v).norm(dim=-1)\n", encoding="utf-8")
    findings = scan(tmp_path, cache=False).findings
    assert sorted((Path(f.path).name, f.line) for f in findings) == [("main.py", 5), ("private.py", 5)]
