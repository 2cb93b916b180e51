"""Load one checkpoint file without ever trusting it.

The order is the point: (1) magic bytes, (2) every pickle any loader could run from the
file, found in whatever container holds it and scanned statically (`pickle_sources`),
(3) the imports judged against the allowlist (`import_policy`), the object graph's size
and the container's structure, and only when all of that passes (4) `torch.load` with
`weights_only=True` and `map_location="cpu"` passed explicitly (an environment variable
can flip torch's default). A dangerous import makes the file UNSAFE whatever else is
wrong with it, and it never reaches torch. The numpy-scalar allowlist (metrics saved as
numpy floats) and configured extras are granted only when the scan shows nothing beyond
them. The bytes that were scanned are the bytes that are loaded: the file is read once,
so it cannot change between check and load.
"""

from __future__ import annotations

import contextlib
import errno
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaeaudit.checkpoints.import_policy import DEFAULT_POLICY, ImportPolicy, PickleImports
from vaeaudit.checkpoints.pickle_scan import MAX_EXPANDED_NODES
from vaeaudit.checkpoints.pickle_sources import FileScan, scan_file
from vaeaudit.checkpoints.regular_files import NotARegularFile, open_regular_file
from vaeaudit.checkpoints.sniff import sniff
from vaeaudit.checkpoints.zipcheck import ZipReport

# Verdicts, from best to worst (UNSAFE outranks every other).
LOADED = "loaded"
REFUSED = "refused"  # well-formed, but torch's weights-only loader cannot or may not read it
NOT_A_CHECKPOINT = "not-a-checkpoint"
CORRUPT = "corrupt"
UNREADABLE = "unreadable"
TOO_EXPENSIVE = "too-expensive"
UNSAFE = "unsafe"

_NOT_TORCH = {
    "torchscript": "TorchScript archive: a compiled model, not a training checkpoint",
    "zip": "zip archive without <folder>/data.pkl: not a torch checkpoint",
    "pickle": "plain pickle, not a torch checkpoint (torch.load before 2.6 would have run it)",
    "compressed pickle": "compressed pickle, not a torch checkpoint",
    "npy": "numpy array, not a torch checkpoint",
}


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
    scan: FileScan | None = None
    obj: Any = None

    @property
    def zip_report(self) -> ZipReport | None:
        return self.scan.zip_report if self.scan else None


def load_checkpoint(path: Path, policy: ImportPolicy = DEFAULT_POLICY) -> LoadOutcome:
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

    scan = outcome.scan = scan_file(data, sniffed.kind)
    imports = outcome.imports = policy.judge(scan.imports)
    outcome.kind = scan.container if scan.container != "none" else sniffed.kind
    if imports.dangerous:
        stopped = scan.stops()
        tail = f" (read before the stream stopped: {stopped[0]})" if stopped else ""
        return _fail(outcome, UNSAFE, "imports " + ", ".join(imports.dangerous) + tail)
    if scan.too_large:
        return _fail(
            outcome,
            TOO_EXPENSIVE,
            f"too expensive to inspect: shared references expand its objects past {MAX_EXPANDED_NODES:,} nodes "
            "(a 'billion laughs' pickle); not loaded",
        )
    problems = _zip_problems(scan)
    if problems:
        more = f"; and {len(problems) - 2} more" if len(problems) > 2 else ""
        return _fail(outcome, CORRUPT, "; ".join(problems[:2]) + more)
    if scan.container == "none":
        return _fail(outcome, NOT_A_CHECKPOINT, sniffed.detail)
    if scan.container in _NOT_TORCH:
        return _fail(outcome, NOT_A_CHECKPOINT, _NOT_TORCH[scan.container] + _judged(imports))
    if scan.stops():
        return _fail(outcome, CORRUPT, "malformed pickle: " + scan.stops()[0])
    if imports.other:
        return _fail(outcome, REFUSED, "needs globals outside the weights-only allowlist: " + ", ".join(imports.other))
    return _torch_load(outcome, data, policy)


def _zip_problems(scan: FileScan) -> list[str]:
    if scan.zip_report is None:
        return []
    return scan.zip_report.checkpoint_problems() if scan.container == "torch-zip" else scan.zip_report.problems


def _judged(imports: PickleImports) -> str:
    names = imports.all
    return f"; its pickles import {', '.join(names[:6])}{' …' if len(names) > 6 else ''}, none dangerous" if names else ""


def _torch_load(outcome: LoadOutcome, data: bytes, policy: ImportPolicy) -> LoadOutcome:
    """Stage 4: the only place a checkpoint is unpickled, always weights-only."""
    import torch

    try:
        with granted_globals(outcome.imports or PickleImports(), policy):
            outcome.obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError, ... for bad input
        return _fail(outcome, REFUSED, "weights-only load failed: " + _torch_reason(error))
    return outcome


@contextlib.contextmanager
def granted_globals(imports: PickleImports, policy: ImportPolicy) -> Iterator[None]:
    """torch's weights-only loader, for the duration, also accepts what this scanned file
    needs of the granted extras (numpy scalars, configured `allowed-globals`), and warns
    about nothing. Any other loader call of the same file (`load_model`) goes through it."""
    import torch

    extras = tuple(name for name in imports.allowed if name in policy.extra_allowed)
    allowed = _resolve_globals((*imports.numpy_scalar, *extras), with_dtype_classes="numpy.dtype" in imports.numpy_scalar)
    with warnings.catch_warnings(), torch.serialization.safe_globals(allowed):
        warnings.simplefilter("ignore")
        yield


def _resolve_globals(names: tuple[str, ...], with_dtype_classes: bool) -> list[Any]:
    """The objects behind the granted names (numpy scalars, configured extras) this file imports.

    `numpy.dtype(...)` builds instances of the per-type classes in `numpy.dtypes`, which
    never appear as pickle globals yet must be allowed too; only the plain numeric ones are.
    """
    if not names:
        return []
    import importlib

    objects = []
    for qualified in (*names, *(_NUMERIC_DTYPE_CLASSES if with_dtype_classes else ())):
        module_name, _, attribute = qualified.rpartition(".")
        try:
            objects.append(getattr(importlib.import_module(module_name), attribute))
        except (ImportError, AttributeError):
            continue  # torch will then name the global it could not resolve
    return objects


_NUMERIC_DTYPE_CLASSES = tuple(
    f"numpy.dtypes.{name}DType" for name in ("Float64", "Float32", "Float16", "Int64", "Int32", "Int16", "Int8", "UInt8", "Bool")
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
