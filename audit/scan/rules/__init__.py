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


# Measured with `.venv/bin/python bench/realworld/measure.py` and `inject.py` (see bench/realworld/README.md §5-6).
BENCHMARK_PRECISION = (
    "Real-world benchmark (bench/realworld/measure.py, 245 public hyperbolic repositories, every finding and a "
    "sample of 4,817 unreported calls labeled by hand, 2026-11-29, scanner 0ee2769): 143 findings, 117 true, 3 false, "
    "23 debatable: precision 117/120; by confidence: high 44/44, medium 31/32, low 42/44. 39 of the 72 labeled bugs of "
    "the sample are found (Horvitz-Thompson recall estimate 71 %). Held out from tuning, as first scanned: "
    "thirty blocks of 225 repositories gave 73/149 true findings (high 34/54) and 73/143 bugs found; the latest "
    "block (22 repositories, scanner 5746c61) gave 4/7 (medium 2/5, low 2/2) and found its 4 bugs. On bugs injected "
    "into correct code (bench/realworld/inject.py, pattern A, scanner 0ee2769) 194/498 are found (187 of the 466 "
    "mutations of the 6d2b3f6 run, which found 187); away from the injected lines the "
    "mutated copies show only the unmutated findings. Confidence levels: "
    "high = a producer or consumer chain; "
    "medium = a name, key or annotation, a call named for putting its argument on the ball (`to_poincare_ball`), a "
    "method reached by its name alone, the embedding table of a class trained "
    "with a Poincaré distance (its own, or a training loop's), the other values of a store filled at one site, a "
    "Euclidean mean of ball points, or a file on disk another file proves to hold ball points; low = a docstring "
    "only (a parameter's entry, a line that says what it returns, a `Returns` section), ball points on one branch "
    "only, the result of a third-party call given a curvature, a table whose "
    "Poincaré distance a caller may replace, a checkpoint's tensor "
    "read by its parameter's key, a function read as a Poincaré distance from its text, or a consumer met only under "
    "`if is_hyperbolic:`."
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
