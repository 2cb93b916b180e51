"""Sort runs into the original audit's categories by name, first matching rule wins.

The rules are data (overridable in `[tool.vaeaudit.checkpoints]`), and the report shows
which rule matched so a surprising category can be traced to its pattern. PRODUCTION
must match the whole name: the original classifier searched for `v5_<minor>` anywhere,
which let `v5_11_annealing` (an annealing experiment) into the production table. Runs
named by `vaeaudit train`'s default (`ternary_<date>-<time>`) are TRAINER_RUN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FALLBACK_CATEGORY = "OTHER"


@dataclass(frozen=True)
class CategoryRule:
    """`pattern` is a regex; `full_match` requires it to match the whole run name."""

    category: str
    pattern: str
    full_match: bool = False

    def matches(self, run_name: str) -> bool:
        flags = re.IGNORECASE
        found = re.fullmatch(self.pattern, run_name, flags) if self.full_match else re.search(self.pattern, run_name, flags)
        return found is not None

    def describe(self) -> str:
        return f"{self.category}: {'fullmatch' if self.full_match else 'search'} /{self.pattern}/"


DEFAULT_RULES: tuple[CategoryRule, ...] = (
    CategoryRule("PRODUCTION", r"v5_\d+(_\d+)?", full_match=True),
    CategoryRule("HOMEOSTATIC_EXPERIMENT", r"homeostatic|homeostasis|structural"),
    CategoryRule("SWEEP_TEST", r"sweep|stability|stable"),
    CategoryRule("TEST", r"test|validation|debug"),
    CategoryRule("TRAINING_EXPERIMENT", r"progressive|annealing|learnable"),
    CategoryRule("LOSS_EXPERIMENT", r"radial|hierarchy|rich"),
    CategoryRule("FINAL_PUSH", r"scratch|final"),
    # `vaeaudit train` without --run-name: ternary_<date>-<time>
    CategoryRule("TRAINER_RUN", r"ternary_\d{8}-\d{6}", full_match=True),
)


def classify(run_name: str, rules: tuple[CategoryRule, ...] = DEFAULT_RULES) -> tuple[str, str]:
    """(category, the rule that matched) for a run name; OTHER when none matches."""
    for rule in rules:
        if rule.matches(run_name):
            return rule.category, rule.describe()
    return FALLBACK_CATEGORY, "no rule matched"
