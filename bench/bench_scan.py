"""Benchmark `vaeaudit scan` against TorchFix on the installed torch package's own sources.

Both tools run as their installed command lines on the same files in the same run
(median of several runs), so start-up costs count for both. TorchFix parses every file
with libcst metadata and takes ~30 minutes for the whole torch tree on 2 cores, so it runs
on a deterministic sample (every K-th file, sorted by path); `vaeaudit` is also timed on
the whole tree, cold and warm, warm on the first ~1,000 files (the issue's target:
<= 1 s), and, as an honest worst case, with every sampled file parsed and analysed in one
process (what a hyperbolic-VAE codebase costs, where the prefilter skips little).

    .venv/bin/python bench/bench_scan.py                 # sample every 8th file, 3 runs
    .venv/bin/python bench/bench_scan.py --every 1       # the whole tree for both (slow)
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CACHE = ".vaeaudit_cache/bench"  # inside the project root, as the scanner requires


def torch_sources() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        sys.exit("torch is not installed in this interpreter")
    return Path(spec.origin).parent


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if completed.returncode not in (0, 1):
        sys.exit(f"{command[0]} failed ({completed.returncode}): {completed.stderr[-2000:]}")
    return elapsed


def vaeaudit(paths: list[str]) -> list[str]:
    return [str(BIN / "vaeaudit"), "scan", "--exit-zero", "--cache-dir", CACHE, "--output-format", "json", *paths]


def median_of(runs: int, command: list[str], *, cold: bool) -> float:
    times = []
    for _ in range(runs):
        if cold:
            shutil.rmtree(REPO / CACHE, ignore_errors=True)
        times.append(timed(command))
    return statistics.median(times)


def without_prefilter(files: list[Path]) -> float:
    """Seconds to parse and analyse every file in this process: the worst case, a tree where
    every file mentions hyperbolic values (a hyperbolic-VAE codebase), so the prefilter
    skips nothing."""
    from vaeaudit.scan.analyzer import scan_source
    from vaeaudit.scan.reading import SourceError
    from vaeaudit.scan.settings import load_settings

    settings = load_settings(REPO)
    start = time.perf_counter()
    for path in files:
        try:
            scan_source(path.read_bytes(), str(path), settings)
        except SourceError:
            pass
    return time.perf_counter() - start


def lines_in(files: list[Path]) -> int:
    return sum(path.read_bytes().count(b"\n") for path in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--every", type=int, default=8, help="TorchFix comparison on every K-th file (default 8)")
    parser.add_argument("--runs", type=int, default=3, help="runs per vaeaudit measurement (median)")
    parser.add_argument("--torchfix-runs", type=int, default=1, help="runs of TorchFix (median; each takes minutes)")
    parser.add_argument("--skip-torchfix", action="store_true", help="only time vaeaudit")
    args = parser.parse_args()

    root = torch_sources()
    files = sorted(root.rglob("*.py"))
    sample = files[:: args.every]
    first_thousand = files[:1000]
    print(f"corpus: {root} ({len(files)} files, {lines_in(files):,} lines)")
    print(f"sample: every {args.every}th file: {len(sample)} files, {lines_in(sample):,} lines")

    sample_paths = [str(path) for path in sample]
    cold = median_of(args.runs, vaeaudit(sample_paths), cold=True)
    warm = median_of(args.runs, vaeaudit(sample_paths), cold=False)
    rows = [("vaeaudit cold, sample", cold), ("vaeaudit warm, sample", warm)]
    tree_cold = median_of(args.runs, vaeaudit([str(root)]), cold=True)
    tree_warm = median_of(args.runs, vaeaudit([str(root)]), cold=False)
    thousand = [str(path) for path in first_thousand]
    timed(vaeaudit(thousand))  # fill the cache for exactly these paths
    thousand_warm = median_of(max(args.runs, 5), vaeaudit(thousand), cold=False)
    rows += [
        (f"vaeaudit cold, whole tree ({len(files)} files)", tree_cold),
        (f"vaeaudit warm, whole tree ({len(files)} files)", tree_warm),
        (f"vaeaudit warm, {len(first_thousand)} files", thousand_warm),
    ]
    worst = without_prefilter(sample)
    rows.append(("vaeaudit, sample, no prefilter, 1 process", worst))
    torchfix = None
    if not args.skip_torchfix:
        torchfix = median_of(args.torchfix_runs, [str(BIN / "torchfix"), *sample_paths], cold=False)
        rows.append(("TorchFix, sample", torchfix))
    shutil.rmtree(REPO / CACHE, ignore_errors=True)

    width = max(len(label) for label, _ in rows)
    for label, seconds in rows:
        print(f"{label:<{width}}  {seconds:8.2f} s")
    if torchfix is not None:
        print(f"cold speed-up over TorchFix (same files): {torchfix / cold:.1f}x (target >= 20x)")
        print(f"warm speed-up over TorchFix (same files): {torchfix / warm:.1f}x")
        print(f"worst case, every file parsed on 1 core vs TorchFix on all cores: {torchfix / worst:.1f}x")
    print(f"warm re-scan of {len(first_thousand)} unchanged files: {thousand_warm:.2f} s (target <= 1 s)")


if __name__ == "__main__":
    main()
