"""The fixed fixtures compute hyperbolic geometry, not just parse: run them against an mpmath oracle.

The oracle takes the very points the fixed code sees (z = exp_map_zero(mu, c), in float64)
and computes dist0 = (2/√c)·artanh(√c‖z‖) and the asinh form of the distance with 40
significant digits, so it shares no code with the geometry under test.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import mpmath
import numpy as np
import pytest
import torch

from vaeaudit.geometry import exp_map_zero

FIXTURES = Path(__file__).parent / "fixtures"
MU = torch.randn(6, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 0.6
MU_B = torch.randn(6, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 0.6
C = 0.7
mpmath.mp.dps = 40


def fixed(case: str) -> dict:
    return runpy.run_path(str(FIXTURES / f"{case}.out.py"))


def oracle_radius(points: torch.Tensor, c: float) -> torch.Tensor:
    """dist0 of each row (last dim holds coordinates), any leading shape."""
    flat = points.reshape(-1, points.shape[-1]).tolist()
    sqrt_c = mpmath.sqrt(mpmath.mpf(c))
    values = [2 / sqrt_c * mpmath.atanh(sqrt_c * mpmath.norm([mpmath.mpf(v) for v in row])) for row in flat]
    return torch.tensor([float(v) for v in values], dtype=torch.float64).reshape(points.shape[:-1])


def oracle_distance(x: torch.Tensor, y: torch.Tensor, c: float) -> torch.Tensor:
    """d_c(x_i, y_i) row by row."""
    c = mpmath.mpf(c)
    out = []
    for a, b in zip(x.tolist(), y.tolist(), strict=True):
        a, b = [mpmath.mpf(v) for v in a], [mpmath.mpf(v) for v in b]
        gap = mpmath.norm([p - q for p, q in zip(a, b, strict=True)])
        scale = mpmath.sqrt((1 - c * mpmath.norm(a) ** 2) * (1 - c * mpmath.norm(b) ** 2))
        out.append(float(2 / mpmath.sqrt(c) * mpmath.asinh(mpmath.sqrt(c) * gap / scale)))
    return torch.tensor(out, dtype=torch.float64)


POINTS = exp_map_zero(MU, c=C)
POINTS_B = exp_map_zero(MU_B, c=C)
RADIUS = oracle_radius(POINTS, C)


@pytest.mark.parametrize(
    "case",
    [
        "torch_norm_radius",
        "call_receiver_radius",
        "sqrt_sum_of_squares",
        "comments_and_formatting_kept",
        "torch_alias",
        "import_below_sys_path_insert",
        "norm_imported_from_torch",
        "latin1_cookie",
        "utf8_bom",
        "crlf_line_endings",
    ],
)
def test_fixed_radius_is_the_hyperbolic_radius(case: str) -> None:
    torch.testing.assert_close(fixed(case)["radii"](MU, C), RADIUS, rtol=1e-12, atol=0)


def test_keepdim_survives_the_fix() -> None:
    torch.testing.assert_close(fixed("keepdim_preserved")["radii"](MU, C), RADIUS.unsqueeze(-1), rtol=1e-12, atol=0)


def test_norm_over_another_dim_is_moved_last() -> None:
    mu = MU.reshape(2, 3, 4)
    expected = oracle_radius(exp_map_zero(mu, c=C), C)
    module = fixed("dim_not_last_moved")
    torch.testing.assert_close(module["radii"](mu, C), expected, rtol=1e-12, atol=0)
    torch.testing.assert_close(module["radii_kept"](mu, C), expected.unsqueeze(1), rtol=1e-12, atol=0)


def test_curvature_found_where_the_code_keeps_it() -> None:
    class Model:
        curvature = C

    torch.testing.assert_close(fixed("curvature_local")["radii"](Model(), MU), RADIUS, rtol=1e-12, atol=0)
    torch.testing.assert_close(fixed("tensor_method_self_curvature")["Encoder"](curvature=C).radius(MU), RADIUS, rtol=1e-12, atol=0)
    ball = fixed("curvature_property")["Ball"](torch.tensor(C, dtype=torch.float64).log())
    torch.testing.assert_close(ball.radius(MU), RADIUS, rtol=1e-12, atol=0)
    module_level = fixed("curvature_module_level")["radii"](MU)
    torch.testing.assert_close(module_level, oracle_radius(exp_map_zero(MU, c=0.5), 0.5), rtol=1e-12, atol=0)


def test_radii_in_a_comprehension_and_beside_a_side_effect() -> None:
    for radius, expected in zip(
        fixed("radius_in_comprehension")["radii"]([MU, MU_B], C), [RADIUS, oracle_radius(POINTS_B, C)], strict=True
    ):
        torch.testing.assert_close(radius, expected, rtol=1e-12, atol=0)
    steps = []

    class Encoder:
        state = MU

        def step(self):
            steps.append(1)
            self.state = MU_B

    _, radius = fixed("evaluation_order_kept")["step_and_radius"](Encoder(), C)
    assert steps == [1]
    torch.testing.assert_close(radius, oracle_radius(POINTS_B, C), rtol=1e-12, atol=0)  # step() ran first, as before


def test_converted_thresholds_decide_as_the_euclidean_ones() -> None:
    mu = torch.randn(4000, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 1.5
    z = exp_map_zero(mu, c=1.0)
    r = z.norm(dim=-1)
    expected = (r > 0.1) & (r < 0.99)
    assert 0 < int(expected.sum()) < len(expected)  # both answers occur
    assert torch.equal(fixed("threshold_literal_converted")["shell_mask"](mu, 1.0), expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_numpy_fix_returns_numpy_radii_of_the_arrays_dtype(dtype: torch.dtype) -> None:
    module = fixed("numpy_norm_radius")
    mu = MU.to(dtype)
    expected = oracle_radius(exp_map_zero(mu, c=C).double(), C).numpy()
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    for result in (module["radii"](mu, C), module["radii_by_column"](mu, C)):
        assert isinstance(result, np.ndarray) and result.dtype == mu.numpy().dtype
        np.testing.assert_allclose(result, expected, rtol=tolerance)
    one = module["radii"](mu[0], C)  # one point: a numpy scalar, as np.linalg.norm gives
    assert type(one) is type(np.linalg.norm(mu[0].numpy(), axis=-1))
    np.testing.assert_allclose(one, expected[0], rtol=tolerance)


def test_numpy_fix_reads_out_radii_of_a_learnable_curvature() -> None:
    """The original never touched the curvature's graph; the fix reads the radii out detached, as numpy needs."""
    curvature = torch.nn.Parameter(torch.tensor(C, dtype=torch.float64))
    result = fixed("numpy_norm_radius")["radii"](MU.double(), curvature)
    expected = oracle_radius(exp_map_zero(MU.double(), c=C), C).numpy()
    np.testing.assert_allclose(result, expected, rtol=1e-12)


def test_fixed_distances_are_poincare_distances() -> None:
    expected = oracle_distance(POINTS, POINTS_B, C)
    for case in ("difference_norm", "pairwise_distance"):
        torch.testing.assert_close(fixed(case)["pair_distance"](MU, MU_B, C), expected, rtol=1e-12, atol=0)
    kept = fixed("difference_method_keepdim")["pair_distance"](MU, MU_B, C)
    torch.testing.assert_close(kept, expected.unsqueeze(-1), rtol=1e-12, atol=0)
    matrix = fixed("cdist_to_matrix")["all_pairs"](MU, C)
    for i in range(len(MU)):
        row = oracle_distance(POINTS[i].expand_as(POINTS), POINTS, C)
        torch.testing.assert_close(matrix[i], row, rtol=1e-9, atol=1e-12)


def test_a_producer_called_without_curvature_made_points_of_its_default_curvature() -> None:
    """`exp_map_zero(mu)` is `exp_map_zero(mu, c=1.0)`: the fix measures with 1.0, not with a `c` or `self.curvature` nearby."""
    at_one = oracle_radius(exp_map_zero(MU, c=1.0), 1.0)
    for case in (
        "producer_default_curvature",
        "producer_default_curvature_beside_colour_c",
        "producer_default_curvature_beside_pytest_fixture",
    ):
        torch.testing.assert_close(fixed(case)["radii"](MU), at_one, rtol=1e-12, atol=0)
    per_head = fixed("producer_default_curvature_beside_loop_index")["radii_per_head"](torch.stack([MU, MU_B]), 2)
    torch.testing.assert_close(per_head[0], at_one, rtol=1e-12, atol=0)
    torch.testing.assert_close(per_head[1], oracle_radius(exp_map_zero(MU_B, c=1.0), 1.0), rtol=1e-12, atol=0)
    torch.testing.assert_close(
        fixed("producer_default_curvature_over_self_curvature")["Evaluator"](0.5).radii(MU), at_one, rtol=1e-12, atol=0
    )
    torch.testing.assert_close(fixed("producer_default_curvature_beside_channels")["Encoder"](3).radius(MU), at_one, rtol=1e-12, atol=0)


class _StandInBall:
    """geoopt's PoincareBall as the fixed code calls it (geoopt is not a dependency of this project):
    its signatures (`dist0(x, *, dim=-1, keepdim=False)`, `dist(x, y, *, keepdim=False, dim=-1)`, keyword-only
    options, so a misplaced argument fails) and its formulas (2/√c·artanh(√c‖x‖), 2/√c·artanh(√c‖−x ⊕ y‖)),
    written out here, not borrowed from the geometry under test. `c` is a 0-d float64 tensor, a parameter
    when learnable (the numpy fix must detach)."""

    def __init__(self, c=1.0, learnable=False):
        self.c = torch.nn.Parameter(torch.as_tensor(c, dtype=torch.float64), requires_grad=learnable)

    def expmap0(self, u):
        return exp_map_zero(u, c=self.c.item())

    def projx(self, x):
        return x

    def dist0(self, x, *, dim=-1, keepdim=False):
        sqrt_c = self.c.sqrt()
        return 2 / sqrt_c * torch.atanh(sqrt_c * x.norm(dim=dim, keepdim=keepdim))

    def dist(self, x, y, *, keepdim=False, dim=-1):
        x = -x
        xy, x2, y2 = (x * y).sum(dim, keepdim=True), (x * x).sum(dim, keepdim=True), (y * y).sum(dim, keepdim=True)
        c = self.c
        added = ((1 + 2 * c * xy + c * y2) * x + (1 - c * x2) * y) / (1 + 2 * c * xy + c**2 * x2 * y2)
        sqrt_c = c.sqrt()
        return 2 / sqrt_c * torch.atanh(sqrt_c * added.norm(dim=dim, keepdim=keepdim))


class _StandInStereographic(_StandInBall):
    def __init__(self, k=0.0, learnable=False):
        super().__init__(-k, learnable)
        self.k = -self.c


class _StandInScaled:
    """geoopt's Scaled(base, scale): the same points, a metric `scale` times the base's (an exp map of the
    tangent vector divided by scale, distances multiplied by it); its `c` would be the base's."""

    def __init__(self, base, scale, learnable=False):
        self.base, self.scale = base, scale

    def expmap0(self, u):
        return self.base.expmap0(u / self.scale)

    def dist0(self, x, *, dim=-1, keepdim=False):
        return self.scale * self.base.dist0(x, dim=dim, keepdim=keepdim)

    def dist(self, x, y, *, keepdim=False, dim=-1):
        return self.scale * self.base.dist(x, y, keepdim=keepdim, dim=dim)


@pytest.fixture
def geoopt_stand_in(monkeypatch):
    import types

    module = types.ModuleType("geoopt")
    module.PoincareBall, module.Stereographic, module.Scaled = _StandInBall, _StandInStereographic, _StandInScaled
    module.ManifoldParameter = lambda data, manifold=None: torch.nn.Parameter(data)
    monkeypatch.setitem(__import__("sys").modules, "geoopt", module)
    vendored = types.ModuleType("lib.geoopt.manifolds.stereographic")  # a project's copy of geoopt
    vendored.PoincareBall = _StandInBall
    for name in ("lib", "lib.geoopt", "lib.geoopt.manifolds"):
        monkeypatch.setitem(__import__("sys").modules, name, types.ModuleType(name))
    monkeypatch.setitem(__import__("sys").modules, vendored.__name__, vendored)


@pytest.mark.usefixtures("geoopt_stand_in")
def test_the_points_own_manifold_measures_them() -> None:
    module = fixed("manifold_own_distance")
    torch.testing.assert_close(module["radii"](MU, C), RADIUS, rtol=1e-12, atol=0)
    torch.testing.assert_close(module["radii_kept_by_column"](MU, C), RADIUS.unsqueeze(0), rtol=1e-12, atol=0)
    torch.testing.assert_close(module["pair_distance"](MU, MU_B, C), oracle_distance(POINTS, POINTS_B, C), rtol=1e-9, atol=0)
    matrix = module["all_pairs"](MU, MU_B[:4], C)  # n x m, as torch.cdist pairs the rows
    assert matrix.shape == (len(MU), 4)
    for i in range(len(MU)):
        torch.testing.assert_close(matrix[i], oracle_distance(POINTS[i].expand(4, -1), POINTS_B[:4], C), rtol=1e-9, atol=0)
    embedding = fixed("manifold_of_the_class")["CodeEmbedding"](MU, c=C)
    torch.testing.assert_close(embedding.radii(), RADIUS, rtol=1e-12, atol=0)
    torch.testing.assert_close(embedding.pair_distance(0, 1), oracle_distance(POINTS[:1], POINTS[1:2], C)[0], rtol=1e-9, atol=0)
    stale = fixed("manifold_curvature_over_stale_self_c")["Encoder"](c=C)
    torch.testing.assert_close(stale.radius(MU), RADIUS, rtol=1e-12, atol=0)
    at_one = oracle_radius(exp_map_zero(MU, c=1.0), 1.0)
    torch.testing.assert_close(fixed("stereographic_curvature_sign")["Encoder"]().radius(MU), at_one, rtol=1e-12, atol=0)


@pytest.mark.usefixtures("geoopt_stand_in")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_manifold_numpy_fix_returns_what_numpy_returned(dtype: torch.dtype) -> None:
    """`np.linalg.norm(z.detach().cpu().numpy(), axis=-1)` -> `ball.dist0(z).detach().cpu().numpy()[()]`: same dtype, same shape."""
    radii = fixed("manifold_own_distance")["numpy_radii"]
    mu = MU.to(dtype)
    result = radii(mu, C)
    assert isinstance(result, np.ndarray) and result.dtype == np.linalg.norm(mu.numpy(), axis=-1).dtype
    np.testing.assert_allclose(
        result, oracle_radius(exp_map_zero(mu, c=C).double(), C).numpy(), rtol=1e-12 if dtype == torch.float64 else 1e-5
    )
    one = radii(mu[0], C)
    assert type(one) is type(np.linalg.norm(mu[0].numpy(), axis=-1))


@pytest.mark.usefixtures("geoopt_stand_in")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_scipy_cdist_fix_returns_float64_as_scipy_does(dtype: torch.dtype) -> None:
    """scipy.spatial.distance.cdist computes in float64 and returns float64 for float32 points too."""
    module = fixed("scipy_cdist_float64")
    mu, nu = MU.to(dtype), MU_B.to(dtype)
    x, y = exp_map_zero(mu, c=C).double(), exp_map_zero(nu, c=C).double()  # the very points the code measures
    matrix = module["all_pairs"](mu, nu, C)
    assert isinstance(matrix, np.ndarray) and matrix.dtype == np.float64 and matrix.shape == (len(MU), len(MU_B))
    for i in range(len(MU)):
        np.testing.assert_allclose(matrix[i], oracle_distance(x[i].expand_as(y), y, C).numpy(), rtol=1e-9)
    diagonal = module["pair_distances_on_the_ball"](mu, nu, C)
    assert isinstance(diagonal, np.ndarray) and diagonal.dtype == np.float64
    np.testing.assert_allclose(diagonal, oracle_distance(x, y, C).numpy(), rtol=1e-9)


@pytest.mark.usefixtures("geoopt_stand_in")
def test_a_helper_measures_with_the_curvature_every_caller_passes() -> None:
    """`def radius(emb)` called only with points of `PoincareBall(c=0.7)` (or `Stereographic(k=-0.7)`): c = 0.7 = C."""
    module = fixed("unsafe_callers_curvature_helper")
    torch.testing.assert_close(module["radii"](MU), RADIUS, rtol=1e-12, atol=0)
    torch.testing.assert_close(module["radii_again"](MU), RADIUS, rtol=1e-12, atol=0)
    torch.testing.assert_close(module["pair_distance"](MU, MU_B), oracle_distance(POINTS, POINTS_B, C), rtol=1e-12, atol=0)


def test_a_curvature_the_docstring_states_is_the_one_measured_with() -> None:
    """`z: points on the Poincare ball (curvature -0.7)` / `c = 0.7`: the author's statement, C here."""
    module = fixed("curvature_from_docstring")
    torch.testing.assert_close(module["radii"](POINTS), RADIUS, rtol=1e-12, atol=0)
    torch.testing.assert_close(module["pair_distance"](POINTS, POINTS_B), oracle_distance(POINTS, POINTS_B, C), rtol=1e-12, atol=0)


@pytest.mark.usefixtures("geoopt_stand_in")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_manifold_numpy_distance_keeps_numpys_dtype_for_one_pair_too(dtype: torch.dtype) -> None:
    distance = fixed("manifold_own_distance")["numpy_pair_distance"]
    mu, nu = MU.to(dtype), MU_B.to(dtype)
    expected = oracle_distance(exp_map_zero(mu, c=C).double(), exp_map_zero(nu, c=C).double(), C).numpy()
    for a, b, want in ((mu, nu, expected), (mu[0], nu[0], expected[0])):
        result = distance(a, b, C)
        reference = np.linalg.norm(a.numpy() - b.numpy(), axis=-1)
        assert type(result) is type(reference) and result.dtype == reference.dtype
        np.testing.assert_allclose(result, want, rtol=1e-9 if dtype == torch.float64 else 1e-4)


@pytest.mark.usefixtures("geoopt_stand_in")
def test_a_squared_distance_on_the_manifold_is_the_distance_squared() -> None:
    expected = oracle_distance(POINTS, POINTS_B, C) ** 2
    torch.testing.assert_close(fixed("manifold_own_distance")["squared_distance_sum"](MU, MU_B, C), expected.sum(), rtol=1e-9, atol=0)


@pytest.mark.usefixtures("geoopt_stand_in")
def test_a_scaled_ball_measures_with_its_own_rescaled_metric() -> None:
    """`Scaled(PoincareBall(c), 2)`: its points are the ball's exp map of u/2, its distances twice the ball's."""
    module = fixed("manifold_scaled_own_metric")
    x, y = exp_map_zero(MU / 2, c=C), exp_map_zero(MU_B / 2, c=C)
    torch.testing.assert_close(module["radii"](MU, C), 2 * oracle_radius(x, C), rtol=1e-12, atol=0)
    numpy_radii = module["numpy_radii"](MU, C)
    assert isinstance(numpy_radii, np.ndarray) and numpy_radii.dtype == np.float64
    np.testing.assert_allclose(numpy_radii, 2 * oracle_radius(x, C).numpy(), rtol=1e-12)
    torch.testing.assert_close(module["pair_distance"](MU, MU_B, C), 2 * oracle_distance(x, y, C), rtol=1e-9, atol=0)


@pytest.mark.usefixtures("geoopt_stand_in")
def test_points_read_back_through_a_store_helpers_and_a_centroid_are_measured_on_their_ball() -> None:
    module = fixed("points_read_through_copies")
    torch.testing.assert_close(module["radius_through_a_store"](MU, C), RADIUS, rtol=1e-12, atol=0)
    torch.testing.assert_close(module["radius_through_helpers"](MU, C), RADIUS, rtol=1e-12, atol=0)
    centroid = POINTS.mean(dim=0, keepdim=True)
    torch.testing.assert_close(module["radius_of_the_centroid"](MU, C), oracle_radius(centroid, C)[0], rtol=1e-12, atol=0)


@pytest.mark.usefixtures("geoopt_stand_in")
def test_a_manifold_annotated_with_a_vendored_geoopt_class_measures_its_points() -> None:
    module = fixed("manifold_vendored_geoopt_annotated")
    ball = _StandInBall(C, learnable=True)
    torch.testing.assert_close(module["radii"](ball, MU), RADIUS, rtol=1e-12, atol=0)
    torch.testing.assert_close(module["WrappedNormal"](ball).radius(MU), RADIUS, rtol=1e-12, atol=0)
