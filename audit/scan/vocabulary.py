"""The words that make a parameter a ball point, shared by the dataflow and the prefilter.

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
