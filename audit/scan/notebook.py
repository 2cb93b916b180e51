"""Jupyter notebooks as Python: code cells in, a position map out, changed cells back in.

The scanner and the fixer work on one Python text per file. A notebook's code cells are
joined into such a text (`Notebook.python`), one marker comment between cells, so that
names flow from cell to cell as they do in the kernel. IPython syntax that is not Python
(`%line magics`, `!shell` escapes, `x = !cmd`, `obj?` help) becomes a `pass` placeholder
with the same indentation, so every line keeps its number and the cell still parses;
cells that start with a `%%cell magic` hold another language and are left out.
`locate` maps a line of that text back to (cell, line in cell); cells are numbered as
Jupyter shows them, counting every cell from 1.

Writing back (`with_python`, or `replace_cells` for a caller that works cell by cell)
splices the new `source` of the changed cells into the original JSON text: outputs,
metadata, key order, indentation and the final newline of everything else stay
byte-identical, and each placeholder gets its original line back.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from vaeaudit.scan.findings import Finding
from vaeaudit.scan.reading import SourceError, relocate_syntax_error
from vaeaudit.scan.runner import FileResult

NOTEBOOK_SUFFIX = ".ipynb"
_MARKER = "# <vaeaudit cell {}>"
_MARKER_LINE = re.compile(r"# <vaeaudit cell (\d+)>\n?")
_PLACEHOLDER = "pass  # <vaeaudit magic {}>"
_PLACEHOLDER_LINE = re.compile(r"[ \t]*pass  # <vaeaudit magic (\d+)>\n?")
# A logical line IPython handles before Python sees it.
_MAGIC = re.compile(r"\s*(?:[%!]|\?|[\w.]+\?{1,2}\s*$|[\w.]+(?:\s*,\s*[\w.]+)*\s*=\s*[%!])")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Cell:
    """One code cell: `number` as Jupyter counts (all cells, from 1), where its `source` value lies in the JSON text."""

    number: int
    source: str
    start: int
    end: int
    as_lines: bool  # nbformat's list of lines, or one string


class Notebook:
    """A parsed notebook; raise SourceError (for the user) when the bytes are not one."""

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            document = json.loads(text)
        except ValueError as error:
            raise SourceError(f"not a Jupyter notebook: invalid JSON: {error}") from None
        if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
            raise SourceError("not a Jupyter notebook: no 'cells' list (nbformat 4 is needed)")
        self.cells = [cell for cell in _code_cells(text) if not _has_cell_magic(cell.source)] if _is_python(document) else []
        self._magics: list[str] = []
        self._rows: list[tuple[int, int] | None] = []  # Python line - 1 -> (cell, line in cell); None for a marker
        self.python = "".join(self._assemble(cell, first=index == 0) for index, cell in enumerate(self.cells))

    @classmethod
    def from_bytes(cls, data: bytes) -> Notebook:
        try:
            return cls(data.decode("utf-8-sig"))
        except UnicodeDecodeError as error:
            raise SourceError(f"not a Jupyter notebook: not valid UTF-8 at offset {error.start}") from None

    # -- reading ---------------------------------------------------------------------------

    def locate(self, line: int) -> tuple[int, int]:
        """(cell number, line in the cell) of line `line` (1-based) of `python`."""
        for row in range(min(line, len(self._rows)) - 1, -1, -1):
            place = self._rows[row]
            if place is not None:
                return place[0], place[1] + (line - 1 - row)
        return (self.cells[0].number if self.cells else 1), line

    def locate_finding(self, finding: Finding) -> Finding:
        cell, line = self.locate(finding.line)
        end_cell, end_line = self.locate(finding.end_line)
        return dataclasses.replace(finding, cell=cell, line=line, end_line=end_line if end_cell == cell else line)

    def locate_error(self, message: str) -> str:
        """A problem message with its `LINE:COL` (if any) told as `cell N:LINE:COL`."""

        def place(line: int, col: int) -> str:
            cell, in_cell = self.locate(line)
            return f"cell {cell}:{in_cell}:{col}"

        return relocate_syntax_error(message, place)

    def _assemble(self, cell: Cell, first: bool) -> str:
        lines = [] if first else [_MARKER.format(cell.number) + "\n"]
        self._rows += [None] * len(lines)
        for number, line in enumerate(_masked_lines(cell.source, self._magics), start=1):
            lines.append(line)
            self._rows.append((cell.number, number))
        text = "".join(lines)
        return text if not text or text.endswith("\n") else text + "\n"

    # -- writing ---------------------------------------------------------------------------

    def split(self, python: str) -> dict[int, str]:
        """Cell number -> new source, for each cell whose text `python` (a rewrite of `self.python`) changed.

        SourceError when the rewrite lost or reordered the markers between cells.
        """
        numbers = [cell.number for cell in self.cells]
        pieces: list[list[str]] = [[]]
        found: list[int] = []
        for line in python.splitlines(keepends=True):
            marker = _MARKER_LINE.fullmatch(line)
            if marker:
                found.append(int(marker.group(1)))
                pieces.append([])
                continue
            magic = _PLACEHOLDER_LINE.fullmatch(line)
            pieces[-1].append(self._magics[int(magic.group(1))] if magic else line)
        if found != numbers[1:]:
            raise SourceError("the rewritten notebook source lost its cell boundaries; notebook left untouched")
        changed = {}
        for cell, piece in zip(self.cells, pieces, strict=False):  # no code cells: one empty piece
            text = "".join(piece)
            if not cell.source.endswith("\n") and text.endswith("\n"):
                text = text[:-1]
            if text != cell.source:
                changed[cell.number] = text
        return changed

    def with_python(self, python: str) -> str:
        """The notebook's JSON text with the cells `python` changed, everything else as it was."""
        return self.replace_cells(self.split(python))

    def replace_cells(self, sources: dict[int, str]) -> str:
        """The notebook's JSON text with the `source` of the given code cells replaced."""
        by_number = {cell.number: cell for cell in self.cells}
        unknown = set(sources) - set(by_number)
        if unknown:
            raise ValueError(f"not code cells of this notebook: {sorted(unknown)}")
        ascii_only = self.text.isascii() and "\\u" in self.text
        parts, position = [], 0
        for number in sorted(sources, key=lambda n: by_number[n].start):
            cell = by_number[number]
            parts += [self.text[position : cell.start], self._source_json(cell, sources[number], ascii_only)]
            position = cell.end
        return "".join(parts) + self.text[position:]

    def _source_json(self, cell: Cell, source: str, ascii_only: bool) -> str:
        """`source` in the JSON layout of the value it replaces."""
        if not cell.as_lines:
            return json.dumps(source, ensure_ascii=ascii_only)
        lines = [json.dumps(line, ensure_ascii=ascii_only) for line in re.findall(r"[^\n]*\n|[^\n]+", source)]
        if not lines:
            return "[]"
        opening, separator, closing = _list_layout(self.text, cell)
        return "[" + opening + separator.join(lines) + closing + "]"


def scan_notebook(name: str, data: bytes, scan_python: Callable[[bytes], tuple[FileResult, int]]) -> tuple[FileResult, int]:
    """Scan a notebook's Python with `scan_python` (the runner's scan of one file's bytes),
    then tell each finding and syntax error by cell."""
    try:
        notebook = Notebook.from_bytes(data)
    except SourceError as error:
        return FileResult(name, error=str(error)), 0
    result, parsed = scan_python(notebook.python.encode("utf-8"))
    result.findings = [notebook.locate_finding(finding) for finding in result.findings]
    if result.error is not None:
        result.error = notebook.locate_error(result.error)
    return result, parsed


# -- IPython syntax ---------------------------------------------------------------------------


def _has_cell_magic(source: str) -> bool:
    return source.lstrip().startswith("%%")


def _masked_lines(source: str, magics: list[str]) -> Iterator[str]:
    """The cell's lines, each logical line of IPython syntax replaced by numbered placeholders."""
    state = _LineState()
    masking = False
    indent = ""
    for line in source.splitlines(keepends=True):
        if state.at_statement_start() and not masking and _MAGIC.match(line):
            masking, indent = True, line[: len(line) - len(line.lstrip())]
        if masking:
            magics.append(line)
            newline = "\n" if line.endswith("\n") else ""
            yield indent + _PLACEHOLDER.format(len(magics) - 1) + newline
            masking = line.rstrip("\r\n").endswith("\\")
            continue
        state.feed(line)
        yield line


class _LineState:
    """Just enough of Python's tokenizer to know whether a line starts a statement:
    not inside brackets, a string or a backslash continuation."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote = ""
        self.continued = False

    def at_statement_start(self) -> bool:
        return self.depth == 0 and not self.quote and not self.continued

    def feed(self, line: str) -> None:
        index, text, comment = 0, line.rstrip("\r\n"), False
        while index < len(text):
            if self.quote:
                if text[index] == "\\":
                    index += 2
                elif text.startswith(self.quote, index):
                    index += len(self.quote)
                    self.quote = ""
                else:
                    index += 1
                continue
            char = text[index]
            if char == "#":
                comment = True
                break
            if char in "'\"":
                self.quote = char * 3 if text.startswith(char * 3, index) else char
                index += len(self.quote)
                continue
            self.depth += char in "([{"
            self.depth -= char in ")]}" and self.depth > 0
            index += 1
        self.continued = text.endswith("\\") and not comment
        if len(self.quote) == 1 and not self.continued:
            self.quote = ""  # an unterminated one-line string: Python reports it, we move on


# -- JSON positions ---------------------------------------------------------------------------


def _is_python(document: dict) -> bool:
    """A notebook whose kernel says another language (R, Julia) holds no Python to scan."""
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return True
    for table, key in (("kernelspec", "language"), ("language_info", "name")):
        value = metadata.get(table, {}).get(key) if isinstance(metadata.get(table), dict) else None
        if isinstance(value, str):
            return value.lower() == "python"
    return True


def _code_cells(text: str) -> Iterator[Cell]:
    """Every code cell with the character span of its `source` value in `text`."""
    top = dict(_members(text, _skip(text, 0)))
    cells_start, _ = top["cells"]
    for number, (start, _) in enumerate(_elements(text, cells_start), start=1):
        if text[start] != "{":
            continue
        members = dict(_members(text, start))
        if "source" not in members or _value(text, members.get("cell_type")) != "code":
            continue
        source_start, source_end = members["source"]
        value = _value(text, members["source"])
        if isinstance(value, list) and all(isinstance(line, str) for line in value):
            yield Cell(number, "".join(value), source_start, source_end, as_lines=True)
        elif isinstance(value, str):
            yield Cell(number, value, source_start, source_end, as_lines=False)


def _value(text: str, span: tuple[int, int] | None):
    return None if span is None else _DECODER.raw_decode(text, span[0])[0]


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\n\r":
        index += 1
    return index


def _members(text: str, index: int) -> Iterator[tuple[str, tuple[int, int]]]:
    """(key, (start, end) of the value) for each member of the object at `index`."""
    index = _skip(text, index + 1)
    while text[index] != "}":
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, _skip(text, index) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, index)
        yield key, (index, end)
        index = _skip(text, end)
        if text[index] == ",":
            index = _skip(text, index + 1)


def _elements(text: str, index: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each element of the array at `index`."""
    index = _skip(text, index + 1)
    while text[index] != "]":
        _, end = _DECODER.raw_decode(text, index)
        yield index, end
        index = _skip(text, end)
        if text[index] == ",":
            index = _skip(text, index + 1)


def _list_layout(text: str, cell: Cell) -> tuple[str, str, str]:
    """(after `[`, between items, before `]`) as the original list of lines writes them."""
    spans = list(_elements(text, cell.start))
    if spans:
        opening = text[cell.start + 1 : spans[0][0]]
        closing = text[spans[-1][1] : cell.end - 1]
        separator = text[spans[0][1] : spans[1][0]] if len(spans) > 1 else "," + opening
        return opening, separator, closing
    line_start = text.rfind("\n", 0, cell.start) + 1
    indent = text[line_start : _skip(text, line_start)].strip("\n")
    return "\n" + indent + " ", ",\n" + indent + " ", "\n" + indent
