"""The rule registry: every rule is one module of this package (`hyp001` ... `hyp005`).

A rule module owns its code, name, documentation (what, why, example, use instead, fix
safety, options), the words the prefilter looks for, its message and its VALID/INVALID
examples; everything else derives from this registry: `vaeaudit rule` and docs/rules.md
(`vaeaudit rule --all --output-format markdown`), the SARIF rule list, `--statistics`, the
prefilter's words and the pre-commit hook descriptions. Adding a rule = its module + its
fixtures. Importing this package never imports libcst (settings and warm runs use it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    what: str
    why: str
    example: str  # INVALID: reported on the line marked `# CODE`
    fix: str  # what to use instead
    fixed_example: str  # VALID: never reported
    fix_safety: str = ""
    options: str = ""
    trigger_words: tuple[bytes, ...] = ()  # lower-case; a file without any of them holds no candidate
    preview: bool = False  # reported only with `preview = true` / `--preview`
    message: Callable[..., str] = field(default=lambda **parts: "", compare=False)
    precision: str = ""  # measured on the labeled real-world benchmark (bench/realworld), per confidence


# Measured with `.venv/bin/python bench/realworld/measure.py` and `inject.py` (20 labeled public repositories, 2026-11-28).
BENCHMARK_PRECISION = (
    "Real-world benchmark (bench/realworld/measure.py, 20 public hyperbolic repositories, 2026-11-28): "
    "6 findings on the unmodified code, all true (one radius bug copied into six training scripts): "
    "precision 6/6; by confidence: high n/a (0 findings), medium n/a (0), low 6/6. On the injected bugs "
    "(bench/realworld/inject.py) 275/396 are found (120 high, 14 medium, 141 low) with no other finding on "
    "the mutated copies. Confidence levels: high = a producer or consumer chain; medium = a name, key or "
    "annotation; low = a docstring only, or ball points on one branch only."
)


def _registry() -> dict[str, Rule]:
    from vaeaudit.scan.rules import hyp001, hyp002, hyp003, hyp004, hyp005

    return {module.RULE.code: module.RULE for module in (hyp001, hyp002, hyp003, hyp004, hyp005)}


RULES: dict[str, Rule] = _registry()


def active_rules(preview: bool) -> list[Rule]:
    """The rules a scan reports: preview-tier rules only when asked for."""
    return [rule for rule in RULES.values() if preview or not rule.preview]


def selected(code: str, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    """ruff's selection: the longest matching prefix wins; ties go to `ignore`."""
    best_select = max((len(prefix) for prefix in select if code.startswith(prefix)), default=-1)
    best_ignore = max((len(prefix) for prefix in ignore if code.startswith(prefix)), default=-1)
    return best_select >= 0 and best_select > best_ignore


def unknown_selectors(prefixes: tuple[str, ...]) -> list[str]:
    """The prefixes that select no rule (`E501`, `HYP9`): a usage error in scan and fix alike."""
    return [prefix for prefix in prefixes if not matching_rules((prefix,))]


def matching_rules(prefixes: tuple[str, ...]) -> list[Rule]:
    """Rules whose code starts with any of `prefixes` (for validating --select)."""
    return [rule for code, rule in RULES.items() if any(code.startswith(prefix) for prefix in prefixes)]
