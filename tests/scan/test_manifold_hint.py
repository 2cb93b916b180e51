"""The fix hint names the manifold object a ball point lies on, only where one certain binding tells it."""

from __future__ import annotations

from vaeaudit.scan import scan_source
from vaeaudit.scan.settings import Settings

HEAD = "import geoopt\nimport torch\n\n"


def hints(body: str) -> dict[int, str | None]:
    source = HEAD + body
    return {finding.line: finding.fix.manifold for finding in scan_source(source.encode(), "case.py", Settings()) if finding.fix}


def test_a_function_returning_its_argument_passes_the_arguments_manifold_through() -> None:
    found = hints(
        "def unpack(v):\n"
        "    out = {'z_hyp': v}\n"
        "    return out['z_hyp']\n\n"
        "def f(u):\n"
        "    ball = geoopt.PoincareBall(c=0.5)\n"
        "    x, y = ball.expmap0(u[0]), ball.expmap0(u[1])\n"
        "    return (unpack(x) - unpack(y)).norm(dim=-1)\n"
    )
    assert found[11] == "ball"


def test_a_function_returning_something_else_on_one_path_passes_nothing() -> None:
    found = hints(
        "def pick(v, w, flag):\n"
        "    if flag:\n"
        "        return v\n"
        "    return w\n\n"
        "def f(u):\n"
        "    a = geoopt.PoincareBall(c=0.5)\n"
        "    b = geoopt.PoincareBall(c=2.0)\n"
        "    x, y = a.expmap0(u[0]), b.expmap0(u[1])\n"
        "    return pick(x, y, True).norm(dim=-1)\n"
    )
    assert found[13] is None


def test_points_of_two_balls_have_no_single_manifold() -> None:
    found = hints(
        "def f(u, flag):\n"
        "    a = geoopt.PoincareBall(c=0.5)\n"
        "    b = geoopt.PoincareBall(c=2.0)\n"
        "    z = a.expmap0(u) if flag else b.expmap0(u)\n"
        "    w = torch.stack([a.expmap0(u), b.expmap0(u)])\n"
        "    return z.norm(dim=-1), w.norm(dim=-1), (a.expmap0(u) - b.expmap0(u)).norm(dim=-1)\n"
    )
    assert found == {9: None}


def test_a_sphere_or_a_stereographic_manifold_of_unknown_sign_is_no_ball() -> None:
    found = hints(
        "def f(u, k):\n"
        "    m = geoopt.Stereographic(k=k)\n"
        "    z = m.expmap0(u)\n"
        "    n = geoopt.Stereographic(k=-1.0)\n"
        "    r = z.norm(dim=-1)\n"
        "    return r, n.expmap0(u).norm(dim=-1)\n"
    )
    assert found == {8: None, 9: "n"}


def test_a_parameter_annotated_as_a_geoopt_ball_is_that_ball_not_a_point() -> None:
    found = hints(
        "class Decoder(torch.nn.Module):\n"
        "    def __init__(self, manifold: geoopt.PoincareBall):\n"
        "        super().__init__()\n"
        "        self.manifold = manifold\n\n"
        "    def forward(self, v):\n"
        "        return self.manifold.expmap0(v).norm(dim=-1)\n\n"
        "def radii(manifold: geoopt.PoincareBall, u):\n"
        "    r = torch.norm(manifold.expmap0(u), dim=-1)\n"
        "    return r, torch.norm(manifold, dim=-1)\n"
    )
    assert found == {10: "self.manifold", 13: "manifold"}
