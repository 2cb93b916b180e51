"""Load one checkpoint file without ever trusting it.

The order is the point: (1) magic bytes, (2) zip structure and CRCs, (3) a static scan
of every pickle import, and only when all of that passes (4) `torch.load` with
`weights_only=True` and `map_location="cpu"` passed explicitly (an environment variable
can flip torch's default). Files importing anything dangerous are UNSAFE and never
reach torch. The numpy-scalar allowlist (metrics saved as numpy floats) is granted only
when the scan shows nothing beyond it. The bytes that were scanned are the bytes that
are loaded: the file is read once, so it cannot change between check and load.
"""

from __future__ import annotations

import errno
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaeaudit.checkpoints.pickle_scan import PickleImports, PickleScanError, merge_imports, scan_pickles
from vaeaudit.checkpoints.regular_files import NotARegularFile, open_regular_file
from vaeaudit.checkpoints.sniff import is_torchscript, sniff
from vaeaudit.checkpoints.zipcheck import ZipReport, check_zip

# Verdicts, from best to worst.
LOADED = "loaded"
REFUSED = "refused"  # well-formed, but torch's weights-only loader cannot or may not read it
NOT_A_CHECKPOINT = "not-a-checkpoint"
CORRUPT = "corrupt"
UNREADABLE = "unreadable"
UNSAFE = "unsafe"

LEGACY_PICKLE_COUNT = 5  # magic, protocol, sys info, the object, the storage keys


@dataclass
class LoadOutcome:
    """Everything learned about one file while loading it; `obj` is set only when LOADED."""

    path: Path
    size: int
    kind: str
    detail: str
    verdict: str
    reason: str = ""
    imports: PickleImports | None = None
    zip_report: ZipReport | None = None
    obj: Any = None


def load_checkpoint(path: Path) -> LoadOutcome:
    """Run the four loading stages on `path` and say how far it got and why."""
    try:
        with open_regular_file(path) as handle:
            data = handle.read()
    except OSError as error:
        return LoadOutcome(path, 0, "unknown", "", UNREADABLE, _os_reason(error))
    sniffed = sniff(data)
    outcome = LoadOutcome(path, len(data), sniffed.kind, sniffed.detail, LOADED)
    if sniffed.kind == "empty":
        return _fail(outcome, CORRUPT, "empty file (0 bytes)")
    if sniffed.kind in ("lfs-pointer", "foreign"):
        return _fail(outcome, NOT_A_CHECKPOINT, sniffed.detail)

    pickles, count = [data], 1
    if sniffed.kind == "zip":
        outcome.zip_report, archive = check_zip(data)
        if archive is not None and is_torchscript(archive):
            outcome.kind, outcome.detail = "torchscript", "TorchScript archive (torch.jit.save)"
            return _fail(outcome, NOT_A_CHECKPOINT, "TorchScript archive: a compiled model, not a training checkpoint")
        if outcome.zip_report.problems:
            problems = outcome.zip_report.problems
            more = f"; and {len(problems) - 2} more" if len(problems) > 2 else ""
            return _fail(outcome, CORRUPT, "; ".join(problems[:2]) + more)
        pickles = list(outcome.zip_report.pickles.values())
    elif sniffed.kind == "legacy":
        count = LEGACY_PICKLE_COUNT

    try:
        outcome.imports = merge_imports([scan_pickles(pickle, count) for pickle in pickles])
    except PickleScanError as error:
        return _fail(outcome, CORRUPT, str(error))
    if outcome.imports.dangerous:
        return _fail(outcome, UNSAFE, "imports " + ", ".join(outcome.imports.dangerous))
    if sniffed.kind == "pickle":
        return _fail(outcome, NOT_A_CHECKPOINT, sniffed.detail)
    if outcome.imports.other:
        return _fail(outcome, REFUSED, "needs globals outside the weights-only allowlist: " + ", ".join(outcome.imports.other))
    return _torch_load(outcome, data)


def _torch_load(outcome: LoadOutcome, data: bytes) -> LoadOutcome:
    """Stage 4: the only place a checkpoint is unpickled, always weights-only."""
    import torch

    allowed = _numpy_scalar_globals(outcome.imports.numpy_scalar) if outcome.imports else []
    try:
        with warnings.catch_warnings(), torch.serialization.safe_globals(allowed):
            warnings.simplefilter("ignore")
            outcome.obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError, ... for bad input
        return _fail(outcome, REFUSED, "weights-only load failed: " + _torch_reason(error))
    return outcome


def _numpy_scalar_globals(names: tuple[str, ...]) -> list[Any]:
    """The numpy objects behind the allowlisted names this file imports.

    `numpy.dtype(...)` builds instances of the per-type classes in `numpy.dtypes`, which
    never appear as pickle globals yet must be allowed too; only the plain numeric ones are.
    """
    if not names:
        return []
    import importlib

    objects = []
    for qualified in (*names, *(_NUMERIC_DTYPE_CLASSES if "numpy.dtype" in names else ())):
        module_name, _, attribute = qualified.rpartition(".")
        try:
            objects.append(getattr(importlib.import_module(module_name), attribute))
        except (ImportError, AttributeError):
            continue  # torch will then name the global it could not resolve
    return objects


_NUMERIC_DTYPE_CLASSES = tuple(
    f"numpy.dtypes.{name}DType"
    for name in ("Float64", "Float32", "Float16", "Int64", "Int32", "Int16", "Int8", "UInt8", "Bool")
)


def _torch_reason(error: BaseException) -> str:
    """The one informative line of torch's long load errors."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if "WeightsUnpickler error:" in line:
            rest = line.split("WeightsUnpickler error:", 1)[1].strip()
            return rest or (lines[index + 1] if index + 1 < len(lines) else line)
    first = lines[0] if lines else type(error).__name__
    return f"{type(error).__name__}: {first[:200]}"


def _os_reason(error: OSError) -> str:
    if isinstance(error, NotARegularFile):
        return str(error)
    if error.errno == errno.ELOOP:
        return "symlink loop"
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, IsADirectoryError):
        return "is a directory"
    return error.strerror or str(error)


def _fail(outcome: LoadOutcome, verdict: str, reason: str) -> LoadOutcome:
    outcome.verdict, outcome.reason = verdict, reason
    return outcome
