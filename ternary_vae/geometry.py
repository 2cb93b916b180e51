"""Poincaré-ball geometry (curvature −c, ball radius 1/√c), accurate in float32.

Pure functions on torch tensors: leading dims broadcast, the last dim holds coordinates,
and `c` is a positive float or a tensor broadcastable to `x[..., :1]`.

Why this module exists instead of the usual formulas: in float32 the Möbius/artanh form
of the distance is ~1 % wrong at dist0 = 3 and useless beyond 9, and clamping points to
radius 1 − 4e-3 (as geoopt does) zeroes the radial gradient beyond dist0 ≈ 6. Here every
reduction and every transcendental runs in float64, distances use the asinh form, which
has no 1 − tanh cancellation, and no point is clamped short of what its dtype can hold.
Results come back in the input dtype.

Boundary policy: points on or outside the boundary are not points of the ball. Raising
on them would cost a device sync per call, so instead every function treats such a
point as if it lay at radius (1 − 2⁻⁴⁰)/√c in its own direction (dist0 = 41·ln 2/√c ≈
28.4/√c, the farthest float64 still resolves). Outputs and gradients stay finite for
every finite input. Points inside that radius, which includes all of float32's range
(dist0 ≈ 17.3/√c), are never moved. Call `project_to_ball` to bring points into the
range your dtype can represent.
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor
Curvature = float | Tensor

_WORK = torch.float64
_EPS = torch.finfo(_WORK).eps
_HUGE = 1e100
# Where a pulled point sits: the last radius at which float64 still resolves 1 − c‖x‖²
# (≈ 1.8e-12) to 0.03 %, so boundary points get one well-defined dist0 = ln(2⁴¹) ≈ 28.4.
_PULL_RADIUS = 1.0 - 2.0**-40
# Below this norm the maps below equal their linear limit to float64 precision, and
# above it the 1/‖x‖² of their gradients cannot overflow.
_TINY = 1e-100
# Pairs of rows whose squared gap is below this share of ‖x‖² + ‖y‖² (per coordinate) lose
# digits in the matmul identity ‖x−y‖² = ‖x‖² + ‖y‖² − 2⟨x, y⟩ and are recomputed directly.
_CANCELLATION_SHARE = 1e-9


def _check_points(*tensors: Tensor) -> None:
    for tensor in tensors:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"expected a torch.Tensor of points, got {type(tensor).__name__}")
        if not tensor.is_floating_point():
            raise TypeError(f"points must have a floating dtype, got {tensor.dtype}")
        if tensor.dim() == 0:
            raise ValueError("points must have at least one dimension (the last holds coordinates)")
    dims = {tensor.shape[-1] for tensor in tensors}
    if len(dims) > 1:
        shapes = ", ".join(str(tuple(tensor.shape)) for tensor in tensors)
        raise ValueError(f"points must have the same coordinate (last) dimension, got shapes {shapes}")


def _work(x: Tensor) -> Tensor:
    """x in float64, with float64 vectors beyond 1e100 scaled down along their direction.

    One explicit float64 copy is cheaper than letting each mixed-dtype op convert again.
    Only float64 coordinates can be so large that their squares overflow a norm; such a
    vector is far outside the ball (or saturates tanh) either way, so its direction is
    all that matters, and it must not turn into inf·0 = NaN.
    """
    if x.dtype != _WORK:
        return x.to(_WORK)
    return x / (x.abs().amax(dim=-1, keepdim=True) / _HUGE).clamp_min(1.0)


def _sqrt_curvature(c: Curvature, like: Tensor) -> Tensor:
    """√c in float64 on `like`'s device, after checking c > 0 (a tensor c keeps its grad)."""
    if isinstance(c, Tensor):
        if not c.is_floating_point():
            raise TypeError(f"curvature c must be a floating tensor, got {c.dtype}")
        if bool((c <= 0).any()) or not bool(torch.isfinite(c).all()):
            raise ValueError("curvature c must be finite and > 0 everywhere")
        return c.to(device=like.device, dtype=_WORK).sqrt()
    if isinstance(c, bool) or not isinstance(c, (int, float)):
        raise TypeError(f"curvature c must be a float or a tensor, got {type(c).__name__}")
    if not 0 < c < float("inf"):
        raise ValueError(f"curvature c must be finite and > 0, got {c}")
    return torch.tensor(float(c), dtype=_WORK, device=like.device).sqrt()


def _inside_radius(dtype: torch.dtype) -> float:
    """Largest √c‖x‖ that stays inside the ball after rounding coordinates to dtype.

    Rounding moves a norm by at most half an ulp (relative), so 1 − eps is safe; float64
    could go further, but the boundary policy would pull such points back anyway.
    """
    return min(1.0 - torch.finfo(dtype).eps, _PULL_RADIUS)


def _norm(x: Tensor) -> Tensor:
    """Euclidean norm over the last dim, kept; zero (not NaN) gradient at 0."""
    return torch.linalg.vector_norm(x, dim=-1, keepdim=True)


def _squared_norm(x: Tensor) -> Tensor:
    return _norm(x).square()


def _into_ball(x: Tensor, sqrt_c: Tensor) -> Tensor:
    """x in float64, with points on or outside the boundary pulled to `_PULL_RADIUS`.

    Multiplying by R / max(√c‖x‖, R) leaves inside points bit-for-bit unchanged and has a
    finite gradient everywhere, which a `torch.where` with a division would not.
    """
    x = _work(x)
    return x * _pull_factor(_norm(x), sqrt_c)


def _pull_factor(norm: Tensor, sqrt_c: Tensor) -> Tensor:
    """R / max(√c‖x‖, R): 1 inside the pull radius, what brings ‖x‖ back onto it outside."""
    return _PULL_RADIUS / (sqrt_c * norm).clamp_min(_PULL_RADIUS)


def _gap(squared_norm: Tensor, c: Tensor) -> Tensor:
    """1 − c‖x‖² from ‖x‖², floored so that rounding at the boundary cannot reach 0."""
    return (1.0 - c * squared_norm).clamp_min(_EPS)


def _distance(squared_difference: Tensor, gap_product: Tensor, sqrt_c: Tensor) -> Tensor:
    """(2/√c)·asinh(√(c‖x−y‖² / ((1−c‖x‖²)(1−c‖y‖²)))), the cancellation-free distance.

    Algebraically equal to the usual (2/√c)·artanh(√c‖−x ⊕ y‖); the square root is taken
    only where the argument is positive so that the gradient at x = y is 0, not NaN. A NaN
    argument (a NaN coordinate) stays NaN: reading it as 0 would make a diverged point
    look like one at the origin.
    """
    ratio = sqrt_c.square() * squared_difference / gap_product
    positive = ~(ratio <= 0)  # true for NaN as well
    root = torch.where(positive, ratio, torch.ones_like(ratio)).sqrt()
    return 2.0 / sqrt_c * torch.where(positive, torch.asinh(root), torch.zeros_like(root))


def _pair_distance(x: Tensor, y: Tensor, sqrt_c: Tensor) -> Tensor:
    """Distance (kept dim) between float64 points already inside the ball."""
    c = sqrt_c.square()
    return _distance(_squared_norm(x - y), _gap(_squared_norm(x), c) * _gap(_squared_norm(y), c), sqrt_c)


def _pulled_norm(norm: Tensor, sqrt_c: Tensor) -> Tensor:
    """The norm a point has after `_into_ball`, from its norm alone (no copy of the point)."""
    return norm * _pull_factor(norm, sqrt_c)


def _radius(pulled_norm: Tensor, sqrt_c: Tensor) -> Tensor:
    """Distance from the origin (kept dim) of a point with this (pulled) norm."""
    squared_norm = pulled_norm.square()
    return _distance(squared_norm, _gap(squared_norm, sqrt_c.square()), sqrt_c)


def _mobius_add(x: Tensor, y: Tensor, sqrt_c: Tensor) -> Tensor:
    """x ⊕_c y for float64 points inside the ball; the result is kept inside too."""
    c = sqrt_c.square()
    xy = (x * y).sum(dim=-1, keepdim=True)
    x2, y2 = _squared_norm(x), _squared_norm(y)
    numerator = (1 + 2 * c * xy + c * y2) * x + (1 - c * x2) * y
    # The denominator is ≥ (1 − c‖x‖‖y‖)² > 0 in exact arithmetic (≈ 1e-24 for two pulled
    # points); the floor only stops rounding from making it vanish.
    denominator = (1 + 2 * c * xy + c.square() * x2 * y2).clamp_min(_EPS**2)
    return _into_ball(numerator / denominator, sqrt_c)


def _rescale(x: Tensor, norm: Tensor, length: Tensor, ratio_at_zero: Tensor | float) -> Tensor:
    """x·length/‖x‖; where x ≈ 0, x·ratio_at_zero (the limit of length/‖x‖).

    Scaling x rather than a unit vector keeps the Jacobian right at x = 0 (the exp and
    log maps are smooth there), and the masked division keeps the gradient free of NaN.
    """
    nonzero = norm > _TINY
    ratio = length / torch.where(nonzero, norm, torch.ones_like(norm))
    return x * torch.where(nonzero, ratio, ratio_at_zero)


def lambda_x(x: Tensor, c: Curvature = 1.0, keepdim: bool = False) -> Tensor:
    """Conformal factor λ_x = 2 / (1 − c‖x‖²): how much the metric stretches at x."""
    _check_points(x)
    sqrt_c = _sqrt_curvature(c, x)
    factor = 2.0 / _gap(_pulled_norm(_norm(_work(x)), sqrt_c).square(), sqrt_c.square())
    factor = factor.to(x.dtype)
    return factor if keepdim else factor.squeeze(-1)


def mobius_add(x: Tensor, y: Tensor, c: Curvature = 1.0) -> Tensor:
    """Möbius addition x ⊕_c y, the ball's analogue of a translation by y after x."""
    _check_points(x, y)
    sqrt_c = _sqrt_curvature(c, x)
    total = _mobius_add(_into_ball(x, sqrt_c), _into_ball(y, sqrt_c), sqrt_c)
    return total.to(torch.result_type(x, y))


def poincare_distance(x: Tensor, y: Tensor, c: Curvature = 1.0, keepdim: bool = False) -> Tensor:
    """Geodesic distance d_c(x, y) = (2/√c)·asinh(√c‖x−y‖ / √((1−c‖x‖²)(1−c‖y‖²))).

    Evaluated in float64 it stays within 1e-7 relative of the exact distance between the
    given float32 points up to dist0 ≈ 15 (the tests hold it to 1e-6 up to 12), where the
    float32 artanh(‖−x ⊕ y‖) form is off by tens of percent.
    """
    _check_points(x, y)
    sqrt_c = _sqrt_curvature(c, x)
    distance = _pair_distance(_into_ball(x, sqrt_c), _into_ball(y, sqrt_c), sqrt_c)
    distance = distance.to(torch.result_type(x, y))
    return distance if keepdim else distance.squeeze(-1)


def poincare_radius(x: Tensor, c: Curvature = 1.0, keepdim: bool = False) -> Tensor:
    """Hyperbolic distance from the origin, dist0(x) = (2/√c)·artanh(√c‖x‖).

    This, not ‖x‖, is "the radius" of a point of the ball; computed in the asinh form for
    the same accuracy as `poincare_distance`.
    """
    _check_points(x)
    sqrt_c = _sqrt_curvature(c, x)
    radius = _radius(_pulled_norm(_norm(_work(x)), sqrt_c), sqrt_c).to(x.dtype)
    return radius if keepdim else radius.squeeze(-1)


def euclidean_to_hyperbolic_radius(r: float | Tensor, c: Curvature = 1.0) -> float | Tensor:
    """dist0 of a point at Euclidean norm r: (2/√c)·artanh(√c·r), odd, ±inf from the boundary on.

    A threshold on Euclidean ball radii keeps its meaning in hyperbolic units: the map is
    increasing, so `‖z‖ < t` and `poincare_radius(z, c) < euclidean_to_hyperbolic_radius(t, c)`
    decide alike (`vaeaudit fix` writes exactly that). A float r and float c give a float.
    """
    sqrt_c = _sqrt_curvature(c, r if isinstance(r, Tensor) else torch.empty(()))
    scaled = torch.as_tensor(r, dtype=_WORK, device=sqrt_c.device) * sqrt_c
    radius = 2.0 * torch.atanh(scaled.clamp(-1.0, 1.0)) / sqrt_c
    return radius if isinstance(r, Tensor) or isinstance(c, Tensor) else float(radius)


def _fix_close_pairs(squared_difference: Tensor, x: Tensor, y: Tensor, x2: Tensor, y2: Tensor) -> Tensor:
    """Recompute ‖x−y‖² directly where the matmul identity cancelled most digits.

    Works through the close pairs in chunks no bigger than the result itself, so even a
    cloud of identical points never costs O(n·m·d) memory.
    """
    share = _CANCELLATION_SHARE * x.shape[-1]
    close = (squared_difference <= share * (x2.unsqueeze(-1) + y2.unsqueeze(-2))).nonzero(as_tuple=True)
    if close[0].numel() == 0:
        return squared_difference
    leading = squared_difference.shape[:-2]
    x = x.expand(*leading, *x.shape[-2:])
    y = y.expand(*leading, *y.shape[-2:])
    chunk = max(1, squared_difference.numel() // x.shape[-1])
    direct = []
    for start in range(0, close[0].numel(), chunk):
        *batch, rows, cols = (index[start : start + chunk] for index in close)
        direct.append((x[(*batch, rows)] - y[(*batch, cols)]).square().sum(dim=-1))
    return squared_difference.index_put(close, torch.cat(direct))


def poincare_distance_matrix(x: Tensor, y: Tensor | None = None, c: Curvature = 1.0) -> Tensor:
    """All pairwise distances between the rows of x (…, n, d) and y (…, m, d): (…, n, m).

    ‖x−y‖² comes from a float64 matmul, so memory is O(n·m), never O(n·m·d); pairs so
    close that the matmul identity cancels (and the float32 `cdist` matmul path loses
    them) are recomputed from their differences. `c` must be a float or a 0-dim tensor.
    With y None, distances within x.
    """
    if y is None:
        y = x
    _check_points(x, y)
    if x.dim() < 2 or y.dim() < 2:
        raise ValueError("poincare_distance_matrix needs (..., n, d) and (..., m, d) inputs")
    if isinstance(c, Tensor) and c.dim() != 0:
        raise ValueError("poincare_distance_matrix takes a scalar curvature")
    sqrt_c = _sqrt_curvature(c, x)
    x64, y64 = _into_ball(x, sqrt_c), _into_ball(y, sqrt_c)
    x2, y2 = _squared_norm(x64).squeeze(-1), _squared_norm(y64).squeeze(-1)
    squared_difference = (x2.unsqueeze(-1) + y2.unsqueeze(-2) - 2.0 * (x64 @ y64.transpose(-1, -2))).clamp_min(0.0)
    squared_difference = _fix_close_pairs(squared_difference, x64, y64, x2, y2)
    c64 = sqrt_c.square()
    gap_product = _gap(x2, c64).unsqueeze(-1) * _gap(y2, c64).unsqueeze(-2)
    return _distance(squared_difference, gap_product, sqrt_c).to(torch.result_type(x, y))


def exp_map_zero(v: Tensor, c: Curvature = 1.0) -> Tensor:
    """Exponential map at the origin: tangent vector v ↦ tanh(√c‖v‖)·v/(√c‖v‖).

    dist0(exp_map_zero(v)) = 2‖v‖. Only the radius is clamped, to the last radius of v's
    dtype inside the ball, so the radial gradient survives as far as the dtype can
    represent (‖v‖ ≈ 8.3/√c in float32).
    """
    _check_points(v)
    sqrt_c = _sqrt_curvature(c, v)
    v64 = _work(v)
    norm = _norm(v64)
    radius = torch.tanh(sqrt_c * norm).clamp_max(_inside_radius(v.dtype)) / sqrt_c
    return _rescale(v64, norm, radius, 1.0).to(v.dtype)


def log_map_zero(y: Tensor, c: Curvature = 1.0) -> Tensor:
    """Logarithmic map at the origin (inverse of `exp_map_zero`): length dist0(y)/2 along y."""
    _check_points(y)
    sqrt_c = _sqrt_curvature(c, y)
    y64 = _work(y)
    norm = _norm(y64)
    # Rescaling the raw y by dist0/2 over its raw norm also applies the pull.
    return _rescale(y64, norm, _radius(_pulled_norm(norm, sqrt_c), sqrt_c) / 2.0, 1.0).to(y.dtype)


def exp_map(x: Tensor, v: Tensor, c: Curvature = 1.0) -> Tensor:
    """Exponential map at x: x ⊕ tanh(√c·λ_x‖v‖/2)·v/(√c‖v‖), projected like `project_to_ball`.

    The projection keeps the result a point its dtype can hold, as `exp_map_zero` does.
    """
    _check_points(x, v)
    sqrt_c = _sqrt_curvature(c, x)
    x64, v64 = _into_ball(x, sqrt_c), _work(v)
    norm = _norm(v64)
    conformal = 2.0 / _gap(_squared_norm(x64), sqrt_c.square())
    step = _rescale(v64, norm, torch.tanh(sqrt_c * conformal * norm / 2.0) / sqrt_c, conformal / 2.0)
    moved = _mobius_add(x64, step, sqrt_c).to(torch.result_type(x, v))
    return project_to_ball(moved, c=c)


def log_map(x: Tensor, y: Tensor, c: Curvature = 1.0) -> Tensor:
    """Logarithmic map at x (inverse of `exp_map`): the tangent vector at x pointing to y.

    Its length is d(x, y)/λ_x, taken from the asinh distance rather than artanh(‖−x ⊕ y‖)
    so that far points keep their accuracy; only the direction comes from −x ⊕ y.
    """
    _check_points(x, y)
    sqrt_c = _sqrt_curvature(c, x)
    x64, y64 = _into_ball(x, sqrt_c), _into_ball(y, sqrt_c)
    difference = _mobius_add(-x64, y64, sqrt_c)
    conformal = 2.0 / _gap(_squared_norm(x64), sqrt_c.square())
    # Near y = x the length d(x, y)/λ_x tends to (2/λ_x)·‖−x ⊕ y‖.
    length = _pair_distance(x64, y64, sqrt_c) / conformal
    tangent = _rescale(difference, _norm(difference), length, 2.0 / conformal)
    return tangent.to(torch.result_type(x, y))


def project_to_ball(x: Tensor, max_norm: float | None = None, c: Curvature = 1.0) -> Tensor:
    """Pull points with ‖x‖ > max_norm back just inside the sphere of radius max_norm.

    `max_norm` is a Euclidean radius and must be below the boundary 1/√c; by default (and
    at most) it is the last radius x's dtype can hold inside the ball, capped at the
    boundary policy's radius. Points already
    inside are returned unchanged, and projected points land a rounding margin inside,
    so projecting twice is the same as projecting once.
    """
    _check_points(x)
    sqrt_c = _sqrt_curvature(c, x)
    dtype_limit = _inside_radius(x.dtype) / sqrt_c
    if max_norm is None:
        limit = dtype_limit
    else:
        if not max_norm > 0 or bool((max_norm * sqrt_c >= 1).any()):
            raise ValueError(f"max_norm must be in (0, 1/sqrt(c)), got {max_norm}")
        limit = torch.minimum(torch.as_tensor(max_norm, dtype=_WORK, device=x.device), dtype_limit)
    x64 = _work(x)
    norm = _norm(x64)
    # Margin for rounding to x's dtype plus the float64 rounding of this product and of
    # the norm a later call computes, so that a second projection sees the point inside.
    target = limit * (1.0 - torch.finfo(x.dtype).eps - 16 * _EPS)
    # Dividing by max(‖x‖, limit) keeps the unused branch free of 1/‖x‖² in the gradient.
    scale = torch.where(norm > limit, target / norm.clamp_min(limit), torch.ones_like(norm))
    return (x64 * scale).to(x.dtype)


def poincare_midpoint(x: Tensor, dim: int = 0, weights: Tensor | None = None, c: Curvature = 1.0) -> Tensor:
    """The (weighted) Einstein midpoint of the points along `dim`: the hyperbolic centroid.

    A Euclidean mean of ball points stays in the ball but is not a hyperbolic centre: it
    drifts towards the origin, more so the nearer the points lie to the boundary. The
    Einstein midpoint maps the points to the Klein model (k = 2x / (1 + c‖x‖²)), averages
    them with Lorentz factors γ = 1/√(1 − c‖k‖²) as weights and maps back
    (x = k / (1 + √(1 − c‖k‖²))). It commutes with every Möbius isometry of the ball,
    returns the point itself for identical inputs and always lies inside the ball.
    `weights` broadcast against x without its last dim (one weight per point).
    """
    _check_points(x)
    if dim < 0:
        dim += x.dim()
    if dim == x.dim() - 1:
        raise ValueError("dim must not be the coordinate (last) dimension")
    sqrt_c = _sqrt_curvature(c, x)
    c64 = sqrt_c.square()
    x64 = _into_ball(x, sqrt_c)
    klein = 2 * x64 / (1 + c64 * _squared_norm(x64))
    gamma = 1 / _gap(_squared_norm(klein), c64).sqrt()
    if weights is not None:
        gamma = gamma * weights.to(device=x.device, dtype=_WORK).unsqueeze(-1)
    mean = (gamma * klein).sum(dim=dim) / gamma.sum(dim=dim)
    return (mean / (1 + _gap(_squared_norm(mean), c64).sqrt())).to(x.dtype)
