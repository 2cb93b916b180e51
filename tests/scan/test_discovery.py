"""Discovery hands each file over with the settings that govern it, and names each real file once."""

from __future__ import annotations

import os
from pathlib import Path

from vaeaudit.scan.discovery import iter_files_with_settings, iter_python_files
from vaeaudit.scan.settings import SettingsResolver


def test_each_file_comes_with_the_settings_of_its_closest_configuration(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.vaeaudit]\nselect = ['HYP001']\n", encoding="utf-8")
    sub = tmp_path / "sub"
    (sub / "deep").mkdir(parents=True)
    (sub / ".vaeaudit.toml").write_text("select = ['HYP002']\n", encoding="utf-8")
    files = [tmp_path / "a.py", sub / "b.py", sub / "deep" / "c.py"]
    for path in files:
        path.write_text("x = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    resolver = SettingsResolver()
    named = ["a.py", "sub/b.py", str(sub / "deep" / "c.py")]
    for given in ([str(tmp_path)], named):
        found = list(iter_files_with_settings(given, resolver))
        assert [path.name for path, _ in found] == ["a.py", "b.py", "c.py"]
        assert [settings.select for _, settings in found] == [("HYP001",), ("HYP002",), ("HYP002",)]
        assert all(settings is resolver.settings_for(path) for path, settings in found)


def test_a_file_named_several_ways_is_scanned_once(tmp_path: Path, monkeypatch) -> None:
    """Through a symlinked folder, a relative symlink, `..`, `.` and a symlinked file: one real file each."""
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "x" / "y").mkdir(parents=True)
    deep, shallow = tmp_path / "a" / "b" / "c" / "f.py", tmp_path / "a" / "b" / "g.py"
    deep.write_text("x = 1\n", encoding="utf-8")
    shallow.write_text("y = 2\n", encoding="utf-8")
    (tmp_path / "x" / "link").symlink_to(tmp_path / "a" / "b")
    (tmp_path / "x" / "y" / "rel").symlink_to(Path("..") / ".." / "a")
    (tmp_path / "x" / "h.py").symlink_to(shallow)
    monkeypatch.chdir(tmp_path / "x")
    names = ["link/c/f.py", "./link/./c/f.py", "y/rel/b/../b/c/f.py", str(deep), "link/g.py", "h.py", "../a/b/g.py", "y/../link/g.py"]
    assert [str(path) for path in iter_python_files(names, SettingsResolver())] == ["link/c/f.py", "link/g.py"]
    # Each name stands for the file realpath says it does.
    assert {os.path.realpath(name) for name in names} == {str(deep.resolve()), str(shallow.resolve())}
