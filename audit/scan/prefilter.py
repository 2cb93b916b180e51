"""Skip, without parsing, files that cannot contain a finding or pass ball points on.

A finding needs a Euclidean operation (a trigger word of an active rule, such as `norm`,
`dist`, `sqrt`, `mse_loss`, or `** 0.5`, `** 2`, `) * (`) AND a source of hyperbolic values: a producer or projection-class identifier,
a phrase that marks an annotated or documented parameter or a curvature keyword argument (`vaeaudit.scan.vocabulary`), or
an identifier/string key matching the name or key patterns. Both tests run on the raw
bytes (substring checks and one pass collecting identifiers); parsing costs ~100x more,
and nearly every file of a foreign tree fails one of them (all but 3 of the 2,285
files of the installed torch package).
Sound by construction: every source the taint analysis knows appears in the text as one
of these identifiers or phrases.

In a project scan (`triage`), a file with a source but no Euclidean operation is still
analysed (it may hand ball points to another file), and a file with a Euclidean operation
but no source is deferred: it is parsed only if another file passes it ball points or it
calls a function known to return them.
"""

from __future__ import annotations

import re

from vaeaudit.scan.rules import active_rules
from vaeaudit.scan.settings import Settings
from vaeaudit.scan.vocabulary import (
    CURVATURE_KEYWORD_ARGUMENT,
    MANIFOLD_RECEIVER_TEXT,
    PROJECTION_ONTO_THE_BALL,
    REQUIRED_SUBSTRINGS,
)

_ROOT_OR_SQUARE_POWER = re.compile(rb"\*\*\s*(0?\.5|2(\.0*)?)\b")
_PRODUCT_OF_PARENTHESES = re.compile(rb"\)\s*\*\s*\(")  # `(a - b) * (a - b)`
_IDENTIFIERS = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_STAR_IMPORT = re.compile(rb"\bimport\s+\*")
# Consumers (`vaeaudit.scan.consumers`) make their arguments ball points: those a name says (`mobius_add`) and the
# methods of an object named like a manifold (`ball.dist(x, y)`: `MANIFOLD_RECEIVER_TEXT`).
_CONSUMER_WORDS = (b"mobius", b"log_map", b"logmap", b"dist0", b"lambda_x", b"gyration")


def identifiers(source: bytes) -> set[bytes]:
    return set(_IDENTIFIERS.findall(source))


class Prefilter:
    def __init__(self, settings: Settings) -> None:
        # the words of the rules this scan reports (`vaeaudit.scan.rules`): preview rules add theirs
        self.euclidean_words = tuple(sorted({word for rule in active_rules(settings.preview) for word in rule.trigger_words}))
        self.source_identifiers = frozenset(name.encode() for name in (*settings.producers, *settings.projection_classes))
        # Patterns are meant for one identifier, so they search a text of one identifier per line.
        self.word_patterns = [
            re.compile(pattern, re.IGNORECASE | re.MULTILINE) for pattern in (*settings.name_patterns, *settings.key_patterns)
        ]

    def could_match(self, source: bytes) -> bool:
        """Whether `source` on its own can hold a finding (a consumer's argument is a source too)."""
        return self.has_euclidean_operation(source) and (self.has_source(source) or _has_consumer(source))

    def triage(self, source: bytes) -> str:
        """ "analyse", "deferred" (a Euclidean operation, or a star import that may pass a module's names on
        (`from .layers import *` of a package), but no source) or "skip" (neither)."""
        if self.has_source(source) or _has_consumer(source):
            return "analyse"
        return "deferred" if self.has_euclidean_operation(source) or _STAR_IMPORT.search(source) else "skip"

    def has_euclidean_operation(self, source: bytes) -> bool:
        lowered = source.lower()
        if not any(word in lowered for word in self.euclidean_words):
            power = b"**" in source and _ROOT_OR_SQUARE_POWER.search(source) is not None
            if not power and _PRODUCT_OF_PARENTHESES.search(source) is None:
                return False
        return True

    def has_source(self, source: bytes) -> bool:
        lowered = source.lower()
        if any(word in lowered for word in REQUIRED_SUBSTRINGS):
            return True
        if CURVATURE_KEYWORD_ARGUMENT.search(source):
            return True  # a third-party call given a curvature: its result may be ball points
        found = identifiers(source)
        if not found.isdisjoint(self.source_identifiers):
            return True
        text = "\n".join(identifier.decode("ascii") for identifier in found)
        return any(pattern.search(text) for pattern in (PROJECTION_ONTO_THE_BALL, *self.word_patterns))


def _has_consumer(source: bytes) -> bool:
    return any(word in source for word in _CONSUMER_WORDS) or MANIFOLD_RECEIVER_TEXT.search(source) is not None
