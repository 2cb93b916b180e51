"""Turn values loaded from an untrusted checkpoint into short text, in bounded time.

A weights-only load still yields arbitrary nesting of dicts, lists and tuples: a config
that contains itself, keys of mixed types that `sorted` and `json.dumps(sort_keys=True)`
reject, or shared references that `str()` would expand into billions of nodes. Every
value that reaches a report or a cache key goes through `preview`, which visits at most
`MAX_NODES` nodes, `MAX_DEPTH` levels, marks a container met again on its own path as
`<cycle>`, and stops at `limit` characters.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_NODES = 2_000
MAX_DEPTH = 12
DEFAULT_LIMIT = 600


class _Full(Exception):
    """The text reached its character limit or the walk its node budget."""


def preview(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """A JSON-like rendering of `value`, cut with "…" where a bound was reached."""
    writer = _Writer(limit)
    try:
        writer.write(value, 0, set())
    except _Full:
        return "".join(writer.parts)[:limit] + "…"
    return "".join(writer.parts)


def short_text(value: object, limit: int = 80) -> str:
    """A scalar as its text, anything else as a bounded preview (for keys, phases, versions)."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    return preview(value, limit)


class _Writer:
    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.length, self.limit, self.nodes = 0, limit, 0

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)
        if self.length > self.limit:
            raise _Full

    def write(self, value: object, depth: int, path: set[int]) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Full
        if isinstance(value, (str, bytes, bytearray)):
            self.emit(repr(value[: self.limit]) if len(value) > self.limit else repr(value))
        elif isinstance(value, (bool, int, float, type(None))):
            self.emit(_number(value))
        elif isinstance(value, (Mapping, list, tuple, set, frozenset)):
            if id(value) in path:
                self.emit("<cycle>")
            elif depth >= MAX_DEPTH:
                self.emit("…")
            else:
                self._container(value, depth, path)
        elif getattr(value, "ndim", None) == 0 and getattr(value, "dtype", None) is not None:
            self.emit(_scalar(value))
        else:
            self.emit(f"<{type(value).__name__}{_shape(value)}>")

    def _container(self, value, depth: int, path: set[int]) -> None:
        path.add(id(value))
        is_mapping = isinstance(value, Mapping)
        opening, closing = ("{", "}") if is_mapping or isinstance(value, (set, frozenset)) else ("[", "]")
        self.emit(opening)
        items = value.items() if is_mapping else value
        for index, item in enumerate(items):
            if index:
                self.emit(", ")
            if is_mapping:
                key, item = item
                self.write(key, depth + 1, path)
                self.emit(": ")
            self.write(item, depth + 1, path)
        self.emit(closing)
        path.discard(id(value))


def _number(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"<int of {value.bit_length()} bits>"  # str() of a huge int is itself slow
    return repr(value)


def _scalar(value: object) -> str:
    """A numpy scalar or 0-d tensor as its number."""
    try:
        return repr(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, RuntimeError):
        return f"<{type(value).__name__}>"


def _shape(value: object) -> str:
    shape = getattr(value, "shape", None)
    return f" {'×'.join(str(int(size)) for size in shape)}" if isinstance(shape, tuple) else ""
