"""`discover` answers from the cache only while the walk would find the same files with the same settings.

Each test compares the cached answer with a fresh walk (`iter_files_with_settings`) after
changes to the tree: files and folders added or removed, `.gitignore` files and
configuration files created or edited. Timestamps are set explicitly (`touch`): the tests
must not depend on how coarse the file system's clock is.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaeaudit.scan import discovery
from vaeaudit.scan.discovery import discover, iter_files_with_settings
from vaeaudit.scan.settings import SettingsResolver

TICK = 10**9  # one second, in ns


@pytest.fixture
def trusting(monkeypatch):
    """Stats recorded right now are trusted (the tests move timestamps themselves)."""
    monkeypatch.setattr(discovery, "RACY_NS", -(10**12))


def touch(path: Path, step: int = 1) -> None:
    """Move `path`'s mtime forward, as a later change would."""
    mtime = os.stat(path).st_mtime_ns + step * TICK
    os.utime(path, ns=(mtime, mtime))


def walked(root: Path) -> list[tuple[str, object]]:
    return [(str(path), found) for path, found in iter_files_with_settings([str(root)], SettingsResolver())]


def cached(root: Path) -> list[tuple[str, object]]:
    return [(str(path), found) for path, found in discover([str(root)], SettingsResolver())]


def make_tree(root: Path) -> None:
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.vaeaudit]\n", encoding="utf-8")
    for name in ("a.py", "pkg/b.py", "pkg/sub/c.py", "pkg/notes.txt"):
        (root / name).write_text("x = 1\n", encoding="utf-8")


def test_a_second_run_is_answered_without_walking(tmp_path: Path, trusting, monkeypatch) -> None:
    make_tree(tmp_path)
    first = cached(tmp_path)
    assert first == walked(tmp_path) and len(first) == 3
    monkeypatch.setattr(discovery, "_walk", lambda *args: pytest.fail("walked although nothing changed"))
    assert cached(tmp_path) == first


@pytest.mark.parametrize(
    "change",
    [
        "new file",
        "removed file",
        "new folder",
        "new .gitignore",
        "edited .gitignore",
        "new configuration",
        "edited configuration",
    ],
)
def test_a_change_the_walk_depends_on_is_seen(tmp_path: Path, trusting, change: str) -> None:
    make_tree(tmp_path)
    (tmp_path / "pkg" / ".gitignore").write_text("*.txt\n", encoding="utf-8")
    (tmp_path / "pkg" / "sub" / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    cached(tmp_path)
    sub = tmp_path / "pkg" / "sub"
    if change == "new file":
        (sub / "d.py").write_text("y = 2\n", encoding="utf-8")
        touch(sub)
    elif change == "removed file":
        (sub / "c.py").unlink()
        touch(sub)
    elif change == "new folder":
        (sub / "deeper").mkdir()
        (sub / "deeper" / "e.py").write_text("z = 3\n", encoding="utf-8")
        touch(sub)
    elif change == "new .gitignore":
        (sub / ".gitignore").write_text("c.py\n", encoding="utf-8")
        touch(sub)
    elif change == "edited .gitignore":
        (tmp_path / "pkg" / ".gitignore").write_text("*.txt\nb.py\n", encoding="utf-8")
        touch(tmp_path / "pkg" / ".gitignore")
    elif change == "new configuration":
        (sub / "vaeaudit.toml").write_text('extend-exclude = ["c.py"]\n', encoding="utf-8")
        touch(sub)
    else:  # a pyproject.toml that had no [tool.vaeaudit] table gets one: the folder's mtime stays
        (sub / "pyproject.toml").write_text('[tool.vaeaudit]\nextend-exclude = ["c.py"]\n', encoding="utf-8")
        touch(sub / "pyproject.toml")
    assert cached(tmp_path) == walked(tmp_path)
    assert cached(tmp_path) == walked(tmp_path)  # and the new answer is what the cache keeps


def test_a_change_too_recent_to_trust_its_timestamp_is_walked_again(tmp_path: Path, monkeypatch) -> None:
    """Racy timestamps: a file created in the same clock tick as the walk leaves the folder's mtime as it was."""
    make_tree(tmp_path)
    cached(tmp_path)  # every stat is younger than two seconds: none is trusted
    mtime = os.stat(tmp_path / "pkg").st_mtime_ns
    (tmp_path / "pkg" / "late.py").write_text("w = 4\n", encoding="utf-8")
    os.utime(tmp_path / "pkg", ns=(mtime, mtime))  # the coarse clock did not move
    assert any(path.endswith("late.py") for path, _ in cached(tmp_path))


def test_the_cache_folder_is_never_walked(tmp_path: Path) -> None:
    make_tree(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.vaeaudit]\ncache-dir = "build-cache"\n', encoding="utf-8")
    (tmp_path / "build-cache").mkdir()
    (tmp_path / "build-cache" / "stale.py").write_text("v = 5\n", encoding="utf-8")
    assert not any("build-cache" in path for path, _ in walked(tmp_path))


def test_without_the_cache_nothing_is_written(tmp_path: Path) -> None:
    make_tree(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.vaeaudit]\ncache = false\n", encoding="utf-8")
    assert cached(tmp_path) == walked(tmp_path)
    assert not list(tmp_path.rglob("discovery-*.json"))


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["add file", "remove file", "add folder", "ignore", "exclude", "remove folder"]),
        st.sampled_from(["", "pkg", "pkg/sub"]),
        st.sampled_from(["a.py", "b.py", "n.ipynb", "data.txt"]),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPERATIONS)
def test_after_any_changes_the_cached_answer_is_the_walk(tmp_path_factory, trusting, operations) -> None:
    root = tmp_path_factory.mktemp("tree")
    make_tree(root)
    cached(root)
    for step, (operation, where, name) in enumerate(operations, start=1):
        folder = root / where
        folder.mkdir(parents=True, exist_ok=True)
        if operation == "add file":
            (folder / name).write_text("x = 1\n", encoding="utf-8")
        elif operation == "remove file":
            (folder / name).unlink(missing_ok=True)
        elif operation == "add folder":
            (folder / f"new{step}").mkdir(exist_ok=True)
            (folder / f"new{step}" / name).write_text("x = 1\n", encoding="utf-8")
            touch(folder / f"new{step}", step)
        elif operation == "ignore":
            with open(folder / ".gitignore", "a", encoding="utf-8") as handle:
                handle.write(f"{name}\n")
            touch(folder / ".gitignore", step)
        elif operation == "exclude":
            (folder / "vaeaudit.toml").write_text(f'extend-exclude = ["{name}"]\n', encoding="utf-8")
            touch(folder / "vaeaudit.toml", step)
        elif where:
            shutil.rmtree(folder)
            folder = folder.parent
        touch(folder, step)
        assert cached(root) == walked(root)
