"""The static pickle scan finds every import, however it is spelled, and runs nothing;
the import policy judges each one."""

import builtins
import collections
import os
import pickle
import pickletools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeaudit.checkpoints.import_policy import DEFAULT_POLICY, ImportPolicy, is_dangerous
from vaeaudit.checkpoints.pickle_scan import MAX_EXPANDED_NODES, scan_stream

CALLABLES = [os.getcwd, builtins.print, collections.OrderedDict, os.path.join, pickletools.dis]


class Reducer:
    """Pickles as a call of `function()`; never unpickled in these tests."""

    def __init__(self, function):
        self.function = function

    def __reduce__(self):
        return (self.function, ())


def qualified(function) -> str:
    return f"{function.__module__}.{function.__qualname__}"


@settings(max_examples=60)
@given(
    chosen=st.lists(st.sampled_from(CALLABLES), min_size=1, max_size=6),
    protocol=st.integers(min_value=0, max_value=5),
    padding=st.lists(
        st.one_of(
            st.integers(),
            st.text(max_size=5),
            st.none(),
            st.floats(allow_nan=False),
            st.binary(max_size=5),
            st.frozensets(st.integers(), max_size=3),
            st.sets(st.integers(), max_size=3),
            st.tuples(st.integers(), st.text()),
            st.integers(min_value=2**70),
        ),
        max_size=5,
    ),
)
def test_every_import_is_found_at_every_protocol(chosen, protocol, padding):
    payload = {"padding": padding, "calls": [Reducer(function) for function in chosen]}
    found = scan_stream(pickle.dumps(payload, protocol=protocol))
    value_builders = {"_codecs.encode", "builtins.bytes", "builtins.set", "builtins.frozenset"}  # old protocols' plain values
    assert found.imports - value_builders == {qualified(function) for function in chosen}
    assert (found.pickles, found.stopped) == (1, None)


def test_stack_global_operands_fetched_from_the_memo_are_resolved():
    # protocol 4: the second use of "posix" comes back through BINGET/MEMOIZE
    data = pickle.dumps([Reducer(os.getcwd), Reducer(os.getpid)], protocol=4)
    assert any(op.name == "BINGET" for op, _, _ in pickletools.genops(data))
    assert scan_stream(data).imports == {"posix.getcwd", "posix.getpid"}


def test_a_popped_decoy_string_does_not_hide_the_real_module():
    # "os", "decoy", POP, "system" -> STACK_GLOBAL sees ("os", "system")
    data = b"\x80\x04\x8c\x02os\x8c\x05decoy0\x8c\x06system\x93)R."
    assert scan_stream(data).imports == {"os.system"}


def test_protocol_zero_strings_feed_stack_global():
    # STACK_GLOBAL is legal in any stream; its operands may be protocol-0 STRING opcodes
    data = b"S'os'\nS'getcwd'\n\x93)R."
    assert scan_stream(data).imports == {"os.getcwd"}


def test_an_operand_computed_at_load_time_is_named_unresolved():
    data = b"\x80\x04\x8c\x02os\x8c\x06getcwd\x86)R\x8c\x01x\x93."  # a tuple where a string should be
    assert DEFAULT_POLICY.judge(scan_stream(data).imports).dangerous == ("<unresolved STACK_GLOBAL>",)


def test_every_pickle_of_a_stream_is_scanned():
    stream = b"".join(pickle.dumps(value, protocol=2) for value in (1, {"a": 2}, [3], Reducer(os.getcwd)))
    found = scan_stream(stream)
    assert (found.pickles, found.imports, found.stopped) == (4, {"posix.getcwd"}, None)
    assert scan_stream(stream, max_pickles=3).imports == set()


def test_imports_read_before_a_malformed_opcode_are_kept():
    data = pickle.dumps(Reducer(os.getcwd), protocol=2)[:-1] + b"\xff\xff"
    found = scan_stream(data)
    assert found.imports == {"posix.getcwd"}
    assert "unknown opcode 0xff" in found.stopped


def test_truncated_stream_is_reported_not_raised():
    found = scan_stream(pickle.dumps({"a": 1})[:-3])
    assert found.stopped and found.pickles == 0


def test_billion_laughs_is_measured_without_being_built():
    # 40 levels of ([x, x]) through the memo: 2^40 nodes from a few hundred bytes
    data = bytearray(b"\x80\x02]q\x00")
    for level in range(1, 41):
        data += b"h" + bytes([level - 1]) + b"h" + bytes([level - 1]) + b"\x86q" + bytes([level])
    data += b"."
    found = scan_stream(bytes(data))
    assert len(data) < 400 and found.expanded > MAX_EXPANDED_NODES and found.too_large


def test_a_self_referencing_structure_is_finite():
    config = {"name": "run"}
    config["self"] = config
    found = scan_stream(pickle.dumps(config, protocol=2))
    assert found.stopped is None and not found.too_large


@pytest.mark.parametrize(
    ("name", "verdict"),
    [
        ("torch._utils._rebuild_tensor_v2", "allowed"),
        ("torch.FloatStorage", "allowed"),
        ("torch.float32", "allowed"),
        ("collections.OrderedDict", "allowed"),
        ("numpy._core.multiarray.scalar", "numpy_scalar"),
        ("numpy.dtypes.Float64DType", "numpy_scalar"),
        ("pathlib.PosixPath", "other"),
        ("__main__.MyConfig", "other"),
        ("copyreg._reconstructor", "other"),
        ("builtins.frozenset", "other"),
    ],
)
def test_allowlist_and_refused(name, verdict):
    assert DEFAULT_POLICY.classify(name) == verdict


@pytest.mark.parametrize(
    "name",
    [
        "posix.system",
        "subprocess.Popen",
        "builtins.eval",
        "builtins.exec",
        "builtins.getattr",
        "builtins.__import__",
        "builtins.eval.__call__",
        "pathlib.os.system",
        "torch.load",
        "torch.hub.load",
        "torch.storage._load_from_bytes",
        "torch._inductor.codecache.compile_file",
        "torch.serialization.load",
        "timeit.timeit",
        "cProfile.run",
        "pydoc.pipepager",
        "venv.create",
        "ensurepip._run_pip",
        "pkgutil.resolve_name",
        "uuid._get_command_stdout",
        "io.FileIO",
        "logging.FileHandler",
        "urllib.request.urlopen",
        "http.client.HTTPConnection",
        "smtplib.SMTP",
        "socket.create_connection",
        "marshal.loads",
        "types.CodeType",
        "operator.attrgetter",
        "functools.partial",
        "importlib.import_module",
        "runpy.run_path",
        "shutil.rmtree",
        "numpy.testing._private.utils.runstring",
        "_osx_support._read_output",
        "imaplib.IMAP4_stream",
        "<extension code 7>",
        "mypkg.module.__globals__",
        "pathlib.Path.write_text",
        "cloudpickle.cloudpickle._make_function",
        "torch.fx.graph_module.reduce_graph_module",
    ],
)
def test_dangerous_in_any_spelling(name):
    assert DEFAULT_POLICY.classify(name) == "dangerous"


def test_configured_extras_join_the_allowlist():
    policy = ImportPolicy(frozenset({"mypkg.config.RunConfig"}))
    judged = policy.judge(["mypkg.config.RunConfig", "pathlib.PosixPath", "posix.system"])
    assert (judged.allowed, judged.other, judged.dangerous) == (("mypkg.config.RunConfig",), ("pathlib.PosixPath",), ("posix.system",))


def test_every_global_torch_allows_is_on_our_allowlist():
    """Our allowlist is by name; it must cover what the installed torch's weights-only loader accepts."""
    from torch import _weights_only_unpickler

    torch_allowed = set(_weights_only_unpickler._get_allowed_globals())
    assert torch_allowed, "torch's private allowlist moved: update this test"
    assert {name for name in torch_allowed if DEFAULT_POLICY.classify(name) != "allowed"} == set()


def test_torchscript_value_helpers_are_refused_not_dangerous():
    assert not is_dangerous("torch.jit._pickle.build_intlist")
    assert is_dangerous("torch.jit.load")
    assert is_dangerous("torch.jit._pickle.build_intlist.__globals__")
    assert is_dangerous("torch.jit._pickle.os.system")
