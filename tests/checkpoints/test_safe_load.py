"""Every bad or hostile file gets a named verdict; nothing dangerous ever runs or loads."""

import io
import os
import pathlib
import pickle
import warnings
import zipfile

import numpy as np
import pytest
import torch
from tree_builder import PRINT_SENTINEL, PrintPayload, good_metrics, make_config, model_state, vaeaudit_checkpoint

from vaeaudit.checkpoints.safe_load import load_checkpoint
from vaeaudit.checkpoints.sniff import sniff
from vaeaudit.checkpoints.zipcheck import check_zip

EXPECTED = {
    "malicious": ("unsafe", "posix.mkdir"),
    "print_pickle": ("unsafe", "builtins.print"),
    "protocol4": ("refused", "Unsupported operand"),
    "truncated": ("corrupt", "truncated or corrupt zip"),
    "flipped_crc": ("corrupt", "CRC mismatch"),
    "deflated": ("corrupt", "is compressed"),
    "zip_bomb": ("corrupt", "more than the whole file"),
    "lfs_pointer": ("not-a-checkpoint", "git-LFS pointer"),
    "png": ("not-a-checkpoint", "PNG image"),
    "empty": ("corrupt", "empty file"),
    "no_data_pkl": ("not-a-checkpoint", "without <folder>/data.pkl"),
    "foreign_globals": ("refused", "pathlib.PosixPath"),
    "legacy": ("loaded", ""),
    "torchscript": ("not-a-checkpoint", "TorchScript"),
    "symlink_loop": ("unreadable", "symlink loop"),
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_bad_file_verdicts(tree, kind):
    verdict, reason = EXPECTED[kind]
    outcome = load_checkpoint(tree.bad_files[kind])
    assert outcome.verdict == verdict
    assert reason in outcome.reason
    assert (outcome.obj is not None) == (verdict == "loaded")


def test_unreadable_file(tree):
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading (test_permission_denied_is_named covers it)")
    outcome = load_checkpoint(tree.bad_files["unreadable"])
    assert (outcome.verdict, outcome.reason) == ("unreadable", "permission denied")


@pytest.mark.parametrize("kind", ["FIFO", "character device"])
def test_special_files_are_refused_without_reading(tmp_path, kind):
    """A FIFO named best.pt would block a plain read forever; a link to /dev/zero never ends."""
    path = tmp_path / "best.pt"
    if kind == "FIFO":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    outcome = load_checkpoint(path)
    assert (outcome.verdict, outcome.reason) == ("unreadable", f"not a regular file ({kind})")


def test_hostile_payloads_never_run(tree, capfd):
    for kind in ("malicious", "print_pickle"):
        load_checkpoint(tree.bad_files[kind])
    assert not tree.marker.exists()
    captured = capfd.readouterr()
    assert PRINT_SENTINEL not in captured.out + captured.err


def test_torch_load_is_always_weights_only_and_cpu(tree, monkeypatch):
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        assert kwargs.get("weights_only") is True
        assert kwargs.get("map_location") == "cpu"
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    for path in tree.bad_files.values():
        load_checkpoint(path)
    assert calls, "some file should have reached torch.load"
    assert not tree.marker.exists()


def test_our_crc_check_is_not_redundant_with_torch(tree):
    """torch's zip reader skips CRCs: it loads a checkpoint with a flipped tensor byte
    without a word, so the audit's own CRC pass is what calls the file corrupt."""
    flipped = tree.bad_files["flipped_crc"].read_bytes()
    loaded = torch.load(io.BytesIO(flipped), map_location="cpu", weights_only=True)
    assert loaded["model_state_dict"]
    assert load_checkpoint(tree.bad_files["flipped_crc"]).verdict == "corrupt"


def _checkpoint_bytes(extra: dict) -> bytes:
    config = make_config()
    checkpoint = vaeaudit_checkpoint(model_state(config, 1), config, good_metrics(), epoch=1)
    buffer = io.BytesIO()
    torch.save({**checkpoint, **extra}, buffer)
    return buffer.getvalue()


def test_numpy_scalars_load_through_the_narrow_allowlist(tmp_path):
    path = tmp_path / "numpy.pt"
    path.write_bytes(_checkpoint_bytes({"best_loss": np.float64(0.25), "hist": [np.float32(1.5)]}))
    outcome = load_checkpoint(path)
    assert outcome.verdict == "loaded"
    assert outcome.obj["best_loss"] == 0.25
    assert "numpy._core.multiarray.scalar" in outcome.imports.numpy_scalar


def test_numpy_allowlist_is_not_granted_when_anything_else_is_imported(tmp_path):
    path = tmp_path / "mixed.pt"
    path.write_bytes(_checkpoint_bytes({"best_loss": np.float64(0.25), "where": pathlib.PurePosixPath("/x")}))
    outcome = load_checkpoint(path)
    assert outcome.verdict == "refused"
    assert "pathlib.PurePosixPath" in outcome.reason
    assert outcome.obj is None


def test_the_scanned_bytes_are_the_loaded_bytes(tmp_path, monkeypatch):
    # the file is read exactly once: swapping it after the read cannot smuggle a payload in
    path = tmp_path / "once.pt"
    path.write_bytes(_checkpoint_bytes({}))
    opens = []
    real_open = os.open

    def counting_open(name, *args, **kwargs):
        opens.append(pathlib.Path(name))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting_open)
    assert load_checkpoint(path).verdict == "loaded"
    assert opens == [path]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "empty"),
        (b"PK\x03\x04rest", "zip"),
        (b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.rest", "legacy"),
        (b"\x80\x04\x95", "pickle"),
        (b"version https://git-lfs.github.com/spec/v1\n", "lfs-pointer"),
        (b"\x89PNG\r\n\x1a\n....", "foreign"),
        (b"hello world", "unknown"),
        (b"\x93NUMPY\x01\x00", "npy"),
        (b"\x1f\x8b\x08", "compressed"),
    ],
)
def test_sniff(data, kind):
    assert sniff(data).kind == kind


def test_zip_check_accepts_a_sound_checkpoint():
    data = _checkpoint_bytes({})
    report = check_zip(data)
    assert report.problems == []
    assert report.names == zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert all(member.listed for member in report.members)


def test_permission_denied_is_named(tmp_path, monkeypatch):
    # the root-proof counterpart of test_unreadable_file: the OS refusal itself is simulated
    path = tmp_path / "locked.pt"
    path.write_bytes(b"PK\x03\x04")

    def refuse(name, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(name))

    monkeypatch.setattr(os, "open", refuse)
    outcome = load_checkpoint(path)
    assert (outcome.verdict, outcome.reason) == ("unreadable", "permission denied")


def _rezip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate name
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in members:
                archive.writestr(name, data)
    return buffer.getvalue()


def test_a_second_pickle_in_the_archive_is_scanned_too(tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(_checkpoint_bytes({})))
    members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    evil = pickle.dumps(PrintPayload(), protocol=2)
    path = tmp_path / "two.pt"
    path.write_bytes(_rezip([*members, ("archive/extra.pkl", evil)]))
    outcome = load_checkpoint(path)
    assert (outcome.verdict, outcome.imports.dangerous) == ("unsafe", ("builtins.print",))


@pytest.mark.parametrize(("second", "verdict"), [({"harmless": 1}, "corrupt"), (PrintPayload(), "unsafe")])
def test_duplicate_member_names_are_refused_and_both_copies_judged(tmp_path, second, verdict):
    archive = zipfile.ZipFile(io.BytesIO(_checkpoint_bytes({})))
    members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    data_pkl = next(name for name, _ in members if name.endswith("/data.pkl"))
    path = tmp_path / "twice.pt"
    path.write_bytes(_rezip([*members, (data_pkl, pickle.dumps(second, protocol=2))]))
    outcome = load_checkpoint(path)
    assert (outcome.verdict, outcome.obj) == (verdict, None)
    assert "appears twice" in outcome.reason if verdict == "corrupt" else "builtins.print" in outcome.reason
