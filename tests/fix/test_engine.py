"""The rewrite engine on hand-made findings: what it writes, what it refuses, and why."""

from __future__ import annotations

import libcst as cst
import pytest

from vaeaudit.codemods.options import FixOptions
from vaeaudit.codemods.outcome import FIXED, REFUSED, UNSAFE
from vaeaudit.codemods.rewrite import rewrite_module


def run(source, findings, **options):
    result = rewrite_module(cst.parse_module(source), findings, FixOptions(**options))
    return result.module.code, result.outcomes


def test_alias_of_the_geometry_function_is_reused(finding_at):
    source = "import torch\nfrom vaeaudit.geometry import poincare_radius as prad\ndef f(z, c: float):\n    return z.norm(dim=-1)\n"
    code, [outcome] = run(source, [finding_at(source, "z.norm(dim=-1)", function="torch.Tensor.norm", x="z", dim="-1")])
    assert outcome.status == FIXED and outcome.reasons == ()
    assert "    return prad(z, c=c)\n" in code
    assert code.count("import") == 2


def test_module_import_alias_is_reused(finding_at):
    source = "import torch as th\nimport vaeaudit.geometry as geo\ndef f(a, b, curvature):\n    return th.dist(a, b)\n"
    finding = finding_at(source, "th.dist(a, b)", rule="HYP002", function="torch.dist", x="a", y="b")
    code, [outcome] = run(source, [finding], unsafe_fixes=True)
    assert "    return geo.poincare_distance(a, b, c=curvature)\n" in code
    assert outcome.status == FIXED and "reduces over all elements" in outcome.reasons[0]


def test_local_def_with_the_same_name_refuses_the_fix(finding_at):
    source = "import torch\ndef poincare_radius(a, b):\n    return 0\nr = torch.norm(z, dim=-1)\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert code == source
    assert outcome.status == REFUSED and "a def (line 2)" in outcome.reasons[0]


def test_unrelated_import_with_the_same_name_refuses_the_fix(finding_at):
    source = "import torch\nfrom other.lib import poincare_radius\nc = 1.0\nr = torch.norm(z, dim=-1)\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert code == source and outcome.status == REFUSED and "an import (line 2)" in outcome.reasons[0]


def test_parameter_shadowing_the_import_refuses_the_fix(finding_at):
    source = (
        "import torch\nfrom vaeaudit.geometry import poincare_radius\n"
        "def f(z, c: float, poincare_radius=None):\n    return torch.norm(z, dim=-1)\n"
    )
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert code == source and outcome.status == REFUSED and "a parameter" in outcome.reasons[0]


def test_torch_bound_to_something_else_refuses_the_numpy_fix(finding_at):
    source = "import numpy as np\ntorch = None\nc = 1.0\nr = np.linalg.norm(z, axis=-1)\n"
    finding = finding_at(source, "np.linalg.norm(z, axis=-1)", function="numpy.linalg.norm", x="z", dim="-1", backend="numpy")
    code, [outcome] = run(source, [finding], unsafe_fixes=True)
    assert code == source and outcome.status == REFUSED and "`torch` is already bound" in outcome.reasons[0]


def test_new_import_goes_in_sorted_position_and_the_one_made_unused_goes(finding_at):
    source = '"""Doc."""\nimport os\nfrom torch import norm\nimport zlib\n\nc = 1.0\nr = norm(z, dim=-1)\n'
    code, _ = run(source, [finding_at(source, "norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert code == (
        '"""Doc."""\nimport os\nfrom vaeaudit.geometry import poincare_radius\nimport zlib\n\nc = 1.0\nr = poincare_radius(z, c=c)\n'
    )


def test_import_still_used_elsewhere_or_in_a_string_is_kept(finding_at):
    source = 'import torch\n__all__ = ["torch"]\nc = 1.0\nr = torch.norm(z, dim=-1)\n'
    code, _ = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert code.startswith("import torch\n")


def test_new_import_goes_below_sys_path_insert(finding_at):
    source = "import sys\nsys.path.insert(0, 'lib')\nimport torch\nc = 1.0\nr = torch.norm(z, dim=-1)\n"
    code, _ = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert (
        code
        == "import sys\nsys.path.insert(0, 'lib')\nfrom vaeaudit.geometry import poincare_radius\nc = 1.0\nr = poincare_radius(z, c=c)\n"
    )


def test_configured_import_module_is_used_only_when_it_exists(finding_at, tmp_path):
    source = "import torch\nc = 2.0\nr = torch.norm(z, dim=-1)\n"
    finding = finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")
    code, [outcome] = run(source, [finding], poincare_import="lab_geometry.hyp", project_root=tmp_path)
    assert code == source and outcome.status == REFUSED and "neither installed nor a package" in outcome.reasons[0]
    (tmp_path / "lab_geometry").mkdir()
    code, _ = run(source, [finding], poincare_import="lab_geometry.hyp", project_root=tmp_path)
    assert "from lab_geometry.hyp import poincare_radius\n" in code


@pytest.mark.parametrize(
    ("statement", "operand"),
    [
        ("f = lambda m, x: torch.norm(m(x), dim=-1)", "m(x)"),
        ("pair = (encoder.step(), torch.norm(f(encoder.state), dim=-1))", "f(encoder.state)"),
        ("a = 1; r = torch.norm(enc(x), dim=-1)", "enc(x)"),
    ],
)
def test_operands_are_evaluated_once_in_place_never_hoisted(finding_at, statement, operand):
    source = f"import torch\nc = 1.0\n{statement}\n"
    call = f"torch.norm({operand}, dim=-1)"
    code, [outcome] = run(source, [finding_at(source, call, function="torch.norm", x=operand, dim="-1")])
    assert outcome.status == FIXED
    assert (
        code == f"from vaeaudit.geometry import poincare_radius\nc = 1.0\n{statement.replace(call, f'poincare_radius({operand}, c=c)')}\n"
    )


def test_comments_between_arguments_refuse_rather_than_vanish(finding_at):
    source = "import torch\nc = 1.0\nr = torch.norm(z,  # the point\n    dim=-1)\n"
    finding = finding_at(source, "torch.norm(z,  # the point", function="torch.norm", x="z", dim="-1")
    finding = type(finding)(**{**finding.__dict__, "end_line": 4, "end_col": 12})
    code, [outcome] = run(source, [finding])
    assert code == source and outcome.status == REFUSED and "# the point" in outcome.reasons[0]


def test_a_fix_nested_in_another_fix_operand_is_kept(finding_at):
    source = "import torch\nc = 1.0\nr = torch.norm(torch.cdist(a, b), dim=-1)\n"
    outer = finding_at(source, "torch.norm(torch.cdist(a, b), dim=-1)", function="torch.norm", x="torch.cdist(a, b)", dim="-1")
    inner = finding_at(source, "torch.cdist(a, b)", rule="HYP002", function="torch.cdist", x="a", y="b")
    code, outcomes = run(source, [outer, inner])
    assert [o.status for o in outcomes] == [FIXED, FIXED]
    assert "r = poincare_radius(poincare_distance_matrix(a, b, c=c), c=c)\n" in code


def test_threshold_through_an_assigned_name_is_converted(finding_at):
    source = "import torch\nc = 1.0\nr = torch.norm(z, dim=-1)\nmask = (r > 0.1) & (r < 0.99)\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert outcome.status == FIXED and outcome.reasons == ()
    assert code == (
        "from vaeaudit.geometry import euclidean_to_hyperbolic_radius, poincare_radius\nc = 1.0\nr = poincare_radius(z, c=c)\n"
        "mask = (r > euclidean_to_hyperbolic_radius(0.1, c=c)) & (r < euclidean_to_hyperbolic_radius(0.99, c=c))\n"
    )


def test_threshold_on_a_name_rebound_later_is_unsafe(finding_at):
    source = "import torch\nc = 1.0\nr = torch.norm(z, dim=-1)\nr = other\nmask = r < 0.99\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert outcome.status == UNSAFE and "assigned more than once" in outcome.reasons[0]


def test_unknown_function_and_missing_hint_are_refused(finding_at):
    source = "import torch\nc = 1.0\nd = torch.pdist(z)\n"
    finding = finding_at(source, "torch.pdist(z)", rule="HYP002", function="torch.pdist", x="z")
    no_hint = type(finding)(**{**finding.__dict__, "fix": None})
    code, outcomes = run(source, [finding, no_hint])
    assert code == source and [o.status for o in outcomes] == [REFUSED, REFUSED]
    assert "torch.pdist" in outcomes[0].reasons[0] and "no fix hint" in outcomes[1].reasons[0]


def test_span_that_matches_nothing_is_refused(finding_at):
    source = "import torch\nr = torch.norm(z, dim=-1)\n"
    finding = finding_at(source, "orch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")
    code, [outcome] = run(source, [finding])
    assert code == source and outcome.status == REFUSED and "no expression spans" in outcome.reasons[0]


def test_p_other_than_two_is_unsafe(finding_at):
    source = "import torch\nc = 1.0\nr = torch.norm(z, p=1, dim=-1)\n"
    finding = finding_at(source, "torch.norm(z, p=1, dim=-1)", function="torch.norm", x="z", dim="-1", p="1")
    _, [outcome] = run(source, [finding])
    assert outcome.status == UNSAFE and outcome.reasons == ("p=1 is not the Euclidean (L2) norm that poincare_distance replaces",)


def test_dropped_keywords_make_the_fix_unsafe_and_out_refuses_it(finding_at):
    source = "import torch\nc = 1.0\nr = torch.norm(z, dim=-1, dtype=torch.float64)\ns = torch.norm(z, dim=-1, out=buf)\n"
    dtype = finding_at(source, "torch.norm(z, dim=-1, dtype=torch.float64)", function="torch.norm", x="z", dim="-1")
    out = finding_at(source, "torch.norm(z, dim=-1, out=buf)", function="torch.norm", x="z", dim="-1")
    code, outcomes = run(source, [dtype, out])
    assert code == source
    assert [o.status for o in outcomes] == [UNSAFE, REFUSED]
    assert outcomes[0].reasons == ("dtype= would be dropped by the rewrite",) and "out=" in outcomes[1].reasons[0]


def test_threshold_on_a_name_assigned_from_an_elementwise_chain_is_converted(finding_at):
    source = "import torch\nc = 1.0\nradii = torch.norm(z, dim=-1).cpu().numpy()\nfar = radii[radii > 0.9]\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert outcome.status == FIXED and "far = radii[radii > euclidean_to_hyperbolic_radius(0.9, c=c)]\n" in code


@pytest.mark.parametrize(
    ("statement", "status", "expected"),
    [
        ("r = torch.norm(z, dim=-1).clamp(max=self_max_radius)", UNSAFE, "self_max_radius (line 3)"),
        ("ok = torch.norm(z, dim=-1) < cfg.max_norm", FIXED, "< euclidean_to_hyperbolic_radius(cfg.max_norm, c=c)"),
        ("near = -0.5 < torch.norm(z, dim=-1)", FIXED, "near = euclidean_to_hyperbolic_radius(-0.5, c=c) <"),
        ("big = torch.norm(z, dim=-1) > 3.0", FIXED, "> euclidean_to_hyperbolic_radius(3.0, c=c)"),
        ("far = torch.norm(z, dim=-1).mean() > 0.8", UNSAFE, "0.8 (line 3)"),
        ("ok = torch.norm(z, dim=-1) < limit", UNSAFE, "limit (line 3)"),
        ("loss = ((torch.norm(z, dim=-1) - self.target_radii) ** 2).mean()", UNSAFE, "adding or subtracting"),
        ("gap = max_norm - torch.norm(z, dim=-1)", UNSAFE, "adding or subtracting"),
        ("ok = (r := torch.norm(z, dim=-1)) < 0.5", UNSAFE, "bound by `:=`"),
    ],
)
def test_uses_of_the_result(finding_at, statement, status, expected):
    source = f"import torch\nc = 1.0\n{statement}\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert outcome.status == status
    assert expected in (code if status == FIXED else outcome.reasons[0])


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("CURVATURE = 0.5\ndef f(z):\n", "c=CURVATURE"),
        (
            "class M:\n    def __init__(self, config):\n        self.config = config\n"
            "    def ball(self):\n        return Ball(self.config.curvature)\n    def f(self, z):\n",
            "c=self.config.curvature",
        ),
        ("def g(model):\n    return Ball(model.curvature)\ndef f(z, model):\n", "c=model.curvature"),
        ("def f(z, curvature_value: float):\n", "c=curvature_value"),
    ],
)
def test_curvature_where_research_code_keeps_it(finding_at, setup, expected):
    indent = "        " if setup.startswith("class") else "    "
    source = f"import torch\n{setup}{indent}return torch.norm(z, dim=-1)\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert outcome.status == FIXED, outcome.reasons
    assert f"poincare_radius(z, {expected})" in code and expected.partition("=")[2] in outcome.note


@pytest.mark.parametrize(
    "setup",
    [
        "def f(z, heads):\n    for c in range(heads):\n",
        "c = 'tab:blue'\ndef f(z):\n",
        "def c():\n    return 1.0\ndef f(z):\n",
        "def f(z, c):\n",  # an untyped `c` may be a pytest fixture or a channel count
        "class M:\n    def __init__(self, channels):\n        self.c = channels\n    def f(self, z):\n",
        "def f(z, k: float):\n",
        "def f(z, model):\n",  # nothing reads model.curvature: it may not exist
        "class M:\n    def __init__(self, config):\n        self.config = config\n    def f(self, z):\n",  # nor self.config.curvature
    ],
)
def test_names_that_are_not_a_curvature_leave_the_fix_unsafe(finding_at, setup):
    indent = "        " if setup.startswith(("class", "def f(z, heads)")) else "    "
    source = f"import torch\n{setup}{indent}return torch.norm(z, dim=-1)\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert outcome.status == UNSAFE and code == source and "no curvature in scope" in outcome.reasons[-1]


def test_a_c_keyword_of_a_call_that_is_no_ball_map_is_not_the_curvature(finding_at):
    source = "import torch\ndef f(x, width):\n    z = conv(x, c=width)\n    return torch.norm(z, dim=-1)\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert outcome.status == UNSAFE and code == source


@pytest.mark.parametrize("decorator", ["@torch.jit.script", "@jit.script", "@torch.compile()"])
def test_no_rewrite_inside_compiled_functions(finding_at, decorator):
    source = f"import torch\nfrom torch import jit\n{decorator}\ndef f(z: torch.Tensor, c: float):\n    return torch.norm(z, dim=-1)\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert code == source and outcome.status == REFUSED and "TorchScript" in outcome.reasons[0]


@pytest.mark.parametrize(
    ("made", "expected", "status"),
    [
        ("z = to_ball(mu)", "poincare_radius(z, c=0.25)", FIXED),  # the producer's default, read from its def
        ("z = to_ball(mu, 0.5)", "poincare_radius(z, c=0.5)", FIXED),  # its curvature passed by position
        ("z = to_ball(mu, kappa)", "poincare_radius(z, c=kappa)", FIXED),
        ("z = to_ball(mu, *extra)", "poincare_radius(z, c=1.0)", UNSAFE),  # which argument is c: unknown
        ("z = to_ball_no_default(mu)", "poincare_radius(z, c=1.0)", UNSAFE),  # no default to read (and the call fails)
    ],
)
def test_the_producers_signature_tells_the_curvature(finding_at, made: str, expected: str, status: str) -> None:
    source = (
        "import torch\n"
        "def to_ball(v, c=0.25):\n    return v\n"
        "def to_ball_no_default(v, c):\n    return v\n"
        f"def f(mu, kappa):\n    {made}\n    return torch.norm(z, dim=-1)\n"
    )
    finding = finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")
    code, [outcome] = run(source, [finding], unsafe_fixes=True)
    assert outcome.status == FIXED and expected in code
    _, [default_pass] = run(source, [finding])
    assert default_pass.status == status


def test_a_parenthesised_operand_is_found_as_the_scanner_names_it(finding_at):
    source = "import torch\nfrom vaeaudit.geometry import exp_map_zero\ndef f(v, c: float):\n    return (exp_map_zero(v, c=c)).norm(dim=-1)\n"
    finding = finding_at(source, "(exp_map_zero(v, c=c)).norm(dim=-1)", function="torch.Tensor.norm", x="exp_map_zero(v, c=c)", dim="-1")
    code, [outcome] = run(source, [finding])
    assert outcome.status == FIXED
    assert "    return poincare_radius((exp_map_zero(v, c=c)), c=c)\n" in code


@pytest.mark.parametrize(
    ("made", "expected", "status"),
    [
        ("ball = geoopt.PoincareBall(c=0.3)", "return ball.dist0(z)", FIXED),
        ("ball = geoopt.Stereographic(k=-0.3)", "return ball.dist0(z)", FIXED),
        ("ball = geoopt.Scaled(geoopt.PoincareBall(), 2)", "return ball.dist0(z)", FIXED),  # its own metric, 2x the ball's
        ("ball = geoopt.Stereographic(k=0.3)", "poincare_radius(z, c=1.0)", UNSAFE),  # a sphere's dist0 is no ball's
        ("ball = geoopt.Lorentz(k=0.3)", "poincare_radius(z, c=1.0)", UNSAFE),  # a hyperboloid: dist0 means another model
        ("ball = geoopt.Scaled(geoopt.Lorentz(), 2)", "poincare_radius(z, c=1.0)", UNSAFE),
    ],
)
def test_a_manifold_variable_that_made_the_point_measures_it(finding_at, made: str, expected: str, status: str) -> None:
    source = f"import geoopt\nimport torch\ndef f(v):\n    {made}\n    z = ball.expmap0(v)\n    return torch.norm(z, dim=-1)\n"
    finding = finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")
    code, [outcome] = run(source, [finding], unsafe_fixes=True)
    assert outcome.status == FIXED and expected in code
    _, [default_pass] = run(source, [finding])
    assert default_pass.status == status


def test_the_parent_map_is_libcsts() -> None:
    from libcst.metadata import MetadataWrapper, ParentNodeProvider

    from vaeaudit.codemods.rewrite import parent_map

    module = cst.parse_module(
        "import torch\n@dec(1)\nclass A(B):\n    def f(self, *a, k=2, **kw):\n        return [x for x in a if (y := x)], lambda q: q, f'{k!r:>3}'\n"
    )
    assert parent_map(module) == dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(ParentNodeProvider))


BALL = {"manifold_kind": "PoincareBall", "manifold_origin": "case.py:3"}


def test_all_pairs_on_the_manifold_parenthesise_a_compound_operand(finding_at):
    source = "import torch\ndef f(ball, a, b, y):\n    return torch.cdist(a + b, y)\n"
    finding = finding_at(source, "torch.cdist(a + b, y)", function="torch.cdist", x="a + b", y="y", manifold="ball", **BALL)
    code, [outcome] = run(source, [finding])
    assert outcome.status == FIXED
    assert "    return ball.dist((a + b).unsqueeze(-2), y.unsqueeze(-3))\n" in code
    assert "manifold `ball` (PoincareBall, case.py:3)" in (outcome.note or "")


@pytest.mark.parametrize(
    ("source", "manifold"),
    [
        # the class binds self.m twice: the ball the points were made on may have been swapped
        (
            "import torch\nclass A:\n    def __init__(s):\n        pass\n    def g(self, z):\n        self.m = 1\n"
            "    def f(self, z):\n        self.m = 2\n        return torch.norm(z, dim=-1)\n",
            "self.m",
        ),
        # `code_emb.manifold` is assigned in the module: not certainly the instance's ball
        ("import torch\ndef f(code_emb, z):\n    code_emb.manifold = None\n    return torch.norm(z, dim=-1)\n", "code_emb.manifold"),
        # `ball` has two bindings
        ("import torch\ndef f(z, ball):\n    ball = ball.other\n    return torch.norm(z, dim=-1)\n", "ball"),
    ],
)
def test_a_manifold_whose_binding_is_not_certain_is_not_called(finding_at, source: str, manifold: str):
    finding = finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1", manifold=manifold, **BALL)
    code, [outcome] = run(source, [finding])
    assert outcome.status == UNSAFE and code == source
    assert any(f"manifold `{manifold}` was not used" in reason for reason in outcome.reasons)


def test_a_manifold_that_is_not_a_ball_is_not_called(finding_at):
    source = "import torch\ndef f(sphere, z, c: float):\n    return torch.norm(z, dim=-1)\n"
    hint = {"manifold": "sphere", "manifold_kind": "Sphere", "manifold_origin": "case.py:3"}
    finding = finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1", **hint)
    code, [outcome] = run(source, [finding])
    assert "sphere.dist" not in code and "poincare_radius(z, c=c)" in code


def test_a_moved_dim_parenthesises_a_compound_operand_and_a_squared_distance_keeps_its_power_apart(finding_at):
    source = "import torch\ndef f(a, b, y, c: float):\n    return torch.norm(a + b, dim=1), torch.sum((a - y) ** 2, dim=-1).sum()\n"
    norm = finding_at(source, "torch.norm(a + b, dim=1)", function="torch.norm", x="a + b", dim="1")
    squared = finding_at(source, "torch.sum((a - y) ** 2, dim=-1)", "HYP003", function="sum-of-squared-differences", x="a", y="y", dim="-1")
    code, outcomes = run(source, [norm, squared])
    assert [outcome.status for outcome in outcomes] == [FIXED, FIXED]
    assert "poincare_radius((a + b).movedim(1, -1), c=c), (poincare_distance(a, y, c=c) ** 2).sum()\n" in code


def test_an_import_made_unused_at_the_end_of_the_block_keeps_the_blank_lines_before_the_def(finding_at):
    source = (
        "import geoopt\nimport torch\n\n\ndef f(v):\n    ball = geoopt.PoincareBall()\n    return torch.norm(ball.expmap0(v), dim=-1)\n"
    )
    finding = finding_at(source, "torch.norm(ball.expmap0(v), dim=-1)", function="torch.norm", x="ball.expmap0(v)", dim="-1")
    code, [outcome] = run(source, [finding])
    assert outcome.status == FIXED
    assert code == "import geoopt\n\n\ndef f(v):\n    ball = geoopt.PoincareBall()\n    return ball.dist0(ball.expmap0(v))\n"


def test_a_rescaled_manifolds_radius_keeps_no_threshold(finding_at):
    """`Scaled(ball, 2).dist0` is twice the ball's radius: no curvature converts a Euclidean bound to it."""
    source = (
        "import geoopt\nimport torch\n"
        "def f(v):\n    sball = geoopt.Scaled(geoopt.PoincareBall(), 2)\n    return torch.norm(sball.expmap0(v), dim=-1) < 0.9\n"
    )
    finding = finding_at(source, "torch.norm(sball.expmap0(v), dim=-1)", function="torch.norm", x="sball.expmap0(v)", dim="-1")
    _, [outcome] = run(source, [finding])
    assert outcome.status == UNSAFE and "rescaled manifold's radius is compared with 0.9" in outcome.reasons[0]


def test_a_ball_the_class_takes_as_an_annotated_parameter_tells_the_curvature(finding_at):
    source = (
        "import geoopt\n"
        "class WrappedNormal:\n"
        "    def __init__(self, manifold: geoopt.PoincareBall):\n        self.manifold = manifold\n"
        "    def log_prob(self, mean, z):\n        return (mean - z).norm(dim=-1)\n"
    )
    finding = finding_at(source, "(mean - z).norm(dim=-1)", function="torch.Tensor.norm", x="mean", y="z", dim="-1")
    code, [outcome] = run(source, [finding])
    assert outcome.status == FIXED and "return poincare_distance(mean, z, c=self.manifold.c)" in code
    sphere = source.replace("geoopt.PoincareBall", "geoopt.Stereographic")  # k of unknown sign
    _, [outcome] = run(sphere, [finding_at(sphere, "(mean - z).norm(dim=-1)", function="torch.Tensor.norm", x="mean", y="z", dim="-1")])
    assert outcome.status == UNSAFE


def test_a_class_holding_two_balls_tells_no_curvature_for_a_point_of_unknown_origin(finding_at):
    source = (
        "import geoopt\nimport torch\n"
        "class TwoSpaces:\n"
        "    def __init__(self):\n        self.words = geoopt.PoincareBall(c=1.0)\n        self.labels = geoopt.PoincareBall(c=0.1)\n"
        "    def radius(self, z):\n        return torch.norm(z, dim=-1)\n"
    )
    finding = finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")
    _, [outcome] = run(source, [finding])
    assert outcome.status == UNSAFE  # not the first ball's c
    one = source.replace("        self.labels = geoopt.PoincareBall(c=0.1)\n", "")
    code, [outcome] = run(one, [finding_at(one, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert outcome.status == FIXED and "poincare_radius(z, c=self.words.c)" in code
