"""Atomic writes: old or new content, never half; modes kept; no temp files left."""

import os
import stat

import pytest

from vaeaudit.atomic import atomic_path, atomic_write_bytes, atomic_write_text


def test_replaces_content_and_keeps_mode(tmp_path):
    target = tmp_path / "script.py"
    target.write_text("old")
    os.chmod(target, 0o751)
    atomic_write_text(target, "new\r\n")
    assert target.read_bytes() == b"new\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert os.listdir(tmp_path) == ["script.py"]


def test_new_file_gets_umask_mode(tmp_path):
    target = tmp_path / "report.md"
    atomic_write_bytes(target, b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_failure_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "latest.pt"
    target.write_bytes(b"previous checkpoint")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temp:
            temp.write_bytes(b"half")
            raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"previous checkpoint"
    assert os.listdir(tmp_path) == ["latest.pt"]
