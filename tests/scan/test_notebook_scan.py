"""Jupyter notebooks: code cells scanned (magics skipped, lines kept), told by cell, written back byte-identical."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaeaudit.cli import main
from vaeaudit.scan.notebook import Notebook

SETUP = ["%matplotlib inline\n", "import torch\n", "from vaeaudit.geometry import exp_map_zero\n", "z = exp_map_zero(torch.zeros(3))"]
USE = [
    "!pip install geoopt\n",
    "files = !ls\n",
    "for i in range(2):\n",
    "    %time print(i)\n",
    "s = '''\n",
    "%this is text, not a magic\n",
    "'''\n",
    "r = z.norm(dim=-1)\n",
    "torch.norm?",
]


def notebook(*code_cells: list[str], language: str = "python", indent: int = 1, newline: str = "\n") -> str:
    """A notebook laid out as nbformat writes it (or with another indent / no final newline)."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# Radii\n", "é\n"]}]
    cells += [
        {
            "cell_type": "code",
            "execution_count": n,
            "metadata": {"tags": []},
            "outputs": [{"name": "stdout", "output_type": "stream", "text": ["out\n"]}],
            "source": source,
        }
        for n, source in enumerate(code_cells, start=1)
    ]
    cells.insert(2, {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": ["%%bash\n", "echo $HOME\n"]})
    document = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": language, "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=indent, sort_keys=True, ensure_ascii=False) + newline


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.vaeaudit]\n", encoding="utf-8")
    (tmp_path / "analysis.ipynb").write_text(notebook(SETUP, USE), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_code_cells_become_python_with_magics_masked_and_lines_kept() -> None:
    book = Notebook(notebook(SETUP, USE))
    compile(book.python, "<notebook>", "exec")  # every IPython line is now a statement that parses
    lines = book.python.splitlines()
    assert "%this is text, not a magic" in lines  # inside a string: left alone
    assert not any(line.lstrip().startswith(("%", "!")) for line in lines if "text, not" not in line)
    row = lines.index("r = z.norm(dim=-1)") + 1
    assert book.locate(row) == (4, 8)  # cell 4 as Jupyter counts (markdown and %%bash cells included), line 8 in it
    assert book.locate(lines.index("import torch") + 1) == (2, 2)


@pytest.mark.parametrize("layout", [{}, {"indent": 2}, {"newline": ""}])
def test_round_trip_is_byte_identical_except_the_changed_line(layout) -> None:
    text = notebook(SETUP, USE, **layout)
    book = Notebook(text)
    assert book.with_python(book.python) == text
    changed = book.with_python(book.python.replace("r = z.norm(dim=-1)", "r = radius(z)"))
    diff = [line for line in difflib.ndiff(text.splitlines(), changed.splitlines()) if line[:1] in "+-"]
    assert [line[0] + line[1:].strip() for line in diff] == ['-"r = z.norm(dim=-1)\\n",', '+"r = radius(z)\\n",']
    assert changed.endswith(layout.get("newline", "\n"))


def test_replace_cells_keeps_magics_outputs_and_string_sources() -> None:
    document = json.loads(notebook(SETUP, USE))
    document["cells"][3]["source"] = "".join(USE)  # one string instead of a list of lines: also valid nbformat
    text = json.dumps(document, indent=1, ensure_ascii=False)
    book = Notebook(text)
    python = book.python.replace("r = z.norm(dim=-1)", "r = radius(z)").replace("import torch\n", "import torch\nimport math\n")
    changed = json.loads(book.with_python(python))
    assert changed["cells"][1]["source"] == [*SETUP[:2], "import math\n", *SETUP[2:]]
    assert changed["cells"][3]["source"] == "".join(USE).replace("r = z.norm(dim=-1)", "r = radius(z)")
    assert changed["cells"][1]["outputs"] == document["cells"][1]["outputs"]
    assert book.replace_cells({}) == text


def test_scan_reports_the_cell_in_every_format(project: Path) -> None:
    result = run("scan", "--no-cache", ".")
    assert result.exit_code == 1
    assert result.stdout.startswith("analysis.ipynb:cell 4:8:5: HYP001 ")
    finding = json.loads(run("scan", "--no-cache", ".", "--output-format", "json").stdout)["findings"][0]
    assert (finding["path"], finding["cell"], finding["line"], finding["col"]) == ("analysis.ipynb", 4, 8, 5)
    assert "`analysis.ipynb:cell 4:8:5`" in run("scan", "--no-cache", ".", "--output-format", "markdown").stdout
    assert "::cell 4: HYP001" in run("scan", "--no-cache", ".", "--output-format", "github").stdout
    sarif = json.loads(run("scan", "--no-cache", ".", "--output-format", "sarif").stdout)["runs"][0]["results"][0]
    assert sarif["properties"]["cell"] == 4 and sarif["message"]["text"].startswith("cell 4: ")
    run("scan", ".")
    assert run("scan", ".").stdout == result.stdout  # from the cache, still told by cell


KNN = [
    "def knn(words, k):\n",
    "    points = exp_map_zero(torch.randn(k, 3))\n",
    "    return list(zip(words[:k], [points[i].norm().item() for i in range(k)]))\n",
]


@pytest.mark.parametrize(("reader", "found"), [("print([w for w, _ in knn(['a', 'b'], 2)])", False), ("print(knn(['a'], 1))", True)])
def test_a_notebook_function_is_judged_by_the_cells_that_call_it(project: Path, reader: str, found: bool) -> None:
    """Nothing imports a notebook: when every cell that calls `knn` drops the norm it returns, it is no finding
    (poincare_glove's `get_knn`); one cell printing the tuples whole makes it one."""
    (project / "analysis.ipynb").write_text(notebook(SETUP, KNN, [reader]), encoding="utf-8")
    result = run("scan", "--no-cache", "analysis.ipynb")
    assert ("analysis.ipynb:cell 4:3:" in result.stdout, result.exit_code) == (found, int(found))


def test_a_notebook_named_on_the_command_line_is_read_as_a_notebook(project: Path) -> None:
    result = run("scan", "--no-cache", "analysis.ipynb")
    assert result.exit_code == 1 and "analysis.ipynb:cell 4:8:5: HYP001" in result.stdout
    (project / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    result = run("scan", "--no-cache", "broken.ipynb")
    assert result.exit_code == 2 and "broken.ipynb: error: not a Jupyter notebook: invalid JSON" in result.stderr


def test_syntax_errors_are_told_by_cell(project: Path) -> None:
    (project / "analysis.ipynb").write_text(notebook(SETUP, ["x = 1\n", "def f(:\n", "    pass"]), encoding="utf-8")
    result = run("scan", "--no-cache", ".")
    assert result.exit_code == 2 and "analysis.ipynb: error: syntax error at cell 4:2:7: invalid syntax" in result.stderr


def test_discovery_includes_notebooks_unless_configured_otherwise(project: Path) -> None:
    assert run("scan", "--show-files", ".").stdout.splitlines() == ["analysis.ipynb"]
    (project / "pyproject.toml").write_text("[tool.vaeaudit]\ninclude = ['*.py']\n", encoding="utf-8")
    assert run("scan", "--show-files", ".").stdout == ""
    assert run("scan", "--no-cache", ".").exit_code == 0


def test_notebooks_of_other_languages_are_not_python(project: Path) -> None:
    (project / "analysis.ipynb").write_text(notebook(SETUP, USE, language="R"), encoding="utf-8")
    assert run("scan", "--no-cache", ".").exit_code == 0


def test_fix_rewrites_a_notebook_in_place_keeping_everything_else(project: Path) -> None:
    before = (project / "analysis.ipynb").read_text(encoding="utf-8")
    result = run("fix", "--apply", "--unsafe-fixes", "--show-fixes", "analysis.ipynb")
    assert result.exit_code == 0, result.output
    assert "analysis.ipynb:cell 4:8:5: HYP001 fixed: c from the default curvature of `exp_map_zero`" in result.stderr
    after = (project / "analysis.ipynb").read_text(encoding="utf-8")
    changed = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]
    assert [line[0] + line[1:].strip() for line in changed] == [
        '-"from vaeaudit.geometry import exp_map_zero\\n",',
        '+"from vaeaudit.geometry import exp_map_zero, poincare_radius\\n",',
        '-"r = z.norm(dim=-1)\\n",',
        '+"r = poincare_radius(z, c=1.0)\\n",',
    ]
    assert json.loads(after)["cells"][1]["outputs"] == json.loads(before)["cells"][1]["outputs"]
    assert run("scan", "--no-cache", ".").exit_code == 0


def test_a_notebook_on_standard_input_is_read_as_a_notebook(project: Path) -> None:
    text = (project / "analysis.ipynb").read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", "-", "--stdin-filename", "piped.ipynb"], input=text)
    assert result.exit_code == 1 and result.stdout.startswith("piped.ipynb:cell 4:8:5: HYP001")
