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
    source = (
        "import torch\n"
        "from vaeaudit.geometry import poincare_distance as pdist\n"
        "def f(z, c):\n"
        "    return z.norm(dim=-1)\n"
    )
    code, [outcome] = run(source, [finding_at(source, "z.norm(dim=-1)", function="torch.Tensor.norm", x="z", dim="-1")])
    assert outcome.status == FIXED and outcome.reasons == ()
    assert "    return pdist(z, torch.zeros_like(z), c=c)\n" in code
    assert code.count("import") == 2


def test_module_import_alias_is_reused(finding_at):
    source = "import torch as th\nimport vaeaudit.geometry as geo\ndef f(a, b, curvature):\n    return th.dist(a, b)\n"
    finding = finding_at(source, "th.dist(a, b)", rule="HYP002", function="torch.dist", x="a", y="b")
    code, [outcome] = run(source, [finding], unsafe_fixes=True)
    assert "    return geo.poincare_distance(a, b, c=curvature)\n" in code
    assert outcome.status == FIXED and "reduces over all elements" in outcome.reasons[0]


def test_local_def_with_the_same_name_refuses_the_fix(finding_at):
    source = "import torch\ndef poincare_distance(a, b):\n    return 0\nr = torch.norm(z, dim=-1)\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert code == source
    assert outcome.status == REFUSED and "a def (line 2)" in outcome.reasons[0]


def test_unrelated_import_with_the_same_name_refuses_the_fix(finding_at):
    source = "import torch\nfrom other.lib import poincare_distance\nc = 1.0\nr = torch.norm(z, dim=-1)\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert code == source and outcome.status == REFUSED and "an import (line 2)" in outcome.reasons[0]


def test_parameter_shadowing_the_import_refuses_the_fix(finding_at):
    source = (
        "import torch\nfrom vaeaudit.geometry import poincare_distance\n"
        "def f(z, c, poincare_distance=None):\n    return torch.norm(z, dim=-1)\n"
    )
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert code == source and outcome.status == REFUSED and "a parameter" in outcome.reasons[0]


def test_torch_bound_to_something_else_refuses_the_radius_fix(finding_at):
    source = "from torch import norm\ntorch = None\nc = 1.0\nr = norm(z, dim=-1)\n"
    code, [outcome] = run(source, [finding_at(source, "norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert code == source and outcome.status == REFUSED and "`torch` is already bound" in outcome.reasons[0]


def test_missing_torch_import_is_added_after_the_docstring_and_imports(finding_at):
    source = '"""Doc."""\nfrom torch import norm\n\nc = 1.0\nr = norm(z, dim=-1)\n'
    code, _ = run(source, [finding_at(source, "norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert code == (
        '"""Doc."""\nfrom torch import norm\nimport torch\nfrom vaeaudit.geometry import poincare_distance\n\n'
        "c = 1.0\nr = poincare_distance(z, torch.zeros_like(z), c=c)\n"
    )


def test_configured_import_module_is_used(finding_at):
    source = "import torch\nc = 2.0\nr = torch.norm(z, dim=-1)\n"
    code, _ = run(
        source,
        [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")],
        poincare_import="src.geometry",
    )
    assert "from src.geometry import poincare_distance\n" in code


def test_operand_inside_a_lambda_cannot_be_hoisted_so_the_fix_is_unsafe(finding_at):
    source = "import torch\nc = 1.0\nf = lambda m, x: torch.norm(m(x), dim=-1)\n"
    finding = finding_at(source, "torch.norm(m(x), dim=-1)", function="torch.norm", x="m(x)", dim="-1")
    code, [outcome] = run(source, [finding])
    assert code == source and outcome.status == UNSAFE
    assert "evaluated twice" in outcome.reasons[0]
    code, [outcome] = run(source, [finding], unsafe_fixes=True)
    assert "poincare_distance(m(x), torch.zeros_like(m(x)), c=c)" in code


def test_operand_in_a_multi_statement_line_is_hoisted_with_a_semicolon(finding_at):
    source = "import torch\nc = 1.0\na = 1; r = torch.norm(enc(x), dim=-1)\n"
    finding = finding_at(source, "torch.norm(enc(x), dim=-1)", function="torch.norm", x="enc(x)", dim="-1")
    code, [outcome] = run(source, [finding])
    assert outcome.status == FIXED
    assert "a = 1; hyperbolic_point = enc(x); r = poincare_distance(hyperbolic_point, " in code


def test_hoisted_name_avoids_names_in_use(finding_at):
    source = "import torch\nc = 1.0\nhyperbolic_point = 3\nr = torch.norm(enc(x), dim=-1)\n"
    finding = finding_at(source, "torch.norm(enc(x), dim=-1)", function="torch.norm", x="enc(x)", dim="-1")
    code, _ = run(source, [finding])
    assert "hyperbolic_point_2 = enc(x)\n" in code


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
    assert "hyperbolic_point = poincare_distance_matrix(a, b, c=c)\n" in code
    assert "r = poincare_distance(hyperbolic_point, torch.zeros_like(hyperbolic_point), c=c)\n" in code


def test_threshold_through_an_assigned_name_is_unsafe(finding_at):
    source = "import torch\nc = 1.0\nr = torch.norm(z, dim=-1)\nmask = (r > 0.1) & (r < 0.99)\n"
    code, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert outcome.status == UNSAFE and code == source
    assert any("0.1 (line 4)" in reason for reason in outcome.reasons)
    assert any("0.99 (line 4)" in reason for reason in outcome.reasons)


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


def test_threshold_on_a_name_assigned_from_a_method_chain_is_unsafe(finding_at):
    source = "import torch\nc = 1.0\nradii = torch.norm(z, dim=-1).cpu().numpy()\nfar = radii[radii > 0.9]\n"
    _, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert outcome.status == UNSAFE and "0.9 (line 4)" in outcome.reasons[0]


@pytest.mark.parametrize(
    ("statement", "status", "reason"),
    [
        ("r = torch.norm(z, dim=-1).clamp(max=self_max_radius)", UNSAFE, "self_max_radius (line 3)"),
        ("ok = torch.norm(z, dim=-1) < cfg.max_norm", UNSAFE, "cfg.max_norm (line 3)"),
        ("near = -0.5 < torch.norm(z, dim=-1)", UNSAFE, "-0.5 (line 3)"),
        ("big = torch.norm(z, dim=-1) > 3.0", FIXED, None),
    ],
)
def test_thresholds_at_the_call(finding_at, statement, status, reason):
    source = f"import torch\nc = 1.0\n{statement}\n"
    _, [outcome] = run(source, [finding_at(source, "torch.norm(z, dim=-1)", function="torch.norm", x="z", dim="-1")])
    assert outcome.status == status
    assert reason is None or reason in outcome.reasons[0]
