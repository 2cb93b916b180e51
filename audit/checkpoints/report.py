"""Turn a TreeAudit into the Markdown report, or into JSON/CSV rows (one per run, one per file).

Markdown tables are built here with tabulate, from cells that already went through the
same `md`/`code` escaping the templates use (`vaeaudit.render`), so a run named
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

from vaeaudit.checkpoints.definitions import RECOMPUTE_SET
from vaeaudit.checkpoints.metric_names import METRIC_NAMES
from vaeaudit.checkpoints.rankings import RANKINGS, best_runs, is_ranked, pareto_front
from vaeaudit.checkpoints.records import INVALID, UNSAFE, WARNING, FileRecord, RunRecord
from vaeaudit.checkpoints.run_status import STATUSES
from vaeaudit.checkpoints.tree_audit import TreeAudit
from vaeaudit.render import escape_markdown, inline_code, render

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


RUN_HEADERS = ["run", "status", "verdict", "coverage", "hierarchy_B", "richness", "Q", "files", "best file", "matched rule"]


def _run_row(run: RunRecord) -> list[str]:
    primary = run.primary
    return [
        escape_markdown(run.name),
        run.status,
        run.verdict,
        *_metric_cells(run, ("coverage", "hierarchy_B", "richness", "Q")),
        str(len(run.checkpoints)),
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


def _metric_cells(run: RunRecord, names: tuple[str, ...]) -> list[str]:
    return [format_metric(name, run.metrics.get(name)) for name in names]


def markdown_context(audit: TreeAudit, plot: str) -> dict[str, Any]:
    """Everything templates/checkpoints.md.j2 renders; tables pre-built and escaped."""
    runs = audit.runs
    return {
        "root": str(audit.root),
        "generated": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "seconds": f"{audit.seconds:.2f}",
        "summary": _summary(audit),
        "category_tables": [
            (name, _table(RUN_HEADERS, [_run_row(run) for run in runs if run.category == name]))
            for name in sorted({run.category for run in runs})
        ],
        "production_table": _production_table(runs),
        "rankings": [(label, _ranking_table(runs, metric, descending)) for metric, label, descending in RANKINGS],
        "pareto_table": _table(
            ["run", "hierarchy_B", "richness", "Q"],
            [[escape_markdown(run.name), *_metric_cells(run, ("hierarchy_B", "richness", "Q"))] for run in pareto_front(runs)],
        ),
        "trouble_table": _table(
            ["run", "verdict", "status", "reasons"],
            [
                [
                    escape_markdown(run.name),
                    run.verdict,
                    escape_markdown(f"{run.status} ({run.status_reason})"),
                    escape_markdown("; ".join(run_reasons(run)) or "–"),
                ]
                for run in runs
                if run.verdict in (INVALID, UNSAFE) or run.status in ("crashed", "interrupted")
            ],
        ),
        "unsafe_files": [(record.relpath, record.imports) for record in audit.files if _is_unsafe(record)],
        "recommendations": _recommendations(runs),
        "metric_sources_table": _metric_sources_table(runs),
        "recompute_table": _recompute_table(runs) if any(run.recomputed is not None for run in runs) else "",
        "definition_set": RECOMPUTE_SET,
        "not_audited": _not_audited(runs),
        "notes": audit.notes,
        "plot": plot,
    }


def _production_table(runs: list[RunRecord]) -> str:
    """The original audit's "Key Historical Checkpoints" table, oldest version first."""
    production = sorted((run for run in runs if run.category == "PRODUCTION"), key=_version_key)
    return _table(
        ["Version", "Coverage", "Hier_B", "Richness", "r_v0", "r_v9", "Q", "Notes"],
        [[escape_markdown(run.name.replace("_", ".")), *_metric_cells(run, PRODUCTION_METRICS), _notes(run)] for run in production],
    )


PRODUCTION_METRICS = ("coverage", "hierarchy_B", "richness", "r_v0", "r_v9", "Q")


def _ranking_table(runs: list[RunRecord], metric: str, descending: bool) -> str:
    return _table(
        ["run", metric, "coverage", "status"],
        [[escape_markdown(run.name), *_metric_cells(run, (metric, "coverage")), run.status] for run in best_runs(runs, metric, descending)],
    )


def _is_unsafe(record: FileRecord) -> bool:
    return any(problem.severity == UNSAFE for problem in record.problems)


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
        "unsafe_files": sum(_is_unsafe(record) for record in audit.files),
    }


def _recommendations(runs: list[RunRecord]) -> list[tuple[str, list[str]]]:
    """(advice, run names) pairs; empty lists are dropped.

    A README is asked for only where one matters: valid, complete production runs
    (the ones others will build on), and `--write-readmes` writes it.
    """
    codes = {run.name: {p.code for p in run.all_problems} for run in runs}
    explained = {"duplicate", "learned-nothing"}
    advice = [
        ("Delete or quarantine (unsafe pickle imports; never load these)", [r.name for r in runs if r.verdict == UNSAFE]),
        ("Archive: crashed or empty runs", [r.name for r in runs if r.status in ("crashed", "empty")]),
        ("Resume or archive: interrupted runs (never ranked)", [r.name for r in runs if r.status == "interrupted"]),
        ("Archive: copies of another run", [r.name for r in runs if "duplicate" in codes[r.name]]),
        ("Do not use: learned nothing (metrics are inherited, not learned)", [r.name for r in runs if "learned-nothing" in codes[r.name]]),
        ("Investigate: other invalid runs", [r.name for r in runs if r.verdict == INVALID and not codes[r.name] & explained]),
        (
            "Document: valid, complete production runs without a README (`vaeaudit checkpoints report --write-readmes`)",
            [r.name for r in runs if r.category == "PRODUCTION" and is_ranked(r) and not r.has_readme],
        ),
        ("Store the config (no config file, none in the checkpoint)", [r.name for r in runs if r.checkpoints and not r.has_config]),
    ]
    return [(text, names) for text, names in advice if names]


def _metric_sources_table(runs: list[RunRecord]) -> str:
    """How many runs' numbers came from each stored key, per reported metric."""
    counts: Counter[tuple[str, str]] = Counter()
    for run in runs:
        if run.primary:
            for name, source in run.primary.fields.metric_sources.items():
                counts[(name, re.sub(r"^metrics\.", "", source))] += 1
    order = {name: index for index, name in enumerate(METRIC_NAMES)}
    rows = [
        [name, inline_code(key), str(count)]
        for (name, key), count in sorted(counts.items(), key=lambda item: (order[item[0][0]], -item[1]))
    ]
    return _table(["reported", "stored key", "runs"], rows)


def _recompute_note(run: RunRecord) -> str | None:
    if run.recomputed is None:
        return None
    if run.recomputed.disagreements:
        return run.recomputed.summary()
    return run.recomputed.reason or "agrees"


RECOMPUTED_METRICS = ("coverage", "hierarchy_B", "richness", "dist_corr", "Q")


def _recompute_table(runs: list[RunRecord]) -> str:
    """Stored vs recomputed per run ("stored → recomputed"), and whether they agree."""
    rows = []
    for run in runs:
        if run.recomputed is None or run.primary is None:
            continue
        stored, again = run.primary.fields.metrics, run.recomputed.metrics
        cells = [
            f"{format_metric(name, stored.get(name))} → {format_metric(name, again.get(name))}"
            if again
            else format_metric(name, stored.get(name))
            for name in RECOMPUTED_METRICS
        ]
        if not again:
            verdict = run.recomputed.reason
        elif run.recomputed.disagreements:
            verdict = f"DISAGREES: {len(run.recomputed.disagreements)} stored metric(s)"
        else:
            verdict = "agrees"
        rows.append([escape_markdown(run.name), *(escape_markdown(cell) for cell in cells), escape_markdown(verdict)])
    return _table(["run", *(f"{name} stored → recomputed" for name in RECOMPUTED_METRICS), "result"], rows)


NOT_AUDITED_EXAMPLES = 5


def _not_audited(runs: list[RunRecord]) -> list[tuple[str, int, list[str]]]:
    """(reason, count, example paths) for files listed but not audited, most common first."""
    grouped: dict[str, list[str]] = {}
    for run in runs:
        for relpath, why in run.not_audited:
            grouped.setdefault(why, []).append(relpath)
    return sorted(((why, len(paths), paths[:NOT_AUDITED_EXAMPLES]) for why, paths in grouped.items()), key=lambda item: -item[1])


def render_markdown(audit: TreeAudit, plot: str = "") -> str:
    return render("checkpoints.md.j2", **markdown_context(audit, plot))


def run_row(run: RunRecord) -> dict[str, Any]:
    """One JSON/CSV row per run."""
    return {
        "row": "run",
        "run": run.name,
        "category": run.category,
        "rule": run.rule,
        "status": run.status,
        "status_reason": run.status_reason,
        "verdict": run.verdict,
        "files": len(run.checkpoints),
        "path": run.primary.relpath if run.primary else None,
        **{name: run.primary.fields.metrics.get(name) if run.primary else None for name in METRIC_NAMES},
        "metric_keys": _metric_keys(run.primary),
        **{f"recomputed_{name}": (run.recomputed.metrics.get(name) if run.recomputed else None) for name in METRIC_NAMES},
        "recompute_note": _recompute_note(run),
        "epoch": run.primary.fields.epoch if run.primary else None,
        "has_readme": run.has_readme,
        "has_config": run.has_config,
        "problems": "; ".join(run_reasons(run, (UNSAFE, INVALID, WARNING))),
    }


def file_row(record: FileRecord) -> dict[str, Any]:
    """One JSON/CSV row per checkpoint file."""
    return {
        "row": "file",
        "run": record.run,
        "path": record.relpath,
        "role": record.role,
        "size": record.size,
        "kind": record.kind,
        "load": record.verdict,
        "load_reason": record.reason,
        "imports": " ".join(record.imports),
        "layout": record.fields.layout,
        "epoch": record.fields.epoch,
        **{name: record.fields.metrics.get(name) for name in METRIC_NAMES},
        "metric_keys": _metric_keys(record),
        "tensors": record.tensor_count,
        "parameters": record.parameter_count,
        "architecture": record.architecture,
        "content_hash": record.content_hash,
        "problems": "; ".join(f"{p.message} [{p.code}]" for p in record.problems),
    }


def _metric_keys(record: FileRecord | None) -> str:
    """Which stored key each reported number came from: "hierarchy_B=metrics.radial_corr_B; ..."."""
    if record is None:
        return ""
    return "; ".join(f"{name}={source}" for name, source in record.fields.metric_sources.items())


def not_audited_row(run: RunRecord, relpath: str, why: str) -> dict[str, Any]:
    """One JSON/CSV row for a file of a run that was listed, not audited."""
    return {"row": "file", "run": run.name, "path": relpath, "role": "not-audited", "load": "not-audited", "load_reason": why}


def render_table_format(audit: TreeAudit, output_format: str) -> str:
    """JSON ({summary, runs, files}) or CSV (runs then files, a `row` column tells them apart).

    Columns come from the row builders applied to blank records, so an empty tree still
    yields a CSV header.
    """
    import pandas

    run_columns = list(run_row(RunRecord("", Path(), "", "")))
    file_columns = list(file_row(FileRecord(Path(), "", "")))
    runs = _with_integer_columns(pandas.DataFrame([run_row(run) for run in audit.runs], columns=run_columns))
    file_rows = [file_row(record) for record in audit.files]
    file_rows += [not_audited_row(run, relpath, why) for run in audit.runs for relpath, why in run.not_audited]
    files = _with_integer_columns(pandas.DataFrame(file_rows, columns=file_columns))
    if output_format == "csv":
        columns = list(dict.fromkeys([*run_columns, *file_columns]))
        return pandas.concat([runs, files], ignore_index=True, sort=False).reindex(columns=columns).to_csv(index=False)
    summary = _summary(audit)
    document = {
        "root": str(audit.root),
        "summary": {**summary, **{key: dict(summary[key]) for key in ("statuses", "verdicts", "categories")}},
        "runs": json.loads(runs.to_json(orient="records")),
        "files": json.loads(files.to_json(orient="records")),
    }
    return json.dumps(document, indent=2) + "\n"


_INTEGER_COLUMNS = ("files", "epoch", "size", "tensors", "parameters")


def _with_integer_columns(frame: Any) -> Any:
    """Counts stay integers ("90", not "90.0") although some rows lack them: pandas would
    otherwise turn a column with a missing value into floats."""
    for name in _INTEGER_COLUMNS:
        if name in frame.columns:
            frame[name] = frame[name].astype("Int64")
    return frame


def plot_path_for(output: Path) -> Path:
    return output.with_suffix(".png")
