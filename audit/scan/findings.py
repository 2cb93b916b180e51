"""What the scanner reports, and what a codemod needs to rewrite it.

This is the contract between `vaeaudit.scan` (which decides *that* something is wrong) and
`codemods` (which decides *how* to rewrite it): the codemod locates the offending call by
its span and builds the replacement from the `FixHint`, so neither side re-derives the
other's reasoning.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FixHint:
    """The Euclidean operation a finding flagged, decomposed into source snippets.

    `function` is the canonical name of what the code calls, whatever alias it used:
    "torch.norm", "torch.Tensor.norm", "torch.linalg.norm", "torch.linalg.vector_norm",
    "numpy.linalg.norm", "torch.dist", "torch.cdist",
    "torch.nn.functional.pairwise_distance", "scipy.spatial.distance.euclidean",
    "scipy.spatial.distance.cdist", "sqrt-sum-of-squares" for hand-written forms, or
    "sum-of-squared-differences" for a squared distance (`((x - y) ** 2).sum(-1)`).
    `x` and `y` are the source code of the hyperbolic operand(s) exactly as written (for
    the norm of a difference `a - b`: x="a", y="b"; for a radius y is None). `dim`,
    `keepdim` and `p` hold the source of those arguments (`ord` for numpy), or None when
    absent. `backend` is "torch" or "numpy" (what the result is).
    `manifold` is the manifold object the operands lie on, as an expression valid at the finding
    (`ball`, `self.manifold`, `code_emb.manifold`), when one certain binding tells it; `manifold_kind`
    its geoopt class and `manifold_origin` where it was built (`PoincareBall (src/emb.py:9)`).
    The fix then calls that object's own `dist`/`dist0`: no curvature to find, learnable c kept.
    `curvature` is the literal c of the operands when they are a function's parameters and every call in the
    project passes points of a ball of that fixed curvature; `curvature_note` says where it came from, or
    (without `curvature`) why the callers prove none.
    """

    function: str
    x: str
    y: str | None = None
    dim: str | None = None
    keepdim: str | None = None
    p: str | None = None
    backend: str = "torch"
    manifold: str | None = None
    manifold_kind: str | None = None
    manifold_origin: str | None = None
    curvature: str | None = None
    curvature_note: str | None = None


@dataclass(frozen=True)
class Finding:
    """One rule violation at one place, with the reasoning that led to it.

    Lines are 1-based, columns 1-based (as ruff prints them); the span covers the whole
    offending expression (the call, or the `sqrt(...)` of a hand-written norm).
    `evidence` explains why the operand is hyperbolic, one step per entry, e.g.
    "z_A <- outputs['z_A_hyp'] (line 401)". `confidence` is "high", "medium" or "low".
    In a notebook, `cell` is the cell's number (as Jupyter counts) and lines count within it.
    """

    path: str
    rule: str
    message: str
    line: int
    col: int
    end_line: int
    end_col: int
    confidence: str
    evidence: tuple[str, ...] = ()
    fix: FixHint | None = field(default=None, compare=False)
    cell: int | None = None
