"""Deliberately wrong research code for the README tour (excluded from the dogfood scan)."""

import torch
import torch.nn.functional as F

from vaeaudit.geometry import exp_map_zero


class Evaluator:
    def __init__(self, curvature: float = 1.0):
        self.curvature = curvature

    def radii(self, mu):
        z_hyp = exp_map_zero(mu, c=self.curvature)
        return torch.norm(z_hyp, dim=-1)

    def spread(self, outputs):
        z_A = outputs["z_A_hyp"]
        z_B = outputs["z_B_hyp"]
        return F.pairwise_distance(z_A, z_B)

    def in_shell(self, mu):
        r = exp_map_zero(mu).norm(dim=-1)
        return (r > 0.1) & (r < 0.99)

    def layer_scale(self, x, layer_norm):
        z_euc = layer_norm(x)
        return z_euc.norm(dim=-1)  # Euclidean on purpose: not a finding
