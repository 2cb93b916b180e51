"""What `vaeaudit fix` repairs, what it breaks (nothing, it must be) and what it costs beside `vaeaudit scan`.

Corpora:

- the fix fixtures (every finding there is a true one);
- each real-world benchmark repository under bench/realworld/checkouts, unmutated (true findings
  are those hand-labelled `bug` in bench/realworld/labels; a fix applied to a finding labelled
  `ok` changes correct code and is counted; the default pass may change a file only where it fixes
  a labelled bug);
- the injected-bug corpus: `bench/realworld/inject.py --out DIR --keep` mutates correct call sites
  of those repositories, one copy per pattern (DIR/<pattern>/<repository>) and lists every mutation
  in DIR/manifest.json; every finding at an injected line (file and line) is a true one. The
  scanner's recall grows, so the number of true findings does too: only the fractions matter.

Each corpus is copied to a temporary folder, fixed in process with the default pass and, on
another copy, with --unsafe-fixes; then:

- fixed: true findings fixed by each pass (done means: >= 80 % default, >= 95 % unsafe);
- other fixed: findings fixed that are neither true nor labelled (injected corpus: away from the
  injected lines);
- broken: changed files that parsed and compiled before and no longer do (must be 0);
- second run: files a second unsafe pass changes again (must be 0: one run reaches the fixed point);
- time: `vaeaudit fix --apply` vs a cold `vaeaudit scan --no-cache`, both --isolated, on the fixtures
  and the checkouts together, each run on a fresh copy (median of --runs; 2 shared cores make
  single runs noisy).

With --reasons, the reasons the default pass left true findings are counted (what to make safe next).

    .venv/bin/python bench/bench_fix.py [--runs 3] [--checkouts bench/realworld/checkouts]
                                        [--injected DIR | --no-injected] [--reasons]

Without --injected DIR (the kept output of an earlier `inject.py --out DIR --keep`), inject.py
is run here (it also scans every mutated copy: minutes).
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from vaeaudit.codemods.file_fixer import fix_paths
from vaeaudit.codemods.options import FixOptions
from vaeaudit.codemods.outcome import FIXED, REFUSED
from vaeaudit.scan.settings import Settings

REPO = Path(__file__).resolve().parents[1]
VAEAUDIT = Path(sys.executable).with_name("vaeaudit")
FIXTURES = REPO / "tests/fix/fixtures"
LABELS = REPO / "bench/realworld/labels"
INJECT = REPO / "bench/realworld/inject.py"


@dataclass
class Counts:
    """Findings of one corpus and what each pass did to them."""

    findings: int = 0
    true: int = 0
    fixed: dict[str, int] = field(default_factory=lambda: {"default": 0, "unsafe": 0})
    ok_changed: dict[str, int] = field(default_factory=lambda: {"default": 0, "unsafe": 0})
    other_fixed: dict[str, int] = field(default_factory=lambda: {"default": 0, "unsafe": 0})
    changed_files: dict[str, int] = field(default_factory=lambda: {"default": 0, "unsafe": 0})
    broken: int = 0
    second_run: int = 0
    errors: int = 0
    # Why the default pass left true findings ("unsafe: ..." or "refused: ...", numbers blurred).
    left: Counter = field(default_factory=Counter)

    def add(self, other: Counts) -> None:
        for key in ("findings", "true", "broken", "second_run", "errors"):
            setattr(self, key, getattr(self, key) + getattr(other, key))
        for key in ("fixed", "ok_changed", "other_fixed", "changed_files"):
            for mode in ("default", "unsafe"):
                getattr(self, key)[mode] += getattr(other, key)[mode]
        self.left.update(other.left)


def copy_fixtures(destination: Path) -> None:
    destination.mkdir(parents=True)
    for source in FIXTURES.glob("*.in.py"):
        shutil.copyfile(source, destination / source.name)


def labels_of(slug: str) -> dict[tuple[str, int], str]:
    """(path, line) -> bug/ok for one repository (empty when it has no labels)."""
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


def injected_labels(manifest: list[dict]) -> dict[tuple[str, str], dict[tuple[str, int], str]]:
    """(pattern, repository folder) -> {(path in that copy, line): "bug"} for every injected line."""
    trees: dict[tuple[str, str], dict[tuple[str, int], str]] = {}
    for mutation in manifest:
        pattern, slug, path = mutation["bug_path"].split("/", 2)
        trees.setdefault((pattern, slug), {})[(path, int(mutation["bug_line"]))] = "bug"
    return trees


def run_inject(destination: Path) -> None:
    """bench/realworld/inject.py --out DESTINATION --keep (its own engineer owns it: called, never imported)."""
    result = subprocess.run([sys.executable, str(INJECT), "--out", str(destination), "--keep", "--json"], capture_output=True, text=True)
    if result.returncode != 0 or not (destination / "manifest.json").is_file():
        sys.exit(f"inject.py failed with exit {result.returncode}:\n{result.stderr[-2000:]}")


def run_pass(folder: Path, unsafe: bool) -> list:
    settings = Settings(cache=False, project_root=folder)
    return list(fix_paths([folder], settings, FixOptions.from_settings(settings, unsafe_fixes=unsafe), apply=True))


def measure(pristine: Path, work: Path, labels: dict | None) -> Counts:
    """Both passes on copies of `pristine`; `labels` (path, line) -> bug/ok, None when every finding is true."""
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
                    counts.other_fixed[mode] += label is None
                elif mode == "default" and label == "bug":
                    kind = "refused" if outcome.status == REFUSED else "unsafe"
                    counts.left.update(f"{kind}: {re.sub(r'[0-9]+', 'N', reason)[:150]}" for reason in outcome.reasons[:1])
        after = digests(copy)
        changed = [path for path, digest in after.items() if before[pristine / path.relative_to(copy)] != digest]
        counts.changed_files[mode] = len(changed)
        if mode == "unsafe":
            counts.broken = sum(
                1 for path in changed if healthy((pristine / path.relative_to(copy)).read_bytes()) and not healthy(path.read_bytes())
            )
            if changed:  # a tree the first pass left alone gives the same answer again
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


HEADER = (
    f"{'corpus':40} {'findings':>8} {'true':>5} {'default fixed':>16} {'unsafe fixed':>16} {'ok changed d/u':>15}"
    f" {'other fixed d/u':>15} {'files d/u':>10} {'broken':>6} {'2nd run':>7} {'errors':>6}"
)


def rates(counts: Counts) -> str:
    fixed, true = counts.fixed, counts.true
    default, unsafe = fixed["default"], fixed["unsafe"]
    return f"default {default}/{true} = {percent(default, true).strip()}, unsafe {unsafe}/{true} = {percent(unsafe, true).strip()}"


def row(name: str, counts: Counts) -> str:
    return (
        f"{name:40} {counts.findings:8} {counts.true:5} {counts.fixed['default']:5} {percent(counts.fixed['default'], counts.true):>10}"
        f" {counts.fixed['unsafe']:5} {percent(counts.fixed['unsafe'], counts.true):>10}"
        f" {counts.ok_changed['default']:7}/{counts.ok_changed['unsafe']:<7}"
        f" {counts.other_fixed['default']:7}/{counts.other_fixed['unsafe']:<7}"
        f" {counts.changed_files['default']:4}/{counts.changed_files['unsafe']:<5}"
        f" {counts.broken:6} {counts.second_run:7} {counts.errors:6}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command (median reported; 0: no timing)")
    parser.add_argument("--checkouts", type=Path, default=REPO / "bench/realworld/checkouts")
    parser.add_argument("--injected", type=Path, default=None, help="kept output of `inject.py --out DIR --keep` (else it is run here)")
    parser.add_argument("--no-injected", action="store_true", help="skip the injected-bug corpus")
    parser.add_argument("--reasons", action="store_true", help="count why the default pass left true findings")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fix-") as temp:
        corpus = Path(temp) / "corpus"
        copy_fixtures(corpus / "fixtures")
        repositories = sorted(p for p in args.checkouts.iterdir() if p.is_dir()) if args.checkouts.is_dir() else []
        for repository in repositories:
            shutil.copytree(repository, corpus / repository.name, ignore=shutil.ignore_patterns(".git", "__pycache__"))
        print(HEADER)
        fixtures = measure(corpus / "fixtures", Path(temp) / "work" / "fixtures", None)
        print(row("fixtures", fixtures))
        real = Counts()
        for folder in sorted(p for p in corpus.iterdir() if p.name != "fixtures"):
            counts = measure(folder, Path(temp) / "work" / folder.name, labels_of(folder.name))
            print(row(folder.name, counts))
            real.add(counts)
        if repositories:
            print(row("real-world total (unmutated)", real))
        else:
            print(f"(no real-world checkouts under {args.checkouts})")
        injected = Counts()
        if repositories and not args.no_injected:
            source = args.injected
            if source is None:
                source = Path(temp) / "injected"
                run_inject(source)
            trees = injected_labels(json.loads((source / "manifest.json").read_text()))
            for pattern in sorted({pattern for pattern, _ in trees}):
                per_pattern = Counts()
                for (tree_pattern, slug), labels in sorted(trees.items()):
                    if tree_pattern == pattern:
                        per_pattern.add(measure(source / pattern / slug, Path(temp) / "work-injected" / pattern / slug, labels))
                print(row(f"injected {pattern}", per_pattern))
                injected.add(per_pattern)
            print(row("injected total", injected))
        print()
        print(f"fixtures: {rates(fixtures)}")
        if injected.true:
            print(f"injected: {rates(injected)}")
        if real.true:
            print(f"real-world (unmutated, labelled bugs): {rates(real)}")
        both = Counts()
        both.add(fixtures)
        both.add(injected)
        both.add(real)
        print(f"fixtures + injected + real-world: {rates(both)}")
        print(
            f"unmutated checkouts: the default pass changed {real.changed_files['default']} file(s), fixing "
            f"{real.fixed['default']} labelled bug(s); it changed {real.ok_changed['default']} finding(s) labelled ok and "
            f"{real.other_fixed['default']} unlabelled (both must be 0); "
            f"broken {fixtures.broken + real.broken + injected.broken} (must be 0); "
            f"second run changed {fixtures.second_run + real.second_run + injected.second_run} (must be 0)"
        )
        if args.reasons:
            print("\nwhy the default pass left true findings (fixtures + injected + real-world):")
            for reason, count in both.left.most_common():
                print(f"{count:5}  {reason}")
        if args.runs <= 0:
            return
        files = len(list(corpus.rglob("*.py")))
        scan_times, fix_times = [], []
        for run in range(args.runs):
            for times, command in ((scan_times, ["scan", "--no-cache"]), (fix_times, ["fix", "--apply"])):
                work = Path(temp) / f"timed-{command[0]}-{run}"
                shutil.copytree(corpus, work)
                times.append(timed([str(VAEAUDIT), *command, "--isolated", str(work)]))
                shutil.rmtree(work)
        scan, fix = statistics.median(scan_times), statistics.median(fix_times)
        print(
            f"time on the fixtures and checkouts ({files} files): cold scan {scan:.2f} s, fix --apply {fix:.2f} s = {fix / scan:.2f}x "
            f"(medians of {args.runs}; 2 shared cores)"
        )


if __name__ == "__main__":
    main()
