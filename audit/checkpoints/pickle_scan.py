"""List every global a pickle imports, without executing a single opcode.

A pickle runs code by importing a callable (GLOBAL / STACK_GLOBAL) and calling it
(REDUCE). Reading the opcode stream with `pickletools.genops` and simulating just enough
of the stack to resolve STACK_GLOBAL operands (which may come from the memo) yields the
complete import list; nothing is imported or called. Each import is then sorted into
what torch's weights-only loader accepts, the numpy-scalar allowlist we may grant, what
is outright dangerous, and anything else (custom classes torch would refuse).
"""

from __future__ import annotations

import _compat_pickle
import io
import pickletools
import re
from dataclasses import dataclass

DANGEROUS_MODULES = frozenset(
    {
        "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "importlib", "runpy",
        "pty", "ctypes", "multiprocessing", "webbrowser", "code", "codeop", "pickle", "_pickle",
        "marshal", "shelve", "pdb", "bdb", "signal", "tempfile", "urllib", "http", "ftplib",
        "requests", "asyncio", "threading", "_thread", "operator", "functools", "types",
        "inspect", "platform", "commands", "popen2", "pip", "setuptools", "torch.hub",
        "torch.jit", "torch.load", "torch.serialization.load", "numpy.testing", "_posixsubprocess",
    }
)
# builtins torch's weights-only unpickler itself accepts; any other builtin is dangerous.
HARMLESS_BUILTINS = frozenset({"set", "frozenset", "complex", "bytearray", "slice", "range"})
NUMPY_SCALAR_GLOBALS = frozenset(
    {"numpy._core.multiarray.scalar", "numpy.core.multiarray.scalar", "numpy.dtype"}
)
_NUMPY_DTYPE_CLASS = re.compile(r"numpy\.dtypes\.\w+DType")
_TORCH_DTYPE = re.compile(
    r"torch\.(u?int\d+|float\d+\w*|bfloat16|complex\d+|bool|bits\w+|q(u)?int\w+|per_\w+)"
)
_TORCH_TENSOR_TYPE = re.compile(r"torch\.((cuda|sparse)\.)?\w+(Storage|Tensor)")
WEIGHTS_ONLY_GLOBALS = frozenset(
    {
        "collections.OrderedDict", "collections.Counter", "_codecs.encode", "builtins.set",
        "builtins.complex", "builtins.bytearray", "torch.Size", "torch.Tensor", "torch.device",
        "torch.nn.parameter.Parameter", "torch.serialization._get_layout",
        "torch._tensor._rebuild_from_type_v2", "torch.storage.TypedStorage",
        "torch.storage.UntypedStorage",
    }
)
_UNSTACKED = object()  # a stack value we do not track
_MARK = object()
_STRING_OPS = {
    "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE",
    "BINUNICODE8",
}


class PickleScanError(ValueError):
    """The opcode stream is malformed or truncated."""


@dataclass(frozen=True)
class PickleImports:
    """Globals by verdict; each entry is "module.name". `protocol` is the highest seen."""

    weights_only: tuple[str, ...]
    numpy_scalar: tuple[str, ...]
    dangerous: tuple[str, ...]
    other: tuple[str, ...]
    protocol: int

    @property
    def all(self) -> tuple[str, ...]:
        return tuple(sorted({*self.weights_only, *self.numpy_scalar, *self.dangerous, *self.other}))


def classify_global(qualified: str) -> str:
    """One of "weights_only", "numpy_scalar", "dangerous", "other"."""
    module, _, name = qualified.rpartition(".")
    if module == "builtins":
        return "weights_only" if qualified in WEIGHTS_ONLY_GLOBALS else (
            "other" if name in HARMLESS_BUILTINS else "dangerous"
        )
    if any(qualified == bad or qualified.startswith(bad + ".") for bad in DANGEROUS_MODULES):
        return "dangerous"
    if (
        qualified in WEIGHTS_ONLY_GLOBALS
        or qualified.startswith("torch._utils._rebuild_")
        or _TORCH_DTYPE.fullmatch(qualified)
        or _TORCH_TENSOR_TYPE.fullmatch(qualified)
    ):
        return "weights_only"
    if qualified in NUMPY_SCALAR_GLOBALS or _NUMPY_DTYPE_CLASS.fullmatch(qualified):
        return "numpy_scalar"
    return "other"


def scan_pickles(data: bytes, count: int = 1) -> PickleImports:
    """Scan `count` consecutive pickles at the start of `data` (legacy torch files hold 5)."""
    stream = io.BytesIO(data)
    found: set[str] = set()
    protocol = 0
    for _ in range(count):
        if stream.tell() >= len(data):
            break
        pickle_protocol, imports = _scan_one(stream)
        protocol = max(protocol, pickle_protocol)
        found.update(imports)
    return _grouped(found, protocol)


def merge_imports(scans: list[PickleImports]) -> PickleImports:
    """The union of several scans (an archive may hold more than one pickle)."""
    found = {name for scan in scans for name in scan.all}
    return _grouped(found, max((scan.protocol for scan in scans), default=0))


def _grouped(found: set[str], protocol: int) -> PickleImports:
    groups: dict[str, list[str]] = {"weights_only": [], "numpy_scalar": [], "dangerous": [], "other": []}
    for qualified in sorted(found):
        groups[classify_global(qualified)].append(qualified)
    return PickleImports(**{key: tuple(value) for key, value in groups.items()}, protocol=protocol)


def _scan_one(stream: io.BytesIO) -> tuple[int, set[str]]:
    """One pickle's (protocol, imports). A cheap pass reads GLOBAL/INST operands; only a
    pickle that uses STACK_GLOBAL (protocol 4+, whatever PROTO claims) pays for a second
    pass that simulates the stack to resolve its operands."""
    start = stream.tell()
    imports: set[str] = set()
    protocol, uses_stack_global = 0, False
    try:
        for opcode, argument, _position in pickletools.genops(stream):
            name = opcode.name
            if name in ("GLOBAL", "INST"):
                module, _, attribute = str(argument).partition(" ")
                imports.add(_python3_name(module, attribute))
            elif name == "STACK_GLOBAL":
                uses_stack_global = True
            elif name == "PROTO":
                protocol = argument
        if uses_stack_global:
            end = stream.tell()
            stream.seek(start)
            imports |= _stack_globals(stream)
            stream.seek(end)
    except ValueError as error:
        raise PickleScanError(f"malformed pickle stream: {error}") from None
    return protocol, imports


def _stack_globals(stream: io.BytesIO) -> set[str]:
    """The operands of every STACK_GLOBAL, from a symbolic stack and memo."""
    stack: list[object] = []
    memo: dict[int, object] = {}
    imports: set[str] = set()
    for opcode, argument, _position in pickletools.genops(stream):
        name = opcode.name
        if name in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
            memo[len(memo) if name == "MEMOIZE" else argument] = stack[-1] if stack else _UNSTACKED
            continue
        if name == "STACK_GLOBAL":
            attribute = stack.pop() if stack else _UNSTACKED
            module = stack.pop() if stack else _UNSTACKED
            if isinstance(module, str) and isinstance(attribute, str):
                imports.add(_python3_name(module, attribute))
            else:
                imports.add("<unresolved STACK_GLOBAL>")
            stack.append(_UNSTACKED)
            continue
        pushed: object = _UNSTACKED
        if name in _STRING_OPS:
            pushed = argument.decode("latin-1") if isinstance(argument, bytes) else argument
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            pushed = memo.get(argument, _UNSTACKED)
        _apply_stack_effect(opcode, stack)
        if opcode.stack_after:
            stack[-1] = _MARK if opcode.stack_after[-1] is pickletools.markobject else pushed
    return imports


def _python3_name(module: str, attribute: str) -> str:
    """The global the unpickler really imports: Python 2 names (`__builtin__`) are mapped
    to Python 3 ones, as `pickle` does for protocols < 3."""
    module, attribute = _compat_pickle.NAME_MAPPING.get((module, attribute), (module, attribute))
    return f"{_compat_pickle.IMPORT_MAPPING.get(module, module)}.{attribute}"


def _apply_stack_effect(opcode: pickletools.OpcodeInfo, stack: list[object]) -> None:
    """Pop what the opcode consumes (up to and including a MARK for stackslices); push placeholders."""
    before = opcode.stack_before
    if pickletools.stackslice in before:
        while stack and stack.pop() is not _MARK:
            pass
        plain = before.index(pickletools.markobject)  # items below the mark, e.g. the list of APPENDS
    else:
        plain = len(before)
    for _ in range(plain):
        if stack:
            stack.pop()
    stack.extend(_UNSTACKED for _ in opcode.stack_after)
