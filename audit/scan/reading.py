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

import libcst as cst

_PYTHON2_HINTS = re.compile(rb"^\s*(print\s+[^\s(=]|exec\s+[\"'\w]|except\s+[\w.]+\s*,\s*\w+\s*:)|\bur[\"']|\d+L\b|<>", re.MULTILINE)


class SourceError(Exception):
    """A file that cannot be decoded or parsed; the message is for the user."""


def decode(source: bytes) -> str:
    """The text of `source` under Python's encoding rules; SourceError when it is not text."""
    if b"\x00" in source:
        raise SourceError("binary file: contains NUL bytes")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError as error:
        if "unknown encoding" in error.msg or "encoding problem" in error.msg:
            raise SourceError(f"bad encoding declaration: {error.msg}") from None
        encoding = "utf-8"  # undecodable first lines: let the decode below name the byte
    try:
        text = source.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        detail = f"byte 0x{source[error.start]:02x} at offset {error.start}" if isinstance(error, UnicodeDecodeError) else str(error)
        hint = "" if encoding != "utf-8" else " and has no coding cookie"
        raise SourceError(f"not valid {encoding}{hint}: {detail}") from None
    return text[1:] if text.startswith("\ufeff") else text


def parse(text: str, source: bytes) -> cst.Module:
    """Parse `text` (decoded from `source`) with libcst; SourceError on a syntax error."""
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        hint = " (this looks like Python 2)" if _PYTHON2_HINTS.search(source) else ""
        # libcst's message carries the native parser's own "error at LINE:COL", the most precise place.
        raise SourceError(f"syntax error: {error.message.removeprefix('parser error: ')}{hint}") from None
    except (RecursionError, MemoryError) as error:
        raise SourceError(f"too deeply nested to parse: {type(error).__name__}") from None


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
