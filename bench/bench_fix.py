"""How long `vaeaudit fix --apply --unsafe-fixes` takes beside `vaeaudit scan`, and proof it breaks nothing.

Corpus: every .py file of the installed torch package plus this project's fix fixtures,
copied into a temporary folder (the venv is never modified). Each timed run gets a fresh
copy, so neither command benefits from the other's writes or from a warm cache. After
the fix, every file must still parse (libcst and CPython), and a second fix run must
change nothing (idempotence).

    .venv/bin/python bench/bench_fix.py [--runs 3]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import libcst as cst

REPO = Path(__file__).resolve().parents[1]
VAEAUDIT = Path(sys.executable).with_name("vaeaudit")


def build_corpus(destination: Path) -> int:
    """Copy torch's Python sources and the fixtures' inputs; return the number of lines."""
    torch_root = Path(sysconfig.get_paths()["purelib"]) / "torch"
    lines = 0
    for source in [*torch_root.rglob("*.py"), *(REPO / "tests/fix/fixtures").glob("*.in.py")]:
        base = torch_root if source.is_relative_to(torch_root) else REPO / "tests/fix/fixtures"
        target = destination / ("torch" if base == torch_root else "fixtures") / source.relative_to(base)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        lines += source.read_bytes().count(b"\n")
    return lines


def timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed with exit {result.returncode}:\n{result.stderr[-2000:]}")
    return elapsed, result


def snapshot(folder: Path) -> dict[Path, str]:
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.rglob("*.py"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command (median reported)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fix-") as temp:
        pristine = Path(temp) / "pristine"
        lines = build_corpus(pristine)
        files = len(list(pristine.rglob("*.py")))
        scan_times, fix_times = [], []
        for run in range(args.runs):
            for times, command in ((scan_times, ["scan"]), (fix_times, ["fix", "--apply", "--unsafe-fixes"])):
                work = Path(temp) / f"{command[0]}-{run}"
                shutil.copytree(pristine, work)
                elapsed, result = timed([str(VAEAUDIT), *command, str(work)])
                times.append(elapsed)
        fix_summary = result.stderr.strip().splitlines()[-1]  # the last command run is a fix
        fixed = Path(temp) / f"fix-{args.runs - 1}"
        changed = [path for path, digest in snapshot(fixed).items() if digest != snapshot_of(pristine, fixed, path)]
        # Only changed files can break; a file that did not parse before (py312 syntax) is not ours.
        broken = [path for path in changed if parses(pristine / path.relative_to(fixed)) and not parses(path)]
        before = snapshot(fixed)
        timed([str(VAEAUDIT), "fix", "--apply", "--unsafe-fixes", str(fixed)])
        second_run_changes = sum(1 for path, digest in snapshot(fixed).items() if before[path] != digest)
        print(f"corpus: {files} files, {lines} lines (torch {torch_version()} sources + fix fixtures)")
        print(f"last fix run: {fix_summary}")
        print(f"files changed by fix: {len(changed)} ({sum(1 for p in changed if 'torch' in p.relative_to(fixed).parts[:1])} "
              f"in torch); files that no longer parse: {len(broken)}; files changed by a second fix run: {second_run_changes}")
        scan, fix = statistics.median(scan_times), statistics.median(fix_times)
        print(f"vaeaudit scan:                       {scan:7.2f} s  (median of {args.runs}, cold cache)")
        print(f"vaeaudit fix --apply --unsafe-fixes: {fix:7.2f} s  (median of {args.runs})  = {fix / scan:.2f}x scan")
        assert not broken, f"fix broke {broken}"
        assert second_run_changes == 0, "fix is not idempotent"


def snapshot_of(pristine: Path, fixed: Path, path: Path) -> str:
    return hashlib.sha256((pristine / path.relative_to(fixed)).read_bytes()).hexdigest()


def parses(path: Path) -> bool:
    """Both parsers must accept the file (libcst too, as the next `fix` run will need it)."""
    source = path.read_bytes()
    try:
        ast.parse(source)
        cst.parse_module(source)
    except (cst.ParserSyntaxError, SyntaxError, ValueError):
        return False
    return True


def torch_version() -> str:
    from importlib.metadata import version

    return version("torch")


if __name__ == "__main__":
    main()
