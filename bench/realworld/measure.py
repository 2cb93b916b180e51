"""Precision, per-confidence precision and estimated recall of `vaeaudit scan` on the labeled repositories.

    .venv/bin/python bench/realworld/measure.py [CHECKOUTS] [--json] [--repo OWNER/NAME ...]

CHECKOUTS defaults to bench/realworld/checkouts/ (made by checkout.py). For every repository of
repos.toml that has a checkout, the script

1. runs the installed scanner (`vaeaudit scan DIR --output-format json --no-cache --isolated`);
2. gives each finding its join key: the normalised source text of the call at the finding's line
   (common.finding_key; `cell N` in a notebook), and joins findings with labels/<owner>__<name>.csv by (path, call), the
   line as a tiebreak (common.match_rows), so labels survive line shifts and scanner changes;
3. collects every candidate call (common.collect_candidates) and marks those on a reported line.

Figures (per repository and in total):

* findings; labeled bug / ok / debatable; unlabeled findings (listed at the end, to be labeled);
* precision = bug / (bug + ok) over labeled findings, overall and per confidence (high/medium/low);
* sample recall = bugs of the labeled candidate sample (origin=sample) that are reported now /
  bugs in the sample. The sample was drawn from calls the scanner did not report at labeling time,
  so it reads 0 until the scanner learns to report some of them;
* Horvitz-Thompson style recall = found bugs / (found bugs + estimated missed bugs), where
  estimated missed bugs = bug rate of the still-unreported sample rows x number of unreported
  candidate calls (+ bugs labeled on findings that the scanner no longer reports).

A ratio whose denominator is 0 prints as "n/a". A scanner crash is printed and kept in --json
(never hidden); that repository's findings then count as empty.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    DEFAULT_CHECKOUTS,
    LABELS_DIR,
    add_scanner_argument,
    checkout_dir,
    collect_candidates,
    finding_key,
    internal_errors,
    is_warning,
    load_repos,
    match_rows,
    read_labels,
    repo_slug,
    run_scanner,
    use_scanner_argument,
)

LEVELS = ("high", "medium", "low")


def ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def measure_repo(name: str, folder: Path, labels_dir: Path) -> dict:
    slug = repo_slug(name)
    labels = read_labels(slug, labels_dir)
    scan = run_scanner(folder)
    findings = []
    for f in scan.findings:
        call = finding_key(folder, f)
        findings.append(
            dict(
                path=f["path"],
                line=int(f["line"]),
                call=call,
                rule=f.get("rule", "?"),
                confidence=str(f.get("confidence", "unknown")).lower(),
                message=f.get("message", ""),
            )
        )
    matched = match_rows(labels, findings)
    counts: Counter[str] = Counter()
    by_conf: dict[str, Counter[str]] = {lvl: Counter() for lvl in LEVELS}
    unlabeled = []
    found_bug_rows: set[int] = set()
    for i, f in enumerate(findings):
        li = matched.get(i)
        label = labels[li]["label"] if li is not None else ""
        if not label:
            unlabeled.append(f)
            counts["unlabeled"] += 1
            continue
        f["label"] = label
        counts[label] += 1
        by_conf.setdefault(f["confidence"], Counter())[label] += 1
        if label == "bug":
            found_bug_rows.add(li)  # type: ignore[arg-type]

    # Candidate calls and the labeled sample.
    reported_lines = {(f["path"], f["line"]) for f in findings}
    cands = collect_candidates(folder)
    unreported = [c for c in cands if (c.path, c.line) not in reported_lines]
    sample = [r for r in labels if r.get("origin") == "sample" and r["label"]]
    # match_rows maps finding index -> sample row index: the sample rows reported now.
    reported_sample_rows = set(match_rows(sample, findings).values())
    s_bug = [i for i, r in enumerate(sample) if r["label"] == "bug"]
    s_bug_found = [i for i in s_bug if i in reported_sample_rows]
    s_unrep = [i for i, r in enumerate(sample) if i not in reported_sample_rows]
    s_unrep_bug = [i for i in s_unrep if sample[i]["label"] == "bug"]
    # Bugs labeled on earlier findings that are no longer reported: known misses.
    regressions = [r for li, r in enumerate(labels) if r.get("origin") == "finding" and r["label"] == "bug" and li not in found_bug_rows]
    found_bugs = counts["bug"]
    rate = ratio(len(s_unrep_bug), len(s_unrep))
    est_missed = (rate or 0.0) * max(0, len(unreported) - len(regressions)) + len(regressions)
    return dict(
        repo=name,
        scanner_errors=scan.errors,
        findings=len(findings),
        bug=counts["bug"],
        ok=counts["ok"],
        debatable=counts["debatable"],
        unlabeled=counts["unlabeled"],
        precision=ratio(counts["bug"], counts["bug"] + counts["ok"]),
        per_confidence={
            lvl: dict(
                findings=sum(c.values()),
                bug=c["bug"],
                ok=c["ok"],
                debatable=c["debatable"],
                precision=ratio(c["bug"], c["bug"] + c["ok"]),
            )
            for lvl, c in by_conf.items()
        },
        candidates=len(cands),
        unreported_candidates=len(unreported),
        sample_labeled=len(sample),
        sample_bugs=len(s_bug),
        sample_bugs_reported=len(s_bug_found),
        sample_recall=ratio(len(s_bug_found), len(s_bug)),
        sample_unreported=len(s_unrep),
        sample_unreported_bugs=len(s_unrep_bug),
        regressions=[dict(path=r["path"], line=r["line"], call=r["call"]) for r in regressions],
        est_missed_bugs=est_missed,
        ht_recall=ratio(found_bugs, found_bugs + est_missed),
        unlabeled_findings=unlabeled,
        labeled_findings=[f for f in findings if "label" in f],
    )


def total(results: list[dict]) -> dict:
    t: dict = dict(repo="TOTAL", scanner_errors=[e for r in results for e in r["scanner_errors"]])
    for k in (
        "findings",
        "bug",
        "ok",
        "debatable",
        "unlabeled",
        "candidates",
        "unreported_candidates",
        "sample_labeled",
        "sample_bugs",
        "sample_bugs_reported",
        "sample_unreported",
        "sample_unreported_bugs",
        "est_missed_bugs",
    ):
        t[k] = sum(r[k] for r in results)
    t["precision"] = ratio(t["bug"], t["bug"] + t["ok"])
    t["per_confidence"] = {}
    for lvl in {k for r in results for k in r["per_confidence"]}:
        c = Counter()
        for r in results:
            for k, v in r["per_confidence"].get(lvl, {}).items():
                if k != "precision":
                    c[k] += v
        t["per_confidence"][lvl] = dict(c, precision=ratio(c["bug"], c["bug"] + c["ok"]))
    t["sample_recall"] = ratio(t["sample_bugs_reported"], t["sample_bugs"])
    t["ht_recall"] = ratio(t["bug"], t["bug"] + t["est_missed_bugs"])
    t["regressions"] = [x for r in results for x in r["regressions"]]
    return t


def print_tables(results: list[dict], tot: dict) -> None:
    rows = results + [tot]
    crashes = internal_errors(tot["scanner_errors"])
    if crashes:
        print(f"WARNING: the scanner crashed on {len(crashes)} files (internal errors, listed at the end):")
        print("         the figures below count those files as having no findings and are NOT valid.\n")
    w = max(len(r["repo"]) for r in rows)
    print("Precision (labeled findings)")
    hdr = f"{'repository':<{w}}  find  bug   ok  deb  unlab  prec   P(high)      P(medium)    P(low)"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        pc = []
        for lvl in LEVELS:
            c = r["per_confidence"].get(lvl, {})
            n = c.get("bug", 0) + c.get("ok", 0)
            pc.append(f"{fmt(c.get('precision')):>4} ({c.get('bug', 0)}/{n})".ljust(12))
        print(
            f"{r['repo']:<{w}}  {r['findings']:>4} {r['bug']:>4} {r['ok']:>4} {r['debatable']:>4}"
            f"  {r['unlabeled']:>5}  {fmt(r['precision']):>4}   {'  '.join(pc)}"
        )
    print()
    print("Recall (candidate calls: norm/linalg.norm/vector_norm/dist/cdist/pdist/pairwise_distance(s)/mse_loss/sqrt-sum-sq)")
    hdr = f"{'repository':<{w}}  cand  unrep  sample  s.bugs  s.found  s.recall  unrep.rate  est.missed  HT recall"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        rate = ratio(r["sample_unreported_bugs"], r["sample_unreported"])
        print(
            f"{r['repo']:<{w}}  {r['candidates']:>4}  {r['unreported_candidates']:>5}  {r['sample_labeled']:>6}"
            f"  {r['sample_bugs']:>6}  {r['sample_bugs_reported']:>7}  {fmt(r['sample_recall']):>8}"
            f"  {fmt(rate):>10}  {r['est_missed_bugs']:>10.1f}  {fmt(r['ht_recall']):>9}"
        )
    print()
    for r in results:
        for e in r["scanner_errors"]:
            if "syntax error" in e and "internal error" not in e:
                print(f"note: {r['repo']}: the scanner reports the repository's own syntax error: {e}")
            elif is_warning(e):
                print(f"note: {r['repo']}: the scanner left part of a file unanalysed, on purpose: {e}")
            else:
                print(f"SCANNER ERROR in {r['repo']}: {e}")
    if tot["regressions"]:
        print("Bugs labeled on earlier findings that are no longer reported:")
        for x in tot["regressions"]:
            print(f"  {x['path']}:{x['line']}  {x['call']}")
    unl = [(r["repo"], f) for r in results for f in r["unlabeled_findings"]]
    if unl:
        print(f"Unlabeled findings ({len(unl)}): label them in labels/<owner>__<name>.csv")
        for repo, f in unl:
            print(f"  {repo}  {f['path']}:{f['line']}  [{f['rule']} {f['confidence']}]  {f['call']}")
    else:
        print("Unlabeled findings: none")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkouts", nargs="?", type=Path, default=DEFAULT_CHECKOUTS)
    ap.add_argument("--labels", type=Path, default=LABELS_DIR, help="folder of <owner>__<name>.csv files")
    ap.add_argument("--repo", action="append", help="only this repository (repeatable)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the tables")
    add_scanner_argument(ap)
    args = ap.parse_args(argv)
    use_scanner_argument(args)

    results = []
    missing = []
    for repo in load_repos():
        if args.repo and repo["name"] not in args.repo:
            continue
        folder = checkout_dir(args.checkouts, repo["name"])
        if not folder.exists():
            missing.append(repo["name"])
            continue
        res = measure_repo(repo["name"], folder, args.labels)
        res["commit"] = repo["commit"]
        res["control"] = bool(repo.get("control"))
        results.append(res)
    tot = total(results)
    if args.json:
        print(json.dumps(dict(repos=results, total=tot, missing_checkouts=missing), indent=2))
    else:
        print_tables(results, tot)
        if missing:
            print(f"\nNo checkout for: {', '.join(missing)} (run checkout.py)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
