"""The public API the codemod builds on: spans, FixHints, settings, discovery, suppression."""

from __future__ import annotations

import os
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from vaeaudit.config import ConfigError
from vaeaudit.scan import scan_module, scan_source
from vaeaudit.scan.discovery import iter_python_files
from vaeaudit.scan.prefilter import Prefilter
from vaeaudit.scan.settings import Settings, load_settings

HEADER = "import torch\nimport torch.nn.functional as F\nfrom vaeaudit.geometry import exp_map_zero\n"


def findings_of(body: str, **overrides):
    settings = Settings(**overrides)
    return scan_source((HEADER + body).encode(), "case.py", settings)


# -- spans and fix hints --------------------------------------------------------------------


def _node_at(module: cst.Module, finding):
    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    for node, span in wrapper.resolve(PositionProvider).items():
        if (span.start.line, span.start.column + 1, span.end.line, span.end.column + 1) == (
            finding.line, finding.col, finding.end_line, finding.end_col,
        ) and isinstance(node, (cst.Call, cst.BinaryOperation)):
            return node
    raise AssertionError(f"no expression spans {finding}")


@pytest.mark.parametrize(
    ("expression", "function", "x", "y", "dim", "keepdim", "p"),
    [
        ("torch.norm(z, dim=-1)", "torch.norm", "z", None, "-1", None, None),
        ("z.norm(2, -1, True)", "torch.Tensor.norm", "z", None, "-1", "True", "2"),
        ("torch.linalg.vector_norm(z, ord=2, dim=1, keepdim=True)", "torch.linalg.vector_norm", "z", None, "1", "True", "2"),
        ("(z - w).norm(dim=-1)", "torch.Tensor.norm", "z", "w", "-1", None, None),
        ("torch.norm(z - w, dim=-1)", "torch.norm", "z", "w", "-1", None, None),
        ("torch.cdist(z, w)", "torch.cdist", "z", "w", None, None, None),
        ("F.pairwise_distance(z, w, keepdim=True)", "torch.nn.functional.pairwise_distance", "z", "w", None, "True", None),
        ("torch.sqrt((z ** 2).sum(dim=-1, keepdim=True))", "sqrt-sum-of-squares", "z", None, "-1", "True", None),
    ],
)
def test_span_and_fix_hint_describe_the_whole_call(expression, function, x, y, dim, keepdim, p) -> None:
    source = HEADER + f"def f(v):\n    z = exp_map_zero(v)\n    w = exp_map_zero(v)\n    return {expression}\n"
    module = cst.parse_module(source)
    (finding,) = scan_module(module, "case.py", Settings())
    assert module.code_for_node(_node_at(module, finding)) == expression
    assert (finding.line, finding.col, finding.end_col) == (7, 12, 12 + len(expression))
    hint = finding.fix
    assert (hint.function, hint.x, hint.y, hint.dim, hint.keepdim, hint.p, hint.backend) == (function, x, y, dim, keepdim, p, "torch")


def test_numpy_backend_and_pdist_has_no_fix() -> None:
    body = "import numpy as np\nfrom scipy.spatial.distance import pdist\ndef f(z_hyp):\n    return np.linalg.norm(z_hyp, axis=1, keepdims=True), pdist(z_hyp)\n"
    first, second = findings_of(body)
    assert (first.fix.function, first.fix.backend, first.fix.dim, first.fix.keepdim) == ("numpy.linalg.norm", "numpy", "1", "True")
    assert second.rule == "HYP002" and second.fix is None


def test_scan_module_and_scan_source_agree() -> None:
    source = HEADER + "def f(v):\n    z = exp_map_zero(v)\n    return z.norm()  # noqa: HYP002\n"
    assert scan_module(cst.parse_module(source), "a.py", Settings()) == scan_source(source.encode(), "a.py", Settings())


# -- dataflow ----------------------------------------------------------------------------


def test_reaching_definition_replaces_earlier_source() -> None:
    assert findings_of("def f(v):\n    z = exp_map_zero(v)\n    z = torch.zeros(3)\n    return z.norm()\n") == []


def test_branch_merge_lowers_confidence_and_says_why() -> None:
    body = "def f(v, flag):\n    z = v\n    if flag:\n        z = exp_map_zero(v)\n    return z.norm()\n"
    (finding,) = findings_of(body)
    assert finding.confidence == "low"  # one branch only
    assert any("some paths only" in step for step in finding.evidence)


def test_a_printed_largest_radius_is_no_finding() -> None:
    """mhgdm's debug script prints max ‖x‖ of ball points to see that they stay inside: a check by eye."""
    body = (
        "def f(v):\n"
        "    z = exp_map_zero(v)\n"
        '    print(f"largest norm: {torch.norm(z, dim=1).max().item():.6f}")\n'
        "    print(torch.norm(z, dim=1).mean())\n"
        "    return torch.norm(z, dim=1).max()\n"
    )
    mean, returned = findings_of(body)
    assert (mean.line, returned.line) == (7, 8)  # the header takes three lines
    assert mean.confidence == returned.confidence == "high"  # a printed mean radius, a returned maximum: radii


def test_a_spelled_out_distance_is_low_confidence_evidence() -> None:
    """A function read as a Poincaré distance from its text (alicia-tsai's metric plots feed it grid points)."""
    body = (
        "def disk_distance(u, v):\n"
        "    denom = (1.0 - (u**2).sum()) * (1.0 - (v**2).sum())\n"
        "    return torch.acosh(1 + 2 * ((u - v) ** 2).sum() / denom)\n"
        "\n"
        "def f(x, y):\n"
        "    return disk_distance(x, y), x.norm()\n"
    )
    (finding,) = findings_of(body)
    assert (finding.line, finding.confidence) == (9, "low")
    assert any("disk_distance() spells out the Poincaré distance of `u` and `v`" in step for step in finding.evidence)


def test_a_list_filled_in_a_loop_keeps_the_confidence_of_what_it_collects() -> None:
    """`coords = []` then `coords.append(exp_map_zero(v))`: the empty start is no Euclidean path (active-geometry);
    nor are a zero buffer's unfilled rows (Puronbo's `settled = torch.empty_like(v)`)."""
    body = (
        "def f(vs, maybe):\n"
        "    coords, other = [], []\n"
        "    settled = torch.zeros_like(vs)\n"
        "    for v in vs:\n"
        "        coords.append(exp_map_zero(v))\n"
        "    if maybe:\n"
        "        other = exp_map_zero(vs)\n"
        "        settled[maybe] = exp_map_zero(vs[maybe])\n"
        "    return torch.stack(coords).norm(dim=-1), torch.stack(other).norm(dim=-1), settled.norm(dim=-1)\n"
    )
    collected, rebound, filled = findings_of(body)
    assert (collected.col, collected.confidence) == (12, "high")
    assert rebound.confidence == "low"  # `other = ...` on one arm only: another binding, another value
    assert filled.confidence == "high"  # rows left at zero are the ball's origin


def test_a_defaultdict_of_lists_is_empty_until_filled() -> None:
    body = (
        "from collections import defaultdict\n"
        "def f(vs, labels):\n"
        "    groups = defaultdict(list)\n"
        "    for label, v in zip(labels, vs):\n"
        "        groups[label].append(exp_map_zero(v))\n"
        "    return torch.stack(groups[0]).norm(dim=-1)\n"
    )
    (finding,) = findings_of(body)
    assert finding.confidence == "high"
    assert not any("some paths only" in step for step in finding.evidence)


def test_min_confidence_hides_weaker_findings() -> None:
    body = "def f(z_hyp, v):\n    z = exp_map_zero(v)\n    return z_hyp.norm(), z.norm()\n"
    assert len(findings_of(body)) == 2
    assert [f.confidence for f in findings_of(body, min_confidence="high")] == ["high"]


def test_configured_producer_sanitizer_and_projection_class() -> None:
    body = (
        "def f(h, enc):\n"
        "    a = lift(h)\n"
        "    b = flatten_ball(lift(h))\n"
        "    proj = MyBallHead(4)\n"
        "    c = proj(h)\n"
        "    return a.norm(), b.norm(), c.norm()\n"
    )
    assert findings_of(body) == []
    found = findings_of(body, producers=("lift",), sanitizers=("flatten_ball",), projection_classes=("MyBallHead",))
    assert [f.col for f in found] == [12, 32]


# -- suppression -------------------------------------------------------------------------

CASE = "def f(v):\n    z = exp_map_zero(v)\n    return z.norm(), torch.dist(z, z){comment}\n"


@pytest.mark.parametrize(
    ("comment", "rules"),
    [("", ["HYP001", "HYP002"]), ("  # noqa", []), ("  # noqa: HYP001", ["HYP002"]), ("  # NOQA:HYP002,HYP001", []), ("  # noqa: HYP", [])],
)
def test_noqa_comments(comment, rules) -> None:
    assert [f.rule for f in findings_of(CASE.format(comment=comment))] == rules


def test_select_ignore_and_per_file_ignores(tmp_path: Path) -> None:
    body = CASE.format(comment="")
    assert [f.rule for f in findings_of(body, select=("HYP002",))] == ["HYP002"]
    assert [f.rule for f in findings_of(body, ignore=("HYP002",))] == ["HYP001"]
    assert [f.rule for f in findings_of(body, select=("HYP",), ignore=("HYP0",))] == []
    assert [f.rule for f in findings_of(body, ignore=("HYP",), select=("HYP001",))] == ["HYP001"]
    ignored = Settings(project_root=tmp_path, per_file_ignores=(("scripts/*.py", ("HYP001",)),))
    source = (HEADER + body).encode()
    assert [f.rule for f in scan_source(source, str(tmp_path / "scripts" / "a.py"), ignored)] == ["HYP002"]
    assert len(scan_source(source, str(tmp_path / "src" / "a.py"), ignored)) == 2


# -- settings ----------------------------------------------------------------------------


def write_pyproject(folder: Path, table: str) -> None:
    (folder / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n[tool.vaeaudit]\n{table}\n", encoding="utf-8")


def test_settings_defaults_and_fix_keys(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.poincare_import == "vaeaudit.geometry"
    assert settings.curvature_expressions == ("self.curvature", "self.c", "curvature", "c")
    assert settings.default_curvature == 1.0
    assert settings.project_root == tmp_path.resolve()


def test_settings_read_pyproject_and_cli_overrides_win(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path,
        'select = ["HYP001"]\nproducers = ["lift"]\npoincare-import = "geo"\ncurvature-expressions = ["self.k"]\n'
        'default-curvature = 2\n"per-file-ignores" = { "tests/*" = ["HYP"] }\n[tool.vaeaudit.checkpoints]\nanything = 1\n',
    )
    (tmp_path / "src").mkdir()
    settings = load_settings(tmp_path / "src", ignore=("HYP002",), select=None)
    assert settings.select == ("HYP001",) and settings.ignore == ("HYP002",)
    assert "lift" in settings.producers and "exp_map_zero" in settings.producers
    assert (settings.poincare_import, settings.curvature_expressions, settings.default_curvature) == ("geo", ("self.k",), 2.0)
    assert settings.per_file_ignores == (("tests/*", ("HYP",)),)
    assert settings.config_path == tmp_path / "pyproject.toml"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("selec = ['HYP']", "unknown key 'selec'"),
        ("select = 'HYP001'", "'select' must be a list of strings"),
        ("name-patterns = ['(']", "bad regular expression"),
        ("default-curvature = -1", "positive number"),
        ("min-confidence = 'sure'", "min-confidence must be one of"),
        ("cache = 'yes'", "must be true or false"),
        ("checkpoints = 3", "'checkpoints' must be a table"),
        ("select = ['hyp 1']", "not a rule code"),
    ],
)
def test_bad_settings_name_key_and_file(tmp_path: Path, table: str, message: str) -> None:
    write_pyproject(tmp_path, table)
    with pytest.raises(ConfigError) as error:
        load_settings(tmp_path)
    assert message in str(error.value)
    assert str(tmp_path / "pyproject.toml") in str(error.value)


# -- discovery ---------------------------------------------------------------------------


def touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_discovery_respects_gitignore_exclude_and_stays_inside_roots(tmp_path: Path) -> None:
    project = tmp_path / "project"
    touch(project / "pyproject.toml", "[tool.vaeaudit]\nextend-exclude = ['legacy/old_*.py']\n")
    touch(project / ".gitignore", "generated/\n*.tmp.py\n!keep.tmp.py\n/rootonly.py\n")
    keep = [touch(project / "a.py"), touch(project / "pkg" / "b.py"), touch(project / "keep.tmp.py"), touch(project / "pkg" / "rootonly.py"), touch(project / "legacy" / "new.py")]
    for ignored in ("generated/c.py", "x.tmp.py", "rootonly.py", ".venv/lib/d.py", "pkg/__pycache__/e.py", "legacy/old_1.py", "notes.txt"):
        touch(project / ignored)
    touch(project / "pkg" / "sub" / ".gitignore", "local.py\n")
    touch(project / "pkg" / "sub" / "local.py")
    outside = touch(tmp_path / "outside" / "secret.py")
    os.symlink(project, project / "pkg" / "loop")  # a symlink loop
    os.symlink(outside.parent, project / "escape")  # leaves the root
    os.symlink(outside, project / "escape_file.py")
    settings = load_settings(project)
    found = sorted(p.relative_to(project).as_posix() for p in iter_python_files([project], settings))
    assert found == sorted(p.relative_to(project).as_posix() for p in keep)


def test_explicit_files_and_folders_inside_ignored_folders_are_scanned(tmp_path: Path) -> None:
    touch(tmp_path / "pyproject.toml")
    touch(tmp_path / ".gitignore", "vendor/\n")
    lib = touch(tmp_path / "vendor" / "lib" / "x.py")
    settings = load_settings(tmp_path)
    assert list(iter_python_files([tmp_path], settings)) == []
    assert list(iter_python_files([tmp_path / "vendor" / "lib"], settings)) == [lib]
    assert list(iter_python_files([lib, lib], settings)) == [lib]


# -- prefilter ---------------------------------------------------------------------------

_SNIPPETS = st.sampled_from(
    [
        "z = exp_map_zero(v)", "z = outputs['z_hyp']", "z_hyp = f(x)", "r = z.norm(dim=-1)", "d = torch.cdist(z, z)",
        "r = torch.sqrt((z ** 2).sum(-1))", "r = (z * z).sum(-1) ** 0.5", "z = proj(x)", "proj = HyperbolicProjection()",
        "z = self.manifold.expmap0(v)", "w = log_map_zero(z)", "x = y + 1", "r = z.data.norm()", "d = (a - b).norm()",
        "def g(p: PoincareTensor):\n    return p.norm()", "for q in z:\n    print(q.norm())", "if c:\n    z = to_poincare(v)",
        "l = F.mse_loss(z, w)", "s = ((z - w) ** 2).sum(-1)", "s = (z - w).pow(2).mean()", "w = exp_map_zero(u)",
        "z = embed_tree(t, curvature=1.0)", "d = ball.dist(z, w)", "z = _project_to_disk(x)",
    ]
)


@hypothesis_settings(max_examples=60)
@given(st.lists(_SNIPPETS, min_size=1, max_size=6))
def test_prefilter_never_hides_a_finding(lines) -> None:
    source = ("import torch\nimport torch.nn.functional as F\n" + "\n".join(lines) + "\n").encode()
    settings = Settings()
    if not Prefilter(settings).could_match(source):
        assert scan_source(source, "gen.py", settings) == []


def test_prefilter_skips_files_without_sources_or_norms() -> None:
    prefilter = Prefilter(Settings())
    assert not prefilter.could_match(b"import torch\nx = torch.norm(y)\n")
    assert not prefilter.could_match(b"z = exp_map_zero(v)\n")
    assert prefilter.could_match(b"z = exp_map_zero(v)\nr = z.norm()\n")
    assert prefilter.could_match(b"r = outputs['z_A_hyp'].norm()\n")
    assert prefilter.could_match(b"z = embed_tree(t, curvature=1.0)\nr = z.norm()\n")  # a third-party result, maybe
    assert not prefilter.could_match(b"ok = c == 1.0\nr = z.norm()\n")
    assert prefilter.could_match(b"ball.dist(z, w)\nr = z.norm()\n")  # a consumer on an object named like a manifold
    assert prefilter.could_match(b"z = embed_to_disk(v)\nr = z.norm()\n")  # a call named for the ball


@pytest.mark.parametrize(
    ("expression", "rule"),
    [
        ("torch.norm(z)", "HYP001"), ("z.norm()", "HYP001"), ("vn(z)", "HYP001"), ("torch.sqrt((z * z).sum(-1))", "HYP001"),
        ("(z.pow(2).sum(-1)) ** 0.5", "HYP001"), ("torch.cdist(z, w)", "HYP002"), ("F.pairwise_distance(z, w)", "HYP002"),
        ("torch.pdist(z)", "HYP002"), ("F.mse_loss(z, w)", "HYP003"), ("(z - w).pow(2).sum(-1)", "HYP003"),
        ("torch.square(z - w).mean()", "HYP003"), ("((z - w) ** 2).mean()", "HYP003"),
        ("((z - w) * (z - w)).sum(-1)", "HYP003"), ("torch.nn.MSELoss()(z, w)", "HYP003"),
    ],
)
def test_each_operation_alone_survives_prefilter_and_scope_selection(expression: str, rule: str) -> None:
    from vaeaudit.scan.runner import scan_bytes

    source = (
        "import torch\nimport torch.nn.functional as F\nfrom torch.linalg import vector_norm as vn\n"
        f"def helper(v, u):\n    return v\n\nclass K:\n    def m(self, z_hyp, w_hyp):\n        z, w = z_hyp, w_hyp\n        return {expression}\n"
    )
    result = scan_bytes("alone.py", source.encode(), Settings())
    assert [(f.rule, f.line) for f in result.findings] == [(rule, 10)]


# What `git ls-files --others --exclude-standard` lists for each .gitignore (git 2.39, run once by hand):
# a directory re-included after `*` is walked (BrantTQ/hyperbolic_projection keeps its scripts this way).
_GIT_VERDICTS = [
    ("*\n!/.gitignore\n!scripts/\n!scripts/*.py*\n", ["scripts/a.py", "scripts/x/c.py", "top.py"], ["scripts/a.py"]),
    ("*\n!scripts/\n", ["scripts/a.py", "top.py"], []),
    ("*\n!*/\n!*.py\n", ["a.py", "pkg/b.py", "pkg/sub/c.py"], ["a.py", "pkg/b.py", "pkg/sub/c.py"]),
    ("foo/*\n!foo/bar/\n", ["foo/a.py", "foo/bar/b.py", "foo/baz/c.py"], ["foo/bar/b.py"]),
    ("build/\n!build/keep.py\n", ["build/keep.py", "build/x.py"], []),
    ("*\n!src/\n!src/**\n", ["src/a.py", "src/deep/b.py", "other/c.py"], ["src/a.py", "src/deep/b.py"]),
    ("data/\n", ["data/a.py", "pkg/data/b.py", "pkg/data.py"], ["pkg/data.py"]),
    ("/data/\n", ["data/a.py", "pkg/data/b.py"], ["pkg/data/b.py"]),
    ("*\n!*/\n!**/*.py\n", ["a.py", "x/y/z.py"], ["a.py", "x/y/z.py"]),
    ("**/vendor\n!**/vendor/keep/\n", ["vendor/a.py", "pkg/vendor/keep/b.py", "vendor/keep/c.py"], []),
    ("*\n!src/**\n", ["src/a.py", "src/deep/b.py"], []),
]


@pytest.mark.parametrize(("gitignore", "files", "kept"), _GIT_VERDICTS)
def test_discovery_walks_the_folders_git_walks(tmp_path: Path, gitignore: str, files: list[str], kept: list[str]) -> None:
    touch(tmp_path / "pyproject.toml")
    touch(tmp_path / ".gitignore", gitignore)
    for name in files:
        touch(tmp_path / name)
    found = sorted(p.relative_to(tmp_path).as_posix() for p in iter_python_files([tmp_path], load_settings(tmp_path)))
    assert found == kept


def test_a_deeper_gitignore_re_includes_a_folder_and_everything_below_it(tmp_path: Path) -> None:
    """`exp/*` at the root, `!keep/` in exp/.gitignore: git lists exp/keep/ and its subfolders (checked with git)."""
    touch(tmp_path / "pyproject.toml")
    touch(tmp_path / ".gitignore", "exp/*\n")
    touch(tmp_path / "exp" / ".gitignore", "!keep/\n")
    for name in ("exp/keep/k.py", "exp/keep/inner/k2.py", "exp/keep/inner/more/k3.py", "exp/drop/d.py", "top.py"):
        touch(tmp_path / name)
    found = sorted(p.relative_to(tmp_path).as_posix() for p in iter_python_files([tmp_path], load_settings(tmp_path)))
    assert found == ["exp/keep/inner/k2.py", "exp/keep/inner/more/k3.py", "exp/keep/k.py", "top.py"]


def test_a_gitignore_line_git_skips_does_not_stop_the_scan(tmp_path: Path) -> None:
    """`a.py\\` (a lone trailing backslash) is no pattern for git; pathspec rejects the whole file over it."""
    touch(tmp_path / "pyproject.toml")
    touch(tmp_path / ".gitignore", "a.py\\\nb.py\n")
    for name in ("a.py", "b.py", "c.py"):
        touch(tmp_path / name)
    found = sorted(p.relative_to(tmp_path).as_posix() for p in iter_python_files([tmp_path], load_settings(tmp_path)))
    assert found == ["a.py", "c.py"]
