"""Bad input never crashes a scan: each broken file is reported, every other file is scanned."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

from click.testing import CliRunner

from vaeaudit.cli import main
from vaeaudit.scan.reading import SourceError, decode

FINDING = "from vaeaudit.geometry import exp_map_zero\nz = exp_map_zero(v)\nr = z.norm()\n"


def make_tree(root: Path) -> dict[str, str]:
    """A project with one good file and every kind of bad one; returns name -> expected error text."""
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    (root / "good.py").write_text(FINDING, encoding="utf-8")
    files = {
        "syntax.py": (b"def f(:\n    z_hyp.norm()\n", "syntax error at 1:7: invalid syntax"),
        "python2.py": (b"print 'radius', z_hyp.norm()\nexcept ValueError, e:\n", "Python 2"),
        "latin1_no_cookie.py": ("r = z_hyp.norm()  # caf\xe9\n".encode("latin-1"), "not valid utf-8 and has no coding cookie"),
        "binary.py": (bytes(random.Random(0).randrange(256) for _ in range(4096)) + b"\x00", "binary file"),
        "bad_cookie.py": (b"# -*- coding: klingon -*-\nr = 1\n", "encoding"),
    }
    for name, (data, _) in files.items():
        (root / name).write_bytes(data)
    # Files that are fine (and two of them have findings) despite odd bytes.
    (root / "latin1_cookie.py").write_bytes("# -*- coding: latin-1 -*-\n# caf\xe9\n".encode("latin-1") + FINDING.encode())
    (root / "bom.py").write_bytes(b"\xef\xbb\xbf" + FINDING.encode())
    (root / "crlf.py").write_bytes(FINDING.replace("\n", "\r\n").encode())
    (root / "empty.py").write_bytes(b"")
    generated = "".join(f"value_{i} = [{', '.join(str(j) for j in range(40))}]\n" for i in range(40_000))
    (root / "generated.py").write_text(generated + "z_hyp_norm = 1\n", encoding="utf-8")
    os.symlink(root, root / "loop")
    return {name: expected for name, (_, expected) in files.items()}


def test_every_bad_file_is_reported_and_the_rest_scanned(tmp_path: Path, monkeypatch) -> None:
    errors = make_tree(tmp_path)
    assert (tmp_path / "generated.py").stat().st_size > 5_000_000
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["scan", "--no-cache", "."])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for name, expected in errors.items():
        line = next(line for line in result.stderr.splitlines() if line.startswith(f"{name}: error: "))
        assert expected in line, line
    assert re.search(r"generated.py: warning: not parsed: [\d,]+ bytes is over max-file-size", result.stderr)
    reported = {line.split(":")[0] for line in result.stdout.splitlines()}
    assert reported == {"good.py", "latin1_cookie.py", "bom.py", "crlf.py"}
    crlf = next(line for line in result.stdout.splitlines() if line.startswith("crlf.py"))
    assert crlf.startswith("crlf.py:3:5: HYP001")


def test_decode_names_the_offending_byte() -> None:
    try:
        decode("x = 'caf\xe9'\n".encode("latin-1"))
    except SourceError as error:
        assert "byte 0xe9 at offset 8" in str(error)
    else:
        raise AssertionError("latin-1 without a cookie must not decode")


def test_syntax_errors_are_reported_in_files_the_prefilter_skips(tmp_path: Path, monkeypatch) -> None:
    """No norm and no ball point, so never parsed for findings, yet still checked for syntax."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    (tmp_path / "broken.py").write_text("def f(:\n    return 1\n", encoding="utf-8")
    (tmp_path / "legacy.py").write_text("print 'done'\n", encoding="utf-8")
    # PEP 695 syntax: rejected by Python 3.11's own parser, accepted by libcst, so not an error.
    (tmp_path / "newer.py").write_text("def first[T](items: list[T]) -> T:\n    return items[0]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["scan", "--no-cache", "."])
    assert result.exit_code == 2, result.output
    errors = sorted(line for line in result.stderr.splitlines() if ": error: " in line)
    assert [line.split(":")[0] for line in errors] == ["broken.py", "legacy.py"], result.stderr
    assert all(": error: syntax error at " in line for line in errors)
    assert errors[1].endswith("(this looks like Python 2)")


def test_raising_max_file_size_rechecks_a_cached_file(tmp_path: Path, monkeypatch) -> None:
    """A file over the limit is not checked; once the limit allows it, the cache must not answer for it."""
    broken = "def f(:\n" + "x = 1\n" * 200
    (tmp_path / "big.py").write_text(broken, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.vaeaudit]\nmax-file-size = 100\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["scan", "."]).exit_code == 0
    (tmp_path / "pyproject.toml").write_text("[tool.vaeaudit]\nmax-file-size = 100000\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", "."])
    assert result.exit_code == 2 and "big.py: error: syntax error" in result.stderr, result.output


def test_syntax_errors_are_reported_where_python_reports_them(tmp_path: Path, monkeypatch) -> None:
    """libcst's recovery says 3:3 here; Python (and every editor) says 2:3."""
    (tmp_path / "list.py").write_text("x = [1,\n  2\n  3]\n", encoding="utf-8")
    (tmp_path / "hyp.py").write_text("import torch\nr = z_hyp.norm(\n", encoding="utf-8")  # a prefilter candidate too
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["scan", "--no-cache", "."])
    assert result.exit_code == 2
    assert "hyp.py: error: syntax error at 2:15: '(' was never closed" in result.stderr
    assert "list.py: error: syntax error at 2:3: invalid syntax. Perhaps you forgot a comma?" in result.stderr
