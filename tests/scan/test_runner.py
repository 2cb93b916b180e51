"""The runner keeps each file's parse for the later rounds of the fixpoint that it analyses itself."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import libcst as cst
from hypothesis import given
from hypothesis import strategies as st

from vaeaudit.scan import reading
from vaeaudit.scan.runner import _absolute, scan_files
from vaeaudit.scan.settings import Settings

PROJECT = Path(__file__).parent / "fixtures" / "project_cross_file"


def counted_parses(monkeypatch, log: Path) -> None:
    """Count libcst parses in this process and in workers forked from it (one line per parse)."""
    real = cst.parse_module

    def counting(text, *args, **kwargs):
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{os.getpid()}\n")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(cst, "parse_module", counting)


def parses(log: Path) -> int:
    return len(log.read_text(encoding="utf-8").split()) if log.exists() else 0


def findings(run) -> list[tuple]:
    return [(Path(f.path).name, f.line, f.rule, f.evidence) for f in run.findings]


def test_a_file_analysed_again_is_not_parsed_again(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    settings = Settings(project_root=root, cache=False)
    fresh = scan_files(sorted(root.rglob("*.py")), settings, jobs=1)
    counted_parses(monkeypatch, tmp_path / "parses.log")
    run = scan_files(sorted(root.rglob("*.py")), settings, jobs=1)
    assert findings(run) == findings(fresh)
    assert 0 < parses(tmp_path / "parses.log") < run.parsed  # analyses (a file may be analysed in several rounds)
    assert reading._parses is None  # the scan's parses are not kept after it


def test_the_pool_and_this_process_give_the_same_results_and_keep_no_parses(tmp_path: Path) -> None:
    """Enough files for the worker processes in the first round; the later, small rounds run here."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    for index in range(70):
        source = f"from vaeaudit.geometry import exp_map_zero\n\nz{index} = exp_map_zero(x).norm()\n"
        (root / f"filler{index}.py").write_text(source, encoding="utf-8")
    files = sorted(root.rglob("*.py"))
    settings = Settings(project_root=root, cache=False)
    serial, pooled = scan_files(files, settings, jobs=1), scan_files(files, settings, jobs=2)
    assert findings(pooled) == findings(serial) and len(serial.findings) > 70
    assert reading._parses is None


def test_remembered_parses_are_the_same_module_until_forgotten() -> None:
    text = "x = 1\n"
    assert reading.parse(text, text.encode()) is not reading.parse(text, text.encode())
    reading.remember_parses(limit=2 * len(text))
    try:
        first = reading.parse(text, text.encode())
        assert reading.parse(text, text.encode()) is first
        for other in ("y = 2\n", "z = 3\n"):  # the limit holds two texts: the oldest goes
            reading.parse(other, other.encode())
        assert reading.parse(text, text.encode()) is not first
    finally:
        reading.forget_parses()
    assert reading.parse(text, text.encode()) is not reading.parse(text, text.encode())


@given(
    st.lists(st.sampled_from(["a", "b.py", ".", "..", "", ".x", "x.", "..."]), min_size=1, max_size=6),
    st.booleans(),
    st.sampled_from(["/", "/work/", "/work/x/", "/.hidden/", "/a/../b/"]),
)
def test_the_cache_key_of_a_path_is_its_absolute_path(parts: list[str], absolute: bool, folder: str) -> None:
    """`_absolute` skips abspath's getcwd and normpath when it can; it must never give another key."""
    name = ("/" if absolute else "") + "/".join(parts)
    working = folder.rstrip("/") or "/"
    assert _absolute(name, folder) == os.path.normpath(os.path.join(working, name))
