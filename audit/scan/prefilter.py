"""Skip, without parsing, files that cannot contain a finding.

A finding needs a Euclidean operation (a token like `norm`, `dist`, `sqrt`, `euclidean`,
`mse_loss`, `MSELoss`, `pow`, `square`, `** 0.5`, `** 2`, `) * (`) AND a source of hyperbolic values: a producer or projection-class identifier,
a phrase that marks an annotated or documented parameter (`vaeaudit.scan.vocabulary`), or
an identifier/string key matching the name or key patterns. Both tests run on the raw
bytes (substring checks and one pass collecting identifiers); parsing costs ~100x more,
and nearly every file of a foreign tree fails one of them (all but 3 of the 2,285
files of the installed torch package).
Sound by construction: every source the taint analysis knows appears in the text as one
of these identifiers or phrases.
"""

from __future__ import annotations

import re

from vaeaudit.scan.settings import Settings
from vaeaudit.scan.vocabulary import REQUIRED_SUBSTRINGS

_EUCLIDEAN_WORDS = (b"norm", b"dist", b"sqrt", b"euclidean", b"mse_loss", b"mseloss", b"pow", b"square")
_ROOT_OR_SQUARE_POWER = re.compile(rb"\*\*\s*(0?\.5|2(\.0*)?)\b")
_PRODUCT_OF_PARENTHESES = re.compile(rb"\)\s*\*\s*\(")  # `(a - b) * (a - b)`
_IDENTIFIERS = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


class Prefilter:
    def __init__(self, settings: Settings) -> None:
        self.source_identifiers = frozenset(
            name.encode() for name in (*settings.producers, *settings.projection_classes)
        )
        # Patterns are meant for one identifier, so they search a text of one identifier per line.
        self.word_patterns = [
            re.compile(pattern, re.IGNORECASE | re.MULTILINE) for pattern in (*settings.name_patterns, *settings.key_patterns)
        ]

    def could_match(self, source: bytes) -> bool:
        lowered = source.lower()
        if not any(word in lowered for word in _EUCLIDEAN_WORDS):
            power = b"**" in source and _ROOT_OR_SQUARE_POWER.search(source) is not None
            if not power and _PRODUCT_OF_PARENTHESES.search(source) is None:
                return False
        if any(word in lowered for word in REQUIRED_SUBSTRINGS):
            return True
        identifiers = set(_IDENTIFIERS.findall(source))
        if not identifiers.isdisjoint(self.source_identifiers):
            return True
        text = "\n".join(identifier.decode("ascii") for identifier in identifiers)
        return any(pattern.search(text) for pattern in self.word_patterns)
