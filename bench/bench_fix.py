"""What `vaeaudit fix` repairs, what it breaks (nothing, it must be) and what it costs beside `vaeaudit scan`.

Corpora: the fix fixtures (every finding there is a true one) and, when checked out, each
real-world benchmark repository under bench/realworld/checkouts (true findings are those
hand-labelled `bug` in bench/realworld/labels; a fix applied to a finding labelled `ok`
changes correct code and is counted). Each corpus is copied to a temporary folder, fixed in
process with the default pass and, on another copy, with --unsafe-fixes; then:

- fixed: true findings fixed by each pass (done means: >= 80 % default, >= 95 % unsafe);
- broken: changed files that parsed and compiled before and no longer do (must be 0);
- second run: files a second unsafe pass changes again (must be 0: one run reaches the fixed point);
- time: `vaeaudit fix --apply` vs a cold `vaeaudit scan --no-cache`, both --isolated, on all
  corpora together, each run on a fresh copy (median of --runs; 2 shared cores make single runs noisy).

    .venv/bin/python bench/bench_fix.py [--runs 3] [--checkouts bench/realworld/checkouts]
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from vaeaudit.codemods.file_fixer import fix_paths
from vaeaudit.codemods.options import FixOptions
from vaeaudit.codemods.outcome import FIXED
from vaeaudit.scan.settings import Settings

REPO = Path(__file__).resolve().parents[1]
VAEAUDIT = Path(sys.executable).with_name("vaeaudit")
FIXTURES = REPO / "tests/fix/fixtures"
LABELS = REPO / "bench/realworld/labels"


@dataclass
class Counts:
    """Findings of one corpus and what each pass did to them."""

    findings: int = 0
    true: int = 0
    fixed: dict[str, int] = field(default_factory=lambda: {"default": 0, "unsafe": 0})
    ok_changed: dict[str, int] = field(default_factory=lambda: {"default": 0, "unsafe": 0})
    changed_files: dict[str, int] = field(default_factory=lambda: {"default": 0, "unsafe": 0})
    broken: int = 0
    second_run: int = 0
    errors: int = 0


def copy_fixtures(destination: Path) -> None:
    destination.mkdir(parents=True)
    for source in FIXTURES.glob("*.in.py"):
        shutil.copyfile(source, destination / source.name)


def labels_of(slug: str) -> dict[tuple[str, int], str] | None:
    """(path, line) -> bug/ok for one repository, or None for the fixtures (all true)."""
    path = LABELS / f"{slug}.csv"
    if not path.is_file():
        return {}
    with path.open(newline="") as handle:
        return {(row["path"], int(row["line"])): row["label"] for row in csv.DictReader(handle)}


def digests(folder: Path) -> dict[Path, str]:
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.rglob("*.py"))}


def healthy(source: bytes) -> bool:
    """Both parsers accept it and CPython compiles it."""
    try:
        compile(ast.parse(source), "<fixed>", "exec")
        cst.parse_module(source)
    except (cst.ParserSyntaxError, SyntaxError, ValueError, RecursionError):
        return False
    return True


def run_pass(folder: Path, unsafe: bool) -> list:
    settings = Settings(cache=False, project_root=folder)
    return list(fix_paths([folder], settings, FixOptions.from_settings(settings, unsafe_fixes=unsafe), apply=True))


def measure(pristine: Path, work: Path, labels: dict | None) -> Counts:
    counts = Counts()
    before = digests(pristine)
    for mode in ("default", "unsafe"):
        copy = work / mode
        shutil.copytree(pristine, copy)
        reports = run_pass(copy, unsafe=mode == "unsafe")
        for report in reports:
            counts.errors += report.error is not None
            for outcome in report.outcomes:
                finding = outcome.finding
                label = "bug" if labels is None else labels.get((Path(finding.path).relative_to(copy).as_posix(), finding.line))
                if mode == "default":
                    counts.findings += 1
                    counts.true += label == "bug"
                if outcome.status == FIXED:
                    counts.fixed[mode] += label == "bug"
                    counts.ok_changed[mode] += label == "ok"
        after = digests(copy)
        changed = [path for path, digest in after.items() if before[pristine / path.relative_to(copy)] != digest]
        counts.changed_files[mode] = len(changed)
        if mode == "unsafe":
            counts.broken = sum(
                1 for path in changed if healthy((pristine / path.relative_to(copy)).read_bytes()) and not healthy(path.read_bytes())
            )
            run_pass(copy, unsafe=True)
            counts.second_run = sum(1 for path, digest in digests(copy).items() if after[path] != digest)
    return counts


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode not in (0, 1, 2):  # 2: third-party files that do not parse (reported, not ours)
        sys.exit(f"{' '.join(command)} failed with exit {result.returncode}:\n{result.stderr[-2000:]}")
    return time.perf_counter() - start


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    -  "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command (median reported)")
    parser.add_argument("--checkouts", type=Path, default=REPO / "bench/realworld/checkouts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fix-") as temp:
        corpus = Path(temp) / "corpus"
        copy_fixtures(corpus / "fixtures")
        repositories = sorted(p for p in args.checkouts.iterdir() if p.is_dir()) if args.checkouts.is_dir() else []
        for repository in repositories:
            shutil.copytree(repository, corpus / repository.name, ignore=shutil.ignore_patterns(".git", "__pycache__"))
        rows = []
        for folder in sorted(corpus.iterdir(), key=lambda p: (p.name != "fixtures", p.name)):
            labels = None if folder.name == "fixtures" else labels_of(folder.name)
            rows.append((folder.name, measure(folder, Path(temp) / "work" / folder.name, labels)))
        header = f"{'corpus':40} {'findings':>8} {'true':>5} {'default fixed':>16} {'unsafe fixed':>16} {'ok changed d/u':>15} {'files d/u':>10} {'broken':>6} {'2nd run':>7} {'errors':>6}"
        print(header)
        total = Counts()
        for name, counts in rows:
            print(
                f"{name:40} {counts.findings:8} {counts.true:5} {counts.fixed['default']:5} {percent(counts.fixed['default'], counts.true):>10}"
                f" {counts.fixed['unsafe']:5} {percent(counts.fixed['unsafe'], counts.true):>10}"
                f" {counts.ok_changed['default']:7}/{counts.ok_changed['unsafe']:<7}"
                f" {counts.changed_files['default']:4}/{counts.changed_files['unsafe']:<5} {counts.broken:6} {counts.second_run:7} {counts.errors:6}"
            )
            if name != "fixtures":
                for key in ("findings", "true", "broken", "second_run", "errors"):
                    setattr(total, key, getattr(total, key) + getattr(counts, key))
                for key in ("fixed", "ok_changed", "changed_files"):
                    for mode in ("default", "unsafe"):
                        getattr(total, key)[mode] += getattr(counts, key)[mode]
        if repositories:
            print(
                f"{'real-world total':40} {total.findings:8} {total.true:5} {total.fixed['default']:5} {percent(total.fixed['default'], total.true):>10}"
                f" {total.fixed['unsafe']:5} {percent(total.fixed['unsafe'], total.true):>10}"
                f" {total.ok_changed['default']:7}/{total.ok_changed['unsafe']:<7}"
                f" {total.changed_files['default']:4}/{total.changed_files['unsafe']:<5} {total.broken:6} {total.second_run:7} {total.errors:6}"
            )
        else:
            print(f"(no real-world checkouts under {args.checkouts})")
        files = len(list(corpus.rglob("*.py")))
        scan_times, fix_times = [], []
        for run in range(args.runs):
            for times, command in ((scan_times, ["scan", "--no-cache"]), (fix_times, ["fix", "--apply"])):
                work = Path(temp) / f"timed-{command[0]}-{run}"
                shutil.copytree(corpus, work)
                times.append(timed([str(VAEAUDIT), *command, "--isolated", str(work)]))
                shutil.rmtree(work)
        scan, fix = statistics.median(scan_times), statistics.median(fix_times)
        print(f"time on all corpora ({files} files): cold scan {scan:.2f} s, fix --apply {fix:.2f} s = {fix / scan:.2f}x "
              f"(medians of {args.runs}; 2 shared cores)")


if __name__ == "__main__":
    main()
