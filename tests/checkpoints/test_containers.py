"""Every pickle is judged, whatever holds it; pathological files cost bounded time.

Hostile files are built here with harmless callables (os.getcwd, builtins.print) and are
never unpickled: the only loader that runs is torch's weights-only one, after the scan.
"""

import bz2
import gzip
import io
import json
import os
import pickle
import struct
import time
import warnings
import zipfile

import numpy as np
import pytest
import torch
from tree_builder import PRINT_SENTINEL, PrintPayload

from vaeaudit.checkpoints import safe_load
from vaeaudit.checkpoints.file_audit import audit_file
from vaeaudit.checkpoints.safe_load import load_checkpoint
from vaeaudit.checkpoints.settings import CheckpointSettings
from vaeaudit.checkpoints.sniff import LEGACY_MAGIC


class Call:
    def __init__(self, function):
        self.function = function

    def __reduce__(self):
        return (self.function, ())


def evil(protocol: int = 2) -> bytes:
    return pickle.dumps({"weights": [1.0], "hook": Call(os.getcwd)}, protocol=protocol)


def torch_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data, compress_type=compression)
    return buffer.getvalue()


def real_checkpoint_members() -> dict[str, bytes]:
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buffer)
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    return {info.filename: archive.read(info) for info in archive.infolist()}


def write(tmp_path, data: bytes, name: str = "best.pt"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("protocol", range(6))
def test_plain_pickle_named_pt_is_unsafe_at_every_protocol(tmp_path, protocol):
    outcome = load_checkpoint(write(tmp_path, evil(protocol)))
    assert (outcome.verdict, outcome.imports.dangerous) == ("unsafe", ("posix.getcwd",))


def test_a_legacy_file_whose_fourth_pickle_imports_is_unsafe(tmp_path):
    stream = LEGACY_MAGIC + pickle.dumps(1001, protocol=2) + pickle.dumps({"little_endian": True}, protocol=2)
    outcome = load_checkpoint(write(tmp_path, stream + evil() + pickle.dumps([], protocol=2)))
    assert (outcome.kind, outcome.verdict, outcome.imports.dangerous) == ("legacy", "unsafe", ("posix.getcwd",))


def test_a_later_pickle_of_a_plain_stream_is_scanned(tmp_path):
    outcome = load_checkpoint(write(tmp_path, pickle.dumps({"a": 1}) + pickle.dumps([2]) + evil(4)))
    assert outcome.verdict == "unsafe"


def test_imports_read_before_parsing_stops_are_kept(tmp_path):
    outcome = load_checkpoint(write(tmp_path, evil()[:-1] + b"\xff garbage"))
    assert outcome.verdict == "unsafe" and "read before the stream stopped" in outcome.reason


@pytest.mark.parametrize(
    "members",
    [
        {"data.pkl": evil()},  # at the root, where torch would not look
        {"archive/data.pkl": pickle.dumps({}), "archive/extra/anything.pkl": evil()},
        {"weights/blob": evil(4)},  # a pickle under another name, recognised by its PROTO opcode
    ],
    ids=["root", "nested-folder", "unnamed"],
)
def test_every_zip_member_is_scanned_wherever_it_sits(tmp_path, members):
    assert load_checkpoint(write(tmp_path, torch_zip(members))).verdict == "unsafe"


def test_compressed_and_nested_members_are_opened(tmp_path):
    deflated = torch_zip({"archive/data.pkl": evil()}, zipfile.ZIP_DEFLATED)
    assert load_checkpoint(write(tmp_path, deflated, "a.pt")).verdict == "unsafe"
    nested = torch_zip({"inner.zip": torch_zip({"x/data.pkl": evil()})})
    assert load_checkpoint(write(tmp_path, nested, "b.pt")).verdict == "unsafe"


def without_last_directory_entry(data: bytes) -> bytes:
    """The archive with its last central-directory entry removed (count and size fixed):
    the member's local header and bytes stay, only the directory forgets it."""
    end = data.rindex(b"PK\x05\x06")
    last = data.rindex(b"PK\x01\x02", 0, end)
    count, _, size, start = struct.unpack_from("<HHII", data, end + 8)
    trailer = bytearray(data[end:])
    struct.pack_into("<HHII", trailer, 8, count - 1, count - 1, size - (end - last), start)
    return data[:last] + bytes(trailer)


def test_a_member_missing_from_the_central_directory_is_found(tmp_path):
    data = without_last_directory_entry(torch_zip({"archive/data.pkl": pickle.dumps({}), "archive/payload.pkl": evil()}))
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["archive/data.pkl"]
    outcome = load_checkpoint(write(tmp_path, data))
    assert outcome.verdict == "unsafe"
    assert [member.name for member in outcome.zip_report.members if not member.listed] == ["archive/payload.pkl"]


def test_an_encrypted_flag_does_not_hide_a_stored_pickle(tmp_path):
    data = bytearray(torch_zip({"archive/data.pkl": evil()}))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.index(signature)
        data[position + flag_offset] |= 0x01
    assert load_checkpoint(write(tmp_path, bytes(data))).verdict == "unsafe"


def test_torchscript_constants_are_scanned(tmp_path):
    members = {"model/data.pkl": pickle.dumps({}), "model/constants.pkl": evil(), "model/code/m.py": b"def f(): pass\n"}
    outcome = load_checkpoint(write(tmp_path, torch_zip(members)))
    assert (outcome.kind, outcome.verdict) == ("torchscript", "unsafe")


def test_a_clean_torchscript_archive_is_not_a_checkpoint_and_not_unsafe(tmp_path):
    path = tmp_path / "scripted.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    assert load_checkpoint(path).verdict == "not-a-checkpoint"


def npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def test_numpy_object_arrays_are_scanned_plain_arrays_are_not_pickles(tmp_path):
    hostile = np.empty(1, dtype=object)
    hostile[0] = Call(os.getcwd)
    assert load_checkpoint(write(tmp_path, npy_bytes(hostile), "a.npy")).verdict == "unsafe"
    plain = load_checkpoint(write(tmp_path, npy_bytes(np.arange(4)), "b.npy"))
    assert (plain.verdict, plain.imports.all) == ("not-a-checkpoint", ())
    npz = torch_zip({"arr_0.npy": npy_bytes(np.arange(3)), "arr_1.npy": npy_bytes(hostile)})
    assert load_checkpoint(write(tmp_path, npz, "c.npz")).verdict == "unsafe"


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress], ids=["gzip", "bzip2"])
def test_compressed_pickles_are_opened_within_a_bound(tmp_path, compress):
    assert load_checkpoint(write(tmp_path, compress(evil()), "x.pkl.gz")).verdict == "unsafe"


def billion_laughs(levels: int = 40) -> bytes:
    """A ~300-byte pickle of nested 2-tuples sharing one child: 2^levels nodes, weights-only loadable."""
    data = bytearray(b"\x80\x02]q\x00")
    for level in range(1, levels + 1):
        data += b"h" + bytes([level - 1]) + b"h" + bytes([level - 1]) + b"\x86q" + bytes([level])
    return bytes(data + b".")


def test_billion_laughs_is_too_expensive_not_a_hang(tmp_path):
    payload = torch_zip(
        {**{k: v for k, v in real_checkpoint_members().items() if not k.endswith("data.pkl")}, "archive/data.pkl": billion_laughs()}
    )
    started = time.perf_counter()
    outcome = load_checkpoint(write(tmp_path, payload))
    assert outcome.verdict == "too-expensive" and "billion laughs" in outcome.reason
    assert time.perf_counter() - started < 30  # a hang would never get here; not a speed assertion


def test_the_time_budget_turns_a_slow_file_into_a_finding(tmp_path, monkeypatch):
    path = write(tmp_path, pickle.dumps({"a": 1}))

    def slow(*args, **kwargs):
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(safe_load, "scan_file", slow)
    record = audit_file(path, "best.pt", "run", CheckpointSettings(file_time_budget=0.2))
    assert record.verdict == "too-expensive"
    assert [problem.code for problem in record.problems] == ["too-expensive"]


def test_nothing_hostile_ran(tmp_path, capfd):
    for index, data in enumerate((evil(0), evil(5), pickle.dumps(PrintPayload(), protocol=1))):
        load_checkpoint(write(tmp_path, data, f"{index}.pt"))
    captured = capfd.readouterr()
    assert PRINT_SENTINEL not in captured.out + captured.err


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def test_inspect_survives_self_reference_and_mixed_keys(tmp_path):
    from click.testing import CliRunner

    from vaeaudit.cli import main

    config = {"model": {"latent_dim": 4}, 1: "one", (2, 3): "tuple key", "name": "x"}
    config["model"]["parent"] = config
    path = write(tmp_path, saved({"model_state_dict": {"w": torch.ones(2)}, "config": config, 7: "int key", "phase": [1] * 10_000}))
    result = CliRunner().invoke(main, ["checkpoints", "inspect", str(path)])
    assert result.exit_code == 0, result.output
    assert "<cycle>" in result.output and "Traceback" not in result.output
    assert max(len(line) for line in result.output.splitlines()) < 2_000


def test_report_on_a_tree_with_a_billion_laughs_and_side_files(tmp_path):
    from vaeaudit.checkpoints.report import render_markdown, render_table_format
    from vaeaudit.checkpoints.tree_audit import audit_tree

    root = tmp_path / "runs"
    laughs = torch_zip(
        {**{k: v for k, v in real_checkpoint_members().items() if not k.endswith("data.pkl")}, "archive/data.pkl": billion_laughs()}
    )
    (root / "laughs").mkdir(parents=True)
    write(root / "laughs", laughs)
    side = root / "side_files"
    side.mkdir()
    write(side, saved({"model_state_dict": {"w": torch.ones(2)}, "epoch": 1}))
    write(side, evil(), "stats.pkl")
    write(side, npy_bytes(np.arange(3)), "embedding.npy")
    write(side, saved({"w": torch.ones(1)}), "pytorch_model.bin")
    write(side, b"epoch 1 loss 0.3\n", "notes.txt")
    write(side, b"\x00\x01binary", "mystery")
    audit = audit_tree(root, CheckpointSettings())
    runs = {run.name: run for run in audit.runs}
    assert runs["laughs"].files[0].verdict == "too-expensive" and runs["laughs"].verdict == "invalid"
    by_name = {record.path.name: record for record in runs["side_files"].files}
    assert by_name["stats.pkl"].verdict == "unsafe" and runs["side_files"].verdict == "unsafe"
    assert by_name["embedding.npy"].side and by_name["embedding.npy"].problems == []
    assert by_name["pytorch_model.bin"].verdict == "loaded"
    assert runs["side_files"].status == "complete" and runs["side_files"].primary.path.name == "best.pt"
    assert dict(runs["side_files"].not_audited) == {
        "side_files/notes.txt": "notes (text)",
        "side_files/mystery": "unrecognised name and content (no pickle, zip, numpy or compression magic)",
    }
    markdown = render_markdown(audit)
    assert "stats.pkl" in markdown and "mystery" in markdown
    rows = json.loads(render_table_format(audit, "json"))["files"]
    assert {row["path"]: row["load"] for row in rows}["side_files/mystery"] == "not-audited"


def test_non_text_state_dict_keys_are_named_not_a_crash(tmp_path):
    weights = {0: torch.full((2, 2), float("nan")), ("a", 1): torch.ones(2)}
    record = audit_file(write(tmp_path, saved({"model_state_dict": weights, "epoch": 1})), "best.pt", "run", CheckpointSettings())
    assert record.verdict == "loaded"
    assert "NaN/inf values in 0" in " ".join(problem.message for problem in record.problems)


def test_ctrl_c_exits_130_and_keeps_the_previous_report(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from vaeaudit.checkpoints import tree_audit
    from vaeaudit.cli import main

    (tmp_path / "runs" / "a").mkdir(parents=True)
    report = tmp_path / "reports" / "checkpoints.md"
    report.parent.mkdir()
    report.write_text("previous report\n")
    monkeypatch.chdir(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tree_audit, "audit_tree", interrupted)
    result = CliRunner().invoke(main, ["checkpoints", "report"])
    assert result.exit_code == 130
    assert report.read_text() == "previous report\n"
