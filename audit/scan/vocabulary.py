"""The words that make a parameter (or a call's result) a ball point, shared by the dataflow and the prefilter.

The prefilter must let through every file in which the dataflow could find such a
parameter, so both read their vocabulary from here.
"""

from __future__ import annotations

import re

HYPERBOLIC_ANNOTATION = re.compile(r"poincar|hyperbolic|manifold(tensor|parameter)|ballpoint", re.IGNORECASE)
EUCLIDEAN_ANNOTATION = re.compile(r"tangent|euclid", re.IGNORECASE)
HYPERBOLIC_DOCSTRING = re.compile(r"poincar|hyperbolic|ball point|points? (on|in) the ball", re.IGNORECASE)
EUCLIDEAN_DOCSTRING = re.compile(r"euclid|tangent", re.IGNORECASE)
# Lower-case substrings: any text the two hyperbolic patterns match contains one of them.
REQUIRED_SUBSTRINGS = (b"poincar", b"hyperbolic", b"manifoldtensor", b"manifoldparameter", b"ballpoint", b"ball point", b"the ball")
# A call named for putting its argument on the ball returns ball points, wherever it is defined (`to_poincare_ball(x)`,
# `_project_to_ball(x)`, `project_in_ball(x)`, `embed_to_disk(x)`): the producers' list spelled as one pattern. Not
# "hyperbolic" (`lift_to_hyperbolic` may build hyperboloid points), and `in_` only after a verb (`in_ball(x)` tests).
PROJECTION_ONTO_THE_BALL = re.compile(
    r"^_*(?:(?:project(?:ion)?|proj|map|embed|lift|convert)_?(?:to|into|onto|in)|to|into|onto)_(?:the_)?"
    r"(?:poincare|ball|dis[ck])(?:_?(?:ball|dis[ck]|space|manifold))?$",
    re.IGNORECASE | re.MULTILINE,
)
# A call of code the scan cannot read given one of these keywords returns ball points, maybe (`analyzer._given_curvature`).
CURVATURE_KEYWORDS = frozenset({"c", "curvature", "curv", "kappa"})
# The same as a keyword argument in raw text, for the prefilter: `f(tree, curvature=1.0)`.
CURVATURE_KEYWORD_ARGUMENT = re.compile(rb"[(,]\s*(" + "|".join(sorted(CURVATURE_KEYWORDS)).encode() + rb")\s*=(?!=)")
# An object so named is a manifold: `ball.dist(x, y)`, `self.manifold.logmap(x, y)` take its points (`consumers`).
MANIFOLD_RECEIVER = r"manifold|ball|poincar|hyperbolic|(?<![a-z])hyp(?![a-z])|geometry|stereographic"
# The same in raw text, for the prefilter: a file that may call such a consumer holds a source of ball points.
MANIFOLD_RECEIVER_TEXT = re.compile(MANIFOLD_RECEIVER.encode(), re.IGNORECASE)
