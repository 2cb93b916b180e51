"""The public Poincaré-ball geometry: the stable import name that `vaeaudit fix` writes.

`from vaeaudit.geometry import poincare_distance` is what a fixed file imports when its
project has no geometry of its own, so this name must not move when the model package
is reorganised. The implementation lives in `vaeaudit.ternary_vae.geometry`.
"""

from vaeaudit.ternary_vae.geometry import (
    euclidean_to_hyperbolic_radius,
    exp_map,
    exp_map_zero,
    lambda_x,
    log_map,
    log_map_zero,
    mobius_add,
    poincare_distance,
    poincare_distance_matrix,
    poincare_radius,
    project_to_ball,
)

__all__ = [
    "euclidean_to_hyperbolic_radius",
    "exp_map",
    "exp_map_zero",
    "lambda_x",
    "log_map",
    "log_map_zero",
    "mobius_add",
    "poincare_distance",
    "poincare_distance_matrix",
    "poincare_radius",
    "project_to_ball",
]
