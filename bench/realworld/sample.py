"""Create or extend the label files (labels/<owner>__<name>.csv) for hand labeling.

    .venv/bin/python bench/realworld/sample.py [CHECKOUTS] [--seed 9] [--size 50] [--context 0]

For each repository: (i) every finding the current scanner reports (origin=finding) and (ii) a
seeded random sample of SIZE candidate calls that the scanner did not report (origin=sample), or all
of them when there are at most SIZE * 1.2. Rows already labeled are kept as they are (joined by path
and normalised call text, line as a tiebreak); new rows get an empty label for a person to fill in.
With --context N the script prints N lines around every unlabeled row, to read while labeling.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    DEFAULT_CHECKOUTS,
    add_scanner_argument,
    checkout_dir,
    collect_candidates,
    finding_key,
    load_repos,
    match_rows,
    read_labels,
    repo_slug,
    run_scanner,
    use_scanner_argument,
    write_labels,
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkouts", nargs="?", type=Path, default=DEFAULT_CHECKOUTS)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--size", type=int, default=50)
    ap.add_argument("--context", type=int, default=0)
    ap.add_argument("--repo", action="append")
    add_scanner_argument(ap)
    args = ap.parse_args(argv)
    use_scanner_argument(args)

    for repo in load_repos():
        name = repo["name"]
        if args.repo and name not in args.repo:
            continue
        folder = checkout_dir(args.checkouts, name)
        if not folder.exists():
            print(f"{name}: no checkout in {folder}; run checkout.py first")
            continue
        slug = repo_slug(name)
        rows = read_labels(slug)
        scan = run_scanner(folder)
        for e in scan.errors:
            print(f"{name}: SCANNER ERROR {e}")
        reported: set[tuple[str, int]] = set()
        found = []
        for f in scan.findings:
            call = finding_key(folder, f)
            reported.add((f["path"], f["line"]))
            found.append(dict(path=f["path"], line=f["line"], call=call))
        matched = match_rows(rows, found)
        for i, f in enumerate(found):
            if i not in matched:
                rows.append(dict(repo=name, **f, label="", reason="", origin="finding"))
        cands = [c for c in collect_candidates(folder) if (c.path, c.line) not in reported]
        rng = random.Random(f"{args.seed}:{name}")
        if len(cands) > args.size * 1.2:
            chosen = rng.sample(cands, args.size)
        else:
            chosen = cands
        chosen = sorted(chosen, key=lambda c: (c.path, c.line, c.col))
        items = [dict(path=c.path, line=c.line, call=c.call) for c in chosen]
        matched = match_rows(rows, items)
        for i, it in enumerate(items):
            if i not in matched:
                rows.append(dict(repo=name, **it, label="", reason="", origin="sample"))
        rows.sort(key=lambda r: (r["origin"] != "finding", r["path"], int(r["line"])))
        write_labels(slug, rows)
        todo = [r for r in rows if not r["label"]]
        print(f"{name}: {len(rows)} rows, {len(todo)} unlabeled ({len(cands)} unreported candidates)")
        if args.context:
            for r in todo:
                lines = (folder / r["path"]).read_text(errors="replace").splitlines()
                lo, hi = max(0, int(r["line"]) - 1 - args.context), int(r["line"]) + args.context // 2
                print(f"\n=== {r['path']}:{r['line']}  [{r['origin']}]  {r['call']}")
                for i in range(lo, min(hi, len(lines))):
                    print(f"{i + 1:5d}{'>' if i + 1 == int(r['line']) else ' '} {lines[i]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
