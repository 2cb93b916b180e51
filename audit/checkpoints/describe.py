"""`vaeaudit checkpoints inspect FILE`: everything known about one checkpoint, as text.

Same loading and judging path as the tree report (so the two can never disagree),
plus the detail a report has no room for: zip members, every pickle import by verdict,
top-level keys, per-tensor statistics and where each metric was found.
"""

from __future__ import annotations

from pathlib import Path

from vaeaudit.checkpoints import safe_load
from vaeaudit.checkpoints.bounded import preview
from vaeaudit.checkpoints.budget import OverBudget, time_budget
from vaeaudit.checkpoints.fields import extract_fields
from vaeaudit.checkpoints.file_audit import audit_outcome
from vaeaudit.checkpoints.records import FileRecord
from vaeaudit.checkpoints.report import format_metric
from vaeaudit.checkpoints.settings import CheckpointSettings
from vaeaudit.checkpoints.terminal import terminal_safe

MEMBER_LIMIT = 20
KEY_LIMIT = 40


def inspect_file(path: Path, settings: CheckpointSettings) -> tuple[str, FileRecord]:
    """(text, record) for one file; the text is plain, for a terminal. Loading and
    describing each get the file's time budget."""
    from tabulate import tabulate

    outcome, record = audit_outcome(path, str(path), path.parent.name, settings)
    lines = [
        f"File:      {path}",
        f"Size:      {outcome.size} bytes",
        f"Kind:      {outcome.kind} ({outcome.detail})" if outcome.detail else f"Kind:      {outcome.kind}",
        f"Load:      {outcome.verdict}" + (f": {outcome.reason}" if outcome.reason else ""),
    ]
    if outcome.zip_report and outcome.zip_report.members:
        members = outcome.zip_report.members
        lines.append(f"\nZip members ({len(members)}):")
        lines += [f"  {m.name}  {m.size} bytes{'' if m.listed else '  (not in the central directory)'}" for m in members[:MEMBER_LIMIT]]
        if len(members) > MEMBER_LIMIT:
            lines.append(f"  … and {len(members) - MEMBER_LIMIT} more")
    if outcome.scan and outcome.scan.scans:
        lines.append("\nPickles scanned:")
        for where, scan in outcome.scan.scans.items():
            state = f"stopped: {scan.stopped}" if scan.stopped else "read to the end"
            lines.append(f"  {where}: {scan.pickles} complete pickle(s), protocol {scan.protocol}, {state}")
        lines += [f"  {note}" for note in outcome.scan.notes]
    if outcome.imports:
        lines.append("\nPickle imports:")
        for label, names in (
            ("dangerous", outcome.imports.dangerous),
            ("outside the allowlist (refused)", outcome.imports.other),
            ("numpy scalars (narrow allowlist)", outcome.imports.numpy_scalar),
            ("allowlist (weights-only loader and configured extras)", outcome.imports.allowed),
        ):
            if names:
                lines.append(f"  {label}: {', '.join(names)}")
    if outcome.verdict == safe_load.LOADED:
        try:
            with time_budget(settings.file_time_budget):
                lines += _loaded_details(outcome.obj, record, settings, tabulate)
        except OverBudget:
            lines.append(f"\nDetails: too expensive to describe (more than {settings.file_time_budget:g} s)")
    lines.append("\nValidation:")
    lines += [f"  [{p.severity}] {p.code}: {p.message}" for p in record.problems] or ["  no problems found"]
    return terminal_safe("\n".join(lines) + "\n"), record


def _loaded_details(obj: object, record: FileRecord, settings: CheckpointSettings, tabulate) -> list[str]:
    import torch

    fields, state_dict = extract_fields(obj, settings.aliases)
    lines = [
        f"\nLayout:    {fields.layout}; optimizer state: {'yes' if fields.has_optimizer else 'no'}",
        f"Version:   {fields.version or '–'}   epoch: {fields.epoch if fields.epoch is not None else '–'}   phase: {fields.phase or '–'}"
        + {True: "   (says training finished)", False: "   (says training did not finish)", None: ""}[fields.finished],
        f"Top-level keys: {', '.join(fields.top_level_keys[:KEY_LIMIT])}"
        + (f" … and {len(fields.top_level_keys) - KEY_LIMIT} more" if len(fields.top_level_keys) > KEY_LIMIT else ""),
    ]
    if fields.metrics:
        rows = [[name, format_metric(name, value), fields.metric_sources[name]] for name, value in fields.metrics.items()]
        lines += ["\nMetrics:", tabulate(rows, headers=["metric", "value", "found at"], disable_numparse=True)]
    else:
        lines.append("\nMetrics:   none found")
    if fields.config is not None:
        model = fields.config.get("model")
        shown = preview(model if model is not None else fields.config)
        lines.append(f"\nConfig ({'model section' if model is not None else 'whole'}): {shown}")
    if state_dict:
        rows = []
        for name, tensor in state_dict.items():
            stats = ["", "", "", ""]
            if tensor.is_floating_point() and tensor.numel():
                values = tensor.detach().double()
                finite = torch.isfinite(values)
                shown_values = values[finite] if bool(finite.any()) else values
                summary = (shown_values.min(), shown_values.max(), shown_values.mean())
                stats = [*(f"{float(value):.4g}" for value in summary), str(int((~finite).sum()))]
            rows.append([name, "×".join(map(str, tensor.shape)) or "scalar", str(tensor.dtype).replace("torch.", ""), *stats])
        lines += [
            f"\nTensors ({record.tensor_count}, {record.parameter_count} values, content hash {record.content_hash}):",
            tabulate(rows, headers=["name", "shape", "dtype", "min", "max", "mean", "non-finite"], disable_numparse=True),
        ]
    lines.append(f"\n{record.architecture[:1].upper()}{record.architecture[1:]}" if record.architecture else "")
    return lines
