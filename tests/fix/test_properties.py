"""Property: for generated hyperbolic code, one fix run parses, compiles and reaches the fixed point.

The generator mixes what broke earlier versions: producers, shadowed names, star imports
(under which a first pass once added `import torch` and a second pass then saw more),
walrus, comprehensions, lambdas, CRLF line endings and tab indentation.
"""

from __future__ import annotations

import libcst as cst
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeaudit.scan import scan_module
from vaeaudit.scan.settings import Settings
from vaeaudit.codemods.options import FixOptions
from vaeaudit.codemods.outcome import FIXED
from vaeaudit.codemods.rewrite import rewrite_module
from vaeaudit.codemods.verify import parse_problem

SETTINGS = Settings(cache=False)  # built-in defaults: no pyproject.toml can change the property

HEADERS = [
    "import torch\nfrom vaeaudit.geometry import exp_map_zero\n",
    "import torch as th\nimport torch\nfrom vaeaudit.geometry import exp_map_zero, poincare_distance\n",
    "from torch import norm, cdist\nfrom vaeaudit.geometry import (\n    exp_map_zero,\n)\n",
    '"""Doc."""\nimport torch\nimport vaeaudit.geometry as geo\nfrom vaeaudit.geometry import exp_map_zero\n',
    "import torch\nfrom vaeaudit.geometry import exp_map_zero\n\ndef poincare_distance(a, b):\n    return a\n",
    "import numpy as np\nimport torch\nfrom vaeaudit.geometry import exp_map_zero\n",
    "from helpers import *\nfrom vaeaudit.geometry import exp_map_zero\n",
    "from helpers import *\nimport numpy as np\nfrom vaeaudit.geometry import exp_map_zero\n",
    "import sys\nsys.path.insert(0, 'lib')\nimport torch\nfrom vaeaudit.geometry import exp_map_zero\n",
    "import torch\nfrom vaeaudit.geometry import exp_map_zero, poincare_radius\ncurvature = 0.5\n",
]
OPERANDS = ["z", "z[0]", "(z)", "exp_map_zero(mu)", "self_z.point", "w"]
SHAPES = [
    "torch.norm({x}{dim})",
    "{x}.norm({dim_only})",
    "torch.linalg.vector_norm({x}{dim})",
    "torch.norm({x} - {y}{dim})",
    "({x} - {y}).norm({dim_only})",
    "torch.cdist({x}, {y})",
    "torch.dist({x}, {y})",
    "torch.sqrt(({x} ** 2).sum({dim_only}))",
    "norm({x}{dim})",
    "np.linalg.norm({x}.numpy(), axis=-1)",
]
DIMS = ["", ", dim=-1", ", dim=1", ", dim=-1, keepdim=True", ", 2, -1"]
CONTEXTS = [
    "    return {e}\n",
    "    r = {e}\n    return (r > 0.1) & (r < 0.99)\n",
    "    a = 1; r = {e}\n    return r\n",
    "    f = lambda: {e}\n    return f\n",
    "    return [{e} for _ in range(2)]\n",
    "    if {e} is not None:\n        return 1\n",
    "    return {e}.mean() < 0.5\n",
    "    return torch.norm({e}, dim=-1)\n",
    "    return (step(), {e})\n",
    "    return ((v := exp_map_zero(mu)), {e})\n",
    "    torch = None\n    return {e}\n",
    "    return {{k: {e} for k in range(2)}}\n",
    "    return ((r := {e}) < 0.5)\n",
    "    for c in range(3):\n        out = {e}\n    return out\n",
    "    loss = (({e}) - target) ** 2\n    return loss\n",
]


@st.composite
def programs(draw) -> str:
    x, y = draw(st.sampled_from(OPERANDS)), draw(st.sampled_from(OPERANDS))
    dim = draw(st.sampled_from(DIMS))
    expression = draw(st.sampled_from(SHAPES)).format(x=x, y=y, dim=dim, dim_only=dim.lstrip(", "))
    params = draw(st.sampled_from(["mu", "mu, curvature", "mu, c", "mu, c: float", "mu, poincare_distance", "mu, *args, **kw"]))
    producer = draw(st.sampled_from(["exp_map_zero(mu)", "exp_map_zero(mu, c=curvature)", "exp_map_zero(mu, c=0.5)"]))
    if "curvature" in producer and "curvature" not in params:
        params = "curvature, " + params
    body = draw(st.sampled_from(CONTEXTS)).format(e=expression)
    source = (
        draw(st.sampled_from(HEADERS))
        + f"\n\ndef f({params}):\n    z = {producer}\n    w = exp_map_zero(mu)\n"
        + "    self_z = Point(exp_map_zero(mu))\n"
        + body
    )
    if draw(st.booleans()):
        source = source.replace("    ", "\t")
    return source.replace("\n", "\r\n") if draw(st.booleans()) else source


def fix_once(source: bytes, unsafe: bool) -> tuple[bytes, list]:
    module = cst.parse_module(source)
    result = rewrite_module(module, scan_module(module, "case.py", SETTINGS), FixOptions(unsafe_fixes=unsafe))
    return result.module.bytes, result.outcomes


@settings(max_examples=300, deadline=None)
@given(programs(), st.booleans())
def test_one_run_parses_compiles_and_reaches_the_fixed_point(source: str, unsafe: bool) -> None:
    compile(source, "case.py", "exec")  # the generator writes valid Python
    once, _ = fix_once(source.encode(), unsafe)
    assert parse_problem(once, "case.py") is None, once.decode()
    compile(once, "case.py", "exec")
    twice, outcomes = fix_once(once, unsafe)
    assert twice == once, once.decode()
    assert not any(outcome.status == FIXED for outcome in outcomes)
