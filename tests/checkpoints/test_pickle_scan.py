"""The static pickle scan finds every import, however it is spelled, and runs nothing."""

import builtins
import collections
import os
import pickle
import pickletools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeaudit.checkpoints.pickle_scan import PickleScanError, classify_global, scan_pickles

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
    padding=st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=5),
)
def test_every_import_is_found_at_every_protocol(chosen, protocol, padding):
    payload = {"padding": padding, "calls": [Reducer(function) for function in chosen]}
    found = scan_pickles(pickle.dumps(payload, protocol=protocol))
    assert set(found.all) == {qualified(function) for function in chosen}


def test_stack_global_operands_fetched_from_the_memo_are_resolved():
    # protocol 4: the second use of "posix" comes back through BINGET/MEMOIZE
    data = pickle.dumps([Reducer(os.getcwd), Reducer(os.getpid)], protocol=4)
    assert any(op.name == "BINGET" for op, _, _ in pickletools.genops(data))
    assert scan_pickles(data).dangerous == ("posix.getcwd", "posix.getpid")


def test_a_popped_decoy_string_does_not_hide_the_real_module():
    # "os", "decoy", POP, "system" -> STACK_GLOBAL sees ("os", "system")
    data = b"\x80\x04\x8c\x02os\x8c\x05decoy0\x8c\x06system\x93)R."
    assert scan_pickles(data).dangerous == ("os.system",)


def test_truncated_stream_is_an_error_not_a_crash():
    with pytest.raises(PickleScanError):
        scan_pickles(pickle.dumps({"a": 1})[:-3])


@pytest.mark.parametrize(
    ("name", "verdict"),
    [
        ("torch._utils._rebuild_tensor_v2", "weights_only"),
        ("torch.FloatStorage", "weights_only"),
        ("torch.float32", "weights_only"),
        ("collections.OrderedDict", "weights_only"),
        ("numpy._core.multiarray.scalar", "numpy_scalar"),
        ("numpy.dtypes.Float64DType", "numpy_scalar"),
        ("posix.system", "dangerous"),
        ("subprocess.Popen", "dangerous"),
        ("builtins.eval", "dangerous"),
        ("builtins.exec", "dangerous"),
        ("builtins.getattr", "dangerous"),
        ("torch.load", "dangerous"),
        ("torch.hub.load", "dangerous"),
        ("pathlib.PosixPath", "other"),
    ],
)
def test_classification(name, verdict):
    assert classify_global(name) == verdict
