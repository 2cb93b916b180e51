"""Turn a TreeAudit into the Markdown report, or into JSON/CSV rows (one per run, one per file).

Markdown tables are built here with tabulate, from cells that already went through the
same `md`/`code` escaping the templates use (`audit.render`), so a run named
`| <script> [x](y)` stays one inert cell. The page layout lives in
templates/checkpoints.md.j2.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from audit.checkpoints.fields import METRIC_NAMES
from audit.checkpoints.rankings import RANKINGS, best_runs, pareto_front
from audit.checkpoints.records import INVALID, UNSAFE, WARNING, FileRecord, RunRecord
from audit.checkpoints.tree_audit import TreeAudit
from audit.render import escape_markdown, inline_code, render

STATUSES = ("complete", "partial", "crashed", "empty")
VERDICTS = ("valid", "invalid", "unsafe", "empty")
_DIGITS = {"coverage": None, "hierarchy_A": 4, "hierarchy_B": 4, "richness": 5, "r_v0": 2, "r_v9": 2, "dist_corr": 3, "Q": 3}


def format_metric(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    if not math.isfinite(value):
        return str(value)
    if name == "coverage":
        return f"{100 * value:.1f} %"
    return f"{value:.{_DIGITS[name]}f}"


def run_reasons(run: RunRecord, severities: tuple[str, ...] = (UNSAFE, INVALID)) -> list[str]:
    """Each distinct problem once, prefixed by the files that have it."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for problem in run.problems:
        if problem.severity in severities:
            grouped.setdefault((problem.code, problem.message), [])
    for record in run.files:
        for problem in record.problems:
            if problem.severity in severities:
                grouped.setdefault((problem.code, problem.message), []).append(record.path.name)
    return [f"{', '.join(files) + ': ' if files else ''}{message} [{code}]" for (code, message), files in grouped.items()]


def _table(headers: list[str], rows: list[list[str]]) -> str:
    from tabulate import tabulate

    if not rows:
        return "_none_"
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _run_row(run: RunRecord) -> list[str]:
    metrics = run.metrics
    primary = run.primary
    return [
        escape_markdown(run.name),
        run.status,
        run.verdict,
        *(format_metric(name, metrics.get(name)) for name in ("coverage", "hierarchy_B", "richness", "Q")),
        str(len(run.files)),
        inline_code(primary.path.name) if primary else "–",
        escape_markdown(run.rule),
    ]


def _version_key(run: RunRecord) -> tuple[int, ...]:
    """v5_11_3 -> (5, 11, 3), so v5_5 sorts before v5_10."""
    return tuple(int(part) for part in re.findall(r"\d+", run.name))


def _notes(run: RunRecord) -> str:
    if run.verdict in (INVALID, UNSAFE):
        return escape_markdown(f"{run.verdict.upper()}: " + "; ".join(run_reasons(run)))
    if run.status != "complete":
        return escape_markdown(f"{run.status}: {run.status_reason}")
    warnings = run_reasons(run, (WARNING,))
    return escape_markdown("; ".join(warnings)) if warnings else ""


def markdown_context(audit: TreeAudit, plot: str) -> dict[str, Any]:
    """Everything templates/checkpoints.md.j2 renders; tables pre-built and escaped."""
    runs = audit.runs
    categories = sorted({run.category for run in runs})
    headers = ["run", "status", "verdict", "coverage", "hierarchy_B", "richness", "Q", "files", "best file", "matched rule"]
    production = [
        [escape_markdown(run.name.replace("_", ".")), *(format_metric(n, run.metrics.get(n)) for n in ("coverage", "hierarchy_B", "richness", "r_v0", "r_v9", "Q")), _notes(run)]
        for run in sorted((run for run in runs if run.category == "PRODUCTION"), key=_version_key)
    ]
    trouble = [run for run in runs if run.verdict in (INVALID, UNSAFE) or run.status == "crashed"]
    return {
        "root": str(audit.root),
        "generated": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "seconds": f"{audit.seconds:.2f}",
        "summary": _summary(audit),
        "category_tables": [(name, _table(headers, [_run_row(run) for run in runs if run.category == name])) for name in categories],
        "production_table": _table(["Version", "Coverage", "Hier_B", "Richness", "r_v0", "r_v9", "Q", "Notes"], production),
        "rankings": [
            (label, _table(["run", metric, "coverage", "status"], [
                [escape_markdown(run.name), format_metric(metric, run.metrics.get(metric)), format_metric("coverage", run.metrics.get("coverage")), run.status]
                for run in best_runs(runs, metric, descending)
            ]))
            for metric, label, descending in RANKINGS
        ],
        "pareto_table": _table(["run", "hierarchy_B", "richness", "Q"], [
            [escape_markdown(run.name), *(format_metric(n, run.metrics.get(n)) for n in ("hierarchy_B", "richness", "Q"))]
            for run in pareto_front(runs)
        ]),
        "trouble_table": _table(["run", "verdict", "status", "reasons"], [
            [escape_markdown(run.name), run.verdict, escape_markdown(f"{run.status} ({run.status_reason})"),
             escape_markdown("; ".join(run_reasons(run)) or "–")]
            for run in trouble
        ]),
        "unsafe_files": [(record.relpath, record.imports) for record in audit.files if any(p.severity == UNSAFE for p in record.problems)],
        "recommendations": _recommendations(runs),
        "notes": audit.notes,
        "plot": plot,
    }


def _summary(audit: TreeAudit) -> dict[str, Any]:
    runs = audit.runs
    statuses = Counter(run.status for run in runs)
    verdicts = Counter(run.verdict for run in runs)
    return {
        "runs": len(runs),
        "files": len(audit.files),
        "loaded": sum(record.loaded for record in audit.files),
        "statuses": [(name, statuses.get(name, 0)) for name in STATUSES],
        "verdicts": [(name, verdicts.get(name, 0)) for name in VERDICTS],
        "categories": sorted(Counter(run.category for run in runs).items()),
        "unsafe_files": sum(any(p.severity == UNSAFE for p in record.problems) for record in audit.files),
    }


def _recommendations(runs: list[RunRecord]) -> list[tuple[str, list[str]]]:
    """(advice, run names) pairs; empty lists are dropped."""
    codes = {run.name: {p.code for p in run.all_problems} for run in runs}
    advice = [
        ("Delete or quarantine (unsafe pickle imports; never load these)", [r.name for r in runs if r.verdict == UNSAFE]),
        ("Archive: crashed or empty runs", [r.name for r in runs if r.status in ("crashed", "empty")]),
        ("Archive: copies of another run", [r.name for r in runs if "duplicate" in codes[r.name]]),
        ("Do not use: learned nothing (metrics are inherited, not learned)", [r.name for r in runs if "learned-nothing" in codes[r.name]]),
        ("Investigate: other invalid runs", [r.name for r in runs if r.verdict == INVALID and not codes[r.name] & {"duplicate", "learned-nothing"}]),
        ("Add a README (purpose, validation status, known issues)", [r.name for r in runs if r.files and not r.has_readme]),
        ("Store the config (no config file, none in the checkpoint)", [r.name for r in runs if r.files and not r.has_config]),
    ]
    return [(text, names) for text, names in advice if names]


def render_markdown(audit: TreeAudit, plot: str = "") -> str:
    return render("checkpoints.md.j2", **markdown_context(audit, plot))


def run_rows(audit: TreeAudit) -> list[dict[str, Any]]:
    return [
        {
            "row": "run",
            "run": run.name,
            "category": run.category,
            "rule": run.rule,
            "status": run.status,
            "status_reason": run.status_reason,
            "verdict": run.verdict,
            "files": len(run.files),
            "path": run.primary.relpath if run.primary else None,
            **{name: run.metrics.get(name) for name in METRIC_NAMES},
            "epoch": run.primary.fields.epoch if run.primary else None,
            "has_readme": run.has_readme,
            "has_config": run.has_config,
            "problems": "; ".join(run_reasons(run, (UNSAFE, INVALID, WARNING))),
        }
        for run in audit.runs
    ]


def file_rows(audit: TreeAudit) -> list[dict[str, Any]]:
    def row(record: FileRecord) -> dict[str, Any]:
        return {
            "row": "file",
            "run": record.run,
            "path": record.relpath,
            "size": record.size,
            "kind": record.kind,
            "load": record.verdict,
            "load_reason": record.reason,
            "imports": " ".join(record.imports),
            "layout": record.fields.layout,
            "epoch": record.fields.epoch,
            **{name: record.fields.metrics.get(name) for name in METRIC_NAMES},
            "tensors": record.tensor_count,
            "parameters": record.parameter_count,
            "architecture": record.architecture,
            "content_hash": record.content_hash,
            "problems": "; ".join(f"{p.message} [{p.code}]" for p in record.problems),
        }

    return [row(record) for record in audit.files]


def render_table_format(audit: TreeAudit, output_format: str) -> str:
    """JSON ({summary, runs, files}) or CSV (runs then files, a `row` column tells them apart)."""
    import pandas

    runs, files = pandas.DataFrame(run_rows(audit)), pandas.DataFrame(file_rows(audit))
    if output_format == "csv":
        return pandas.concat([runs, files], ignore_index=True, sort=False).to_csv(index=False)
    summary = _summary(audit)
    document = {
        "root": str(audit.root),
        "summary": {**summary, "statuses": dict(summary["statuses"]), "verdicts": dict(summary["verdicts"]), "categories": dict(summary["categories"])},
        "runs": json.loads(runs.to_json(orient="records")),
        "files": json.loads(files.to_json(orient="records")),
    }
    return json.dumps(document, indent=2) + "\n"


def plot_path_for(output: Path) -> Path:
    return output.with_suffix(".png")
