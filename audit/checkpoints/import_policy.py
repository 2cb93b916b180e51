"""Judge every global a pickle imports: allowed, dangerous, or merely unknown.

The judgement is an allowlist first: what torch's weights-only loader accepts, the narrow
numpy-scalar set that old metrics need, and the extras a project configures
(`allowed-globals`). Everything else is refused by name. On top of that a broad
dangerous set makes a file UNSAFE: process and code execution, import machinery,
network clients, file writes and the torch internals that unpickle or execute code.
Names are matched on every dotted component, because the unpickler resolves
`pathlib.os.system` and `builtins.eval.__call__` as readily as `os.system`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


def _names(text: str) -> frozenset[str]:
    """A set of names written as whitespace-separated words: one readable block per set."""
    return frozenset(text.split())


# What torch's weights-only unpickler accepts (torch._weights_only_unpickler), by name;
# dtypes and storage/tensor types by pattern.
WEIGHTS_ONLY_GLOBALS = _names(
    """
    collections.OrderedDict collections.Counter _codecs.encode builtins.set builtins.complex builtins.bytearray
    torch.Size torch.Tensor torch.device torch.nn.parameter.Parameter torch.serialization._get_layout
    torch._tensor._rebuild_from_type_v2 torch.storage.TypedStorage torch.storage.UntypedStorage
    torch._utils._rebuild_tensor torch._utils._rebuild_tensor_v2 torch._utils._rebuild_tensor_v3
    torch._utils._rebuild_parameter torch._utils._rebuild_parameter_with_state torch._utils._rebuild_qtensor
    torch._utils._rebuild_sparse_tensor torch._utils._rebuild_nested_tensor torch._utils._rebuild_wrapper_subclass
    torch._utils._rebuild_meta_tensor_no_storage torch._utils._rebuild_device_tensor_from_cpu_tensor
    torch._utils._rebuild_device_tensor_from_numpy
    """
)
_TORCH_DTYPE = re.compile(r"torch\.(u?int\d+|float\d+\w*|bfloat16|complex\d+|bool|bits\w+|q(u)?int\w+|per_\w+)")
_TORCH_TENSOR_TYPE = re.compile(r"torch\.((cuda|sparse|cuda\.sparse)\.)?[A-Z]\w*(Storage|Tensor)")
# Numpy scalars and dtypes: metrics saved as numpy floats need them; granted only to files
# that import nothing else outside the allowlist.
NUMPY_SCALAR_GLOBALS = _names("numpy._core.multiarray.scalar numpy.core.multiarray.scalar numpy.dtype")
_NUMPY_DTYPE_CLASS = re.compile(r"numpy\.dtypes\.\w+DType")

# Builtins that only build or inspect plain values; every other builtin (eval, exec,
# getattr, open, print, __import__, ...) is dangerous.
HARMLESS_BUILTINS = _names(
    """
    set frozenset complex bytearray bytes slice range int float str list dict tuple bool object len abs min max sum
    round sorted reversed enumerate zip all any divmod ord chr hex oct bin repr ascii isinstance issubclass
    """
)
BUILTIN_MODULES = _names("builtins __builtin__ __builtins__")

# Whole module trees that run processes or code, import, unpickle, reach any object by
# name, touch the network or write files.
DANGEROUS_MODULES = _names(
    """
    os posix nt subprocess _posixsubprocess sys pty tty signal ctypes _ctypes cffi multiprocessing _multiprocessing
    concurrent threading _thread asyncio sched atexit platform commands popen2 _osx_support _aix_support webbrowser
    antigravity gc resource _interpreters _xxsubinterpreters _xxinterpchannels interpreters

    code codeop compileall py_compile runpy importlib imp zipimport pkgutil site types operator _operator functools
    inspect ast lib2to3 marshal pickle _pickle cPickle pickletools dill cloudpickle joblib shelve dbm sqlite3 timeit
    cProfile profile _lsprof trace pdb bdb doctest unittest test pydoc _pyrepl idlelib tkinter turtle venv ensurepip
    pip setuptools distutils _distutils_hack yaml jinja2 mako

    socket _socket ssl _ssl select selectors urllib urllib2 urllib3 http httplib requests httpx aiohttp ftplib
    smtplib smtpd telnetlib poplib imaplib nntplib xmlrpc xmlrpclib socketserver SocketServer wsgiref asyncore
    asynchat paramiko

    shutil tempfile fileinput glob zipfile tarfile gzip bz2 lzma codecs logging mmap
    """
)
# Dotted prefixes inside otherwise ordinary packages.
DANGEROUS_PREFIXES = _names(
    """
    io.open io.open_code io.FileIO io.BufferedWriter io.BufferedRandom io.TextIOWrapper
    _io.open _io.open_code _io.FileIO _io.BufferedWriter _io.BufferedRandom _io.TextIOWrapper
    uuid._get_command_stdout uuid._popen uuid._find_mac uuid._ifconfig_getnode uuid._ip_getnode uuid._arp_getnode
    uuid._lanscan_getnode uuid._netstat_getnode
    torch.hub torch.jit torch.load torch.save torch.serialization torch.storage._load_from_bytes torch._inductor
    torch._dynamo torch._export torch.export torch.compile torch.fx torch.package torch.utils.cpp_extension
    torch.utils.collect_env torch.utils.data.datapipes torch.utils._config_module torch.distributed torch.ops
    torch._ops torch._C torch._classes torch.classes torch.backends
    numpy.testing numpy.f2py numpy.distutils numpy.ctypeslib numpy.load numpy.save numpy.lib.npyio
    numpy.lib._npyio_impl numpy.fromfile numpy.memmap
    pandas.read_pickle pandas.io pandas.read_csv pandas.read_json
    tensorflow.io tensorflow.raw_ops tensorflow.python.ops tensorflow.keras.layers.Lambda keras.layers.Lambda
    keras.src.layers.core.lambda_layer
    pathlib.Path.write_text pathlib.Path.write_bytes pathlib.Path.open pathlib.Path.unlink
    """
)
# Attribute names that are dangerous wherever they appear after the first component.
DANGEROUS_ATTRIBUTES = _names(
    """
    system popen popen2 popen3 popen4 spawn spawnl spawnv spawnve spawnlp execl execle execlp execv execve execvp
    startfile fork forkpty kill eval exec execfile compile getattr setattr delattr globals locals vars open remove
    unlink rmtree rmdir removedirs rename renames replace chmod chown symlink link mkfifo write_text write_bytes
    run_path run_module check_output check_call getoutput getstatusoutput Popen import_module loads load urlopen
    urlretrieve create_connection
    """
)
# Module names that must not be reached through another module (`pathlib.os.system`).
REACHABLE_MODULES = _names(
    """
    os posix nt subprocess sys shutil socket importlib ctypes runpy pty marshal pickle _pickle builtins __builtin__
    __builtins__ io _io codecs _ssl ssl
    """
)
# Inside dangerous trees, helpers that only rebuild plain values (TorchScript archives
# use them): refused like any unknown global, not called dangerous.
VALUE_HELPERS = ("torch.jit._pickle.",)

ALLOWED = "allowed"
NUMPY_SCALAR = "numpy_scalar"
DANGEROUS = "dangerous"
OTHER = "other"


@dataclass(frozen=True)
class ImportPolicy:
    """The allowlist extras a project configured (`allowed-globals`), exact dotted names."""

    extra_allowed: frozenset[str] = frozenset()

    def classify(self, qualified: str) -> str:
        """ALLOWED, NUMPY_SCALAR, DANGEROUS or OTHER (refused, but not known to be harmful)."""
        if is_weights_only_global(qualified) or qualified in self.extra_allowed:
            return ALLOWED
        if qualified in NUMPY_SCALAR_GLOBALS or _NUMPY_DTYPE_CLASS.fullmatch(qualified):
            return NUMPY_SCALAR
        return DANGEROUS if is_dangerous(qualified) else OTHER

    def judge(self, names: Iterable[str]) -> PickleImports:
        groups: dict[str, list[str]] = {ALLOWED: [], NUMPY_SCALAR: [], DANGEROUS: [], OTHER: []}
        for name in sorted(set(names)):
            groups[self.classify(name)].append(name)
        return PickleImports(*(tuple(groups[key]) for key in (ALLOWED, NUMPY_SCALAR, DANGEROUS, OTHER)))


DEFAULT_POLICY = ImportPolicy()


@dataclass(frozen=True)
class PickleImports:
    """A file's imports by verdict; each entry is "module.name"."""

    allowed: tuple[str, ...] = ()
    numpy_scalar: tuple[str, ...] = ()
    dangerous: tuple[str, ...] = ()
    other: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return tuple(sorted({*self.allowed, *self.numpy_scalar, *self.dangerous, *self.other}))


def is_weights_only_global(qualified: str) -> bool:
    return bool(qualified in WEIGHTS_ONLY_GLOBALS or _TORCH_DTYPE.fullmatch(qualified) or _TORCH_TENSOR_TYPE.fullmatch(qualified))


def is_dangerous(qualified: str) -> bool:
    """True for any name in the dangerous set, however it is reached."""
    if qualified.startswith("<"):
        return True  # a module name computed at load time only hides what it imports
    for helper in VALUE_HELPERS:
        rest = qualified[len(helper) :] if qualified.startswith(helper) else None
        if rest and "." not in rest and not rest.startswith("__"):
            return False
    parts = qualified.split(".")
    if parts[0] in BUILTIN_MODULES:
        return not (len(parts) == 2 and parts[1] in HARMLESS_BUILTINS)
    if parts[0] in DANGEROUS_MODULES:
        return True
    if any(qualified == prefix or qualified.startswith(prefix + ".") for prefix in DANGEROUS_PREFIXES):
        return True
    tail = parts[1:]
    return any(
        part in DANGEROUS_ATTRIBUTES or part in REACHABLE_MODULES or (part.startswith("__") and part.endswith("__")) for part in tail
    )
