"""Turn a file's bytes into a libcst Module, or a clear reason why not.

Encoding follows Python's own rules (a BOM or a PEP 263 coding cookie, else UTF-8), so a
latin-1 file with its cookie is read and one without is an error that names the byte.
Binary junk is recognised by NUL bytes before the parser sees it; a syntax error says so
and, when the file looks like Python 2, says that too.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import libcst as cst

_SYNTAX_AT = re.compile(r"syntax error at (\d+):(\d+): ")
_LIBCST_PLACE = re.compile(r"^(parser error: )?error at \d+:\d+: ")
_PYTHON2_HINTS = re.compile(rb"^\s*(print\s+[^\s(=]|exec\s+[\"'\w]|except\s+[\w.]+\s*,\s*\w+\s*:)|\bur[\"']|\d+L\b|<>", re.MULTILINE)


class SourceError(Exception):
    """A file that cannot be decoded or parsed; the message is for the user."""


def syntax_error(reason: str, line: int, col: int) -> SourceError:
    return SourceError(f"syntax error at {line}:{col}: {reason}")


def relocate_syntax_error(message: str, place: Callable[[int, int], str]) -> str:
    """`message` with the LINE:COL that `syntax_error` wrote told as `place(line, col)` says
    (a notebook's `cell 3:2:5`); other messages come back as they are."""
    match = _SYNTAX_AT.match(message)
    return message if match is None else f"syntax error at {place(int(match[1]), int(match[2]))}: {message[match.end() :]}"


def source_encoding(source: bytes) -> str:
    """Python's rule: `utf-8-sig` for a BOM, a PEP 263 cookie's encoding, else UTF-8.

    SourceError for a bad declaration; undecodable first lines give UTF-8 (decoding then names the byte).
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError as error:
        if "unknown encoding" in error.msg or "encoding problem" in error.msg:
            raise SourceError(f"bad encoding declaration: {error.msg}") from None
        return "utf-8"
    return encoding


def decode(source: bytes) -> str:
    """The text of `source` under Python's encoding rules; SourceError when it is not text."""
    if b"\x00" in source:
        raise SourceError("binary file: contains NUL bytes")
    encoding = source_encoding(source)
    try:
        text = source.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        detail = f"byte 0x{source[error.start]:02x} at offset {error.start}" if isinstance(error, UnicodeDecodeError) else str(error)
        hint = "" if encoding != "utf-8" else " and has no coding cookie"
        raise SourceError(f"not valid {encoding}{hint}: {detail}") from None
    return text[1:] if text.startswith("\ufeff") else text


class _Parses:
    """The modules parsed from the last texts, up to `limit` characters of text (least recently used go first).

    A project scan analyses a file again when the rest of the project tells it something new;
    its text has not changed, so its parse need not be made again. libcst modules are
    immutable, so one module can serve every analysis of its text. Holding them costs
    ~1.7 KB per line, hence the limit.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.modules: OrderedDict[str, cst.Module] = OrderedDict()

    def get(self, text: str) -> cst.Module | None:
        module = self.modules.get(text)
        if module is not None:
            self.modules.move_to_end(text)
        return module

    def add(self, text: str, module: cst.Module) -> None:
        if len(text) > self.limit or text in self.modules:
            return
        self.modules[text] = module
        self.size += len(text)
        while self.size > self.limit:
            oldest, _ = self.modules.popitem(last=False)
            self.size -= len(oldest)


_parses: _Parses | None = None


def remember_parses(limit: int) -> None:
    """From now on in this process, `parse` keeps its modules (up to `limit` characters of text): a scan's worker."""
    global _parses
    _parses = _Parses(limit)


def forget_parses() -> None:
    global _parses
    _parses = None


def parse(text: str, source: bytes) -> cst.Module:
    """Parse `text` (decoded from `source`) with libcst; SourceError on a syntax error.

    While `remember_parses` is on, a text parsed before comes back as the same module.
    """
    if _parses is not None:
        module = _parses.get(text)
        if module is None:
            module = _parse(text, source)
            _parses.add(text, module)
        return module
    return _parse(text, source)


def _parse(text: str, source: bytes) -> cst.Module:
    import libcst as cst  # here: decoding and syntax checks (an edit the analysis need not see) cost no libcst import

    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        hint = " (this looks like Python 2)" if _PYTHON2_HINTS.search(source) else ""
        raise _python_syntax_error(text, hint) or syntax_error(
            f"{_LIBCST_PLACE.sub('', error.message)}{hint}", error.editor_line, error.editor_column
        ) from None
    except (RecursionError, MemoryError) as error:
        raise SourceError(f"too deeply nested to parse: {type(error).__name__}") from None


def _python_syntax_error(text: str, hint: str) -> SourceError | None:
    """The error at the place and in the words Python itself uses (what an editor or traceback shows).

    libcst's recovery often points elsewhere (3:2 where Python says 2:7). None when Python
    accepts the text: then the syntax is newer than this interpreter, and libcst's word stands.
    """
    try:
        compile(text, "<source>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        return syntax_error(f"{error.msg}{hint}", error.lineno or 1, error.offset or 1)
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


def check_syntax(text: str, source: bytes) -> None:
    """SourceError when `text` is not Python, for files the prefilter spares a libcst parse.

    `ast` parses ~10x faster than libcst, so every file gets its syntax errors reported at
    little cost. Its grammar is the running interpreter's, so a file it rejects is confirmed
    by libcst (newer syntax, say PEP 695 on Python 3.11, is not an error) and then reported
    with libcst's message, the same one a candidate file would get.
    """
    try:
        compile(text, "<source>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        parse(text, source)
