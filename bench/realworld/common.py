"""Shared helpers of the real-world benchmark (bench/realworld/).

* ``load_repos`` reads ``repos.toml``;
* ``repo_slug`` / ``checkout_dir`` name a repository's folder (``owner__name``);
* ``run_scanner`` runs the installed ``vaeaudit scan --output-format json --no-cache`` on a folder;
* ``collect_candidates`` lists every *candidate call* of a folder: a call of ``norm``,
  ``linalg.norm``, ``vector_norm``, ``dist``, ``cdist``, ``pdist``, ``pairwise_distances``,
  ``pairwise_distance``, ``mse_loss`` or a hand-written ``sqrt(sum(x**2))`` / ``sqrt((x**2).sum())``;
* ``normalise_call`` gives the whitespace-free source text of a call, the join key of labels
  (so a label survives line shifts).
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
DEFAULT_CHECKOUTS = HERE / "checkouts"
LABELS_DIR = HERE / "labels"
LABEL_FIELDS = ["repo", "path", "line", "call", "label", "reason", "origin"]

# Call names (last attribute or bare name) that make a call a candidate.
CANDIDATE_NAMES = {
    "norm",
    "vector_norm",
    "dist",
    "cdist",
    "pdist",
    "pairwise_distances",
    "pairwise_distance",
    "mse_loss",
}
SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", "node_modules", "build", "dist"}


def load_repos(path: Path = HERE / "repos.toml") -> list[dict]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)["repo"]


def repo_slug(name: str) -> str:
    return name.replace("/", "__")


def checkout_dir(checkouts: Path, name: str) -> Path:
    return Path(checkouts) / repo_slug(name)


def normalise_call(text: str) -> str:
    """Source text of a call without whitespace or comments (quotes unified)."""
    text = re.sub(r"#[^\n]*", "", text)
    text = re.sub(r"\s+", "", text)
    return text.replace('"', "'")


def vaeaudit_exe() -> str:
    exe = Path(sys.executable).with_name("vaeaudit")
    if exe.exists():
        return str(exe)
    return str(REPO_ROOT / ".venv" / "bin" / "vaeaudit")


def scanner_cmd() -> list[str]:
    """The scanner command: the installed `vaeaudit`, or $VAEAUDIT_SCANNER (a command prefix such as
    "env PYTHONPATH=/tmp/vaeaudit-head .venv/bin/python -m audit") to measure another version."""
    custom = os.environ.get("VAEAUDIT_SCANNER")
    return shlex.split(custom) if custom else [vaeaudit_exe()]


def internal_errors(errors: list[str]) -> list[str]:
    """Scanner errors that are not syntax errors of the scanned code nor warnings (a file or statement left
    unanalysed on purpose, such as a statement nested deeper than the limit): crashes, a scanner that
    cannot start, output that is not JSON."""
    return [e for e in errors if "internal error" in e or ("syntax error" not in e and not is_warning(e))]


def is_warning(error: str) -> bool:
    return '"severity": "warning"' in error


@dataclass
class ScanResult:
    findings: list[dict]
    errors: list[str]
    returncode: int


def run_scanner(folder: Path, extra_args: list[str] | None = None) -> ScanResult:
    """Run ``vaeaudit scan FOLDER --output-format json --no-cache --isolated``.

    ``--isolated`` so that a third-party repository's own configuration (or none) cannot change
    what the benchmark measures. Returns the findings with ``path`` made relative to FOLDER.
    A crash (exit 2, or output that is not JSON) is returned in ``errors``, never hidden.
    """
    cmd = [
        *scanner_cmd(),
        "scan",
        str(folder),
        "--output-format",
        "json",
        "--no-cache",
        "--isolated",
        "--exit-zero",
        "-q",
        *(extra_args or []),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=folder)
    errors: list[str] = []
    try:
        data = json.loads(proc.stdout) if proc.stdout.strip() else []
    except json.JSONDecodeError as exc:
        errors.append(f"scanner output is not JSON ({exc}): {proc.stdout[:300]!r}")
        data = []
    if proc.returncode not in (0, 1) and proc.stderr.strip():
        errors.append(f"exit {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    if isinstance(data, dict):
        errs = data.get("errors") or []
        for e in errs:
            errors.append(json.dumps(e) if not isinstance(e, str) else e)
        data = data.get("findings", [])
    findings = []
    for f in data:
        f = dict(f)
        p = Path(f.get("path") or f.get("filename") or f.get("file"))
        try:
            p = p.resolve().relative_to(Path(folder).resolve())
        except ValueError:
            pass
        f["path"] = p.as_posix()
        findings.append(f)
    return ScanResult(findings, errors, proc.returncode)


# --------------------------------------------------------------------------- candidates


@dataclass
class Candidate:
    path: str
    line: int
    col: int
    call: str  # normalised source text
    func: str  # enclosing function (for the labeler)


def _callee_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _is_square(node: ast.expr) -> bool:
    """``x ** 2`` / ``x.pow(2)`` / ``x * x`` / ``torch.square(x)``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return isinstance(node.right, ast.Constant) and node.right.value == 2
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return ast.dump(node.left) == ast.dump(node.right)
    if isinstance(node, ast.Call):
        name = _callee_name(node.func)
        if name == "pow" and node.args and isinstance(node.args[-1], ast.Constant):
            return node.args[-1].value == 2
        if name == "square":
            return True
    return False


def _is_sum_of_squares(node: ast.expr) -> bool:
    """``(x**2).sum(..)``, ``torch.sum(x**2, ..)``, ``x.pow(2).sum()`` and the like."""
    if not isinstance(node, ast.Call):
        return False
    name = _callee_name(node.func)
    if name != "sum":
        return False
    if isinstance(node.func, ast.Attribute) and _is_square(node.func.value):
        return True
    return bool(node.args) and _is_square(node.args[0])


def is_candidate(node: ast.Call) -> bool:
    name = _callee_name(node.func)
    if name in CANDIDATE_NAMES:
        return True
    if name == "sqrt":
        # torch.sqrt(sum of squares) / (sum of squares).sqrt()
        if node.args and _is_sum_of_squares(node.args[0]):
            return True
        if isinstance(node.func, ast.Attribute) and _is_sum_of_squares(node.func.value):
            return True
    return False


class _Collector(ast.NodeVisitor):
    def __init__(self, path: str, source: str) -> None:
        self.path = path
        self.source = source
        self.stack: list[str] = []
        self.out: list[Candidate] = []

    def _scope(self, node):  # type: ignore[no-untyped-def]
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scope

    def visit_Call(self, node: ast.Call) -> None:
        if is_candidate(node):
            text = ast.get_source_segment(self.source, node) or ast.unparse(node)
            self.out.append(
                Candidate(
                    self.path,
                    node.lineno,
                    node.col_offset + 1,
                    normalise_call(text),
                    ".".join(self.stack) or "<module>",
                )
            )
        self.generic_visit(node)


def iter_py_files(folder: Path):
    folder = Path(folder)
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for f in sorted(files):
            if f.endswith(".py"):
                yield Path(root) / f


def collect_candidates(folder: Path) -> list[Candidate]:
    """Every candidate call of the Python files under FOLDER (files that do not parse are skipped)."""
    out: list[Candidate] = []
    for file in iter_py_files(folder):
        try:
            source = file.read_text(encoding="utf-8", errors="replace")
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        col = _Collector(file.relative_to(folder).as_posix(), source)
        col.visit(tree)
        out.extend(col.out)
    return out


def call_text_at(folder: Path, path: str, line: int, col: int | None = None) -> str | None:
    """Normalised text of the candidate-or-any call that starts at PATH:LINE(:COL).

    Used to give a scanner finding its join key. Prefers a candidate call on that line, then the
    outermost call starting at the column, then the outermost call on the line.
    """
    file = Path(folder) / path
    try:
        source = file.read_text(encoding="utf-8", errors="replace")
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return None
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.lineno == line]
    if not calls:
        return None
    cands = [n for n in calls if is_candidate(n)]
    pool = cands or calls
    if col is not None:
        at_col = [n for n in pool if n.col_offset + 1 == col]
        if at_col:
            pool = at_col
    # outermost (longest) first, then leftmost
    pool.sort(key=lambda n: (n.col_offset, -(n.end_col_offset or 0)))
    if cands and col is not None and not any(n.col_offset + 1 == col for n in cands):
        # finding column points inside a candidate? choose the candidate that contains the column
        containing = [n for n in cands if n.col_offset + 1 <= col <= (n.end_col_offset or 0) + 1]
        if containing:
            pool = sorted(containing, key=lambda n: (n.end_col_offset or 0) - n.col_offset)
    node = pool[0]
    text = ast.get_source_segment(source, node) or ast.unparse(node)
    return normalise_call(text)


def finding_key(folder: Path, finding: dict) -> str:
    """A finding's join key: the normalised text of its call; in a notebook (whose calls the candidate
    collector does not read) `cell N`, so that findings on the same line of different cells keep their labels."""
    call = call_text_at(folder, finding["path"], int(finding["line"]), finding.get("col"))
    if call is None and finding.get("cell") is not None:
        return f"cell {finding['cell']}"
    return call or ""


def read_labels(slug: str, labels_dir: Path = LABELS_DIR) -> list[dict]:
    file = Path(labels_dir) / f"{slug}.csv"
    if not file.exists():
        return []
    with open(file, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["line"] = int(r["line"]) if r.get("line") else 0
    return rows


def write_labels(slug: str, rows: list[dict], labels_dir: Path = LABELS_DIR) -> None:
    Path(labels_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(labels_dir) / f"{slug}.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=LABEL_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def match_rows(labels: list[dict], items: list[dict]) -> dict[int, int]:
    """Join ITEMS (dicts with path, call, line) to LABELS by (path, call), line as a tiebreak.

    Within one (path, call) group, pairs are made greedily by the smallest line difference, so a
    call text that occurs several times in a file keeps one label per occurrence and each label is
    used once. Returns {item index: label index}.
    """
    groups: dict[tuple[str, str], list[int]] = {}
    for li, lab in enumerate(labels):
        groups.setdefault((lab["path"], lab["call"]), []).append(li)
    pairs = []
    for ii, it in enumerate(items):
        for li in groups.get((it["path"], it["call"]), []):
            pairs.append((abs(int(labels[li]["line"]) - int(it["line"])), ii, li))
    pairs.sort()
    out: dict[int, int] = {}
    used: set[int] = set()
    for _, ii, li in pairs:
        if ii in out or li in used:
            continue
        out[ii] = li
        used.add(li)
    return out


def add_scanner_argument(parser) -> None:
    """--scanner: run another scanner (e.g. one frozen by freeze_scanner.py) instead of the installed one."""
    parser.add_argument(
        "--scanner",
        help="scanner command prefix instead of the installed vaeaudit, e.g. "
        '"env PYTHONPATH=/tmp/vaeaudit-head .venv/bin/python -m vaeaudit" (also $VAEAUDIT_SCANNER)',
    )


def use_scanner_argument(args) -> None:
    if args.scanner:
        os.environ["VAEAUDIT_SCANNER"] = args.scanner
