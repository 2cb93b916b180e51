"""Read what a stream of pickles would import and build, without executing one opcode.

A pickle runs code by importing a callable (GLOBAL, INST, STACK_GLOBAL, EXT*) and calling
it (REDUCE, OBJ, NEWOBJ, BUILD). We walk the opcodes of every consecutive pickle in the
bytes (torch's legacy format holds five, other loaders read until the end), simulating
just enough of the stack and memo to name every import, STACK_GLOBAL operands included,
at every protocol 0-5. Reading stops at the first malformed opcode, but what was read
until then is kept: the unpickler also runs everything before the byte it chokes on.

The same walk measures the object graph: shared references (memo GETs, DUP) let a
few hundred bytes describe a structure of 2^40 nodes ("billion laughs"). Hashing such a
dict key, or printing such a value, never ends, so `expanded` counts the nodes as if
every shared reference were copied out; callers refuse graphs above a limit before any
loader or report touches them.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import struct
from dataclasses import dataclass, field

MAX_EXPANDED_NODES = 2_000_000
UNRESOLVED_GLOBAL = "<unresolved STACK_GLOBAL>"
MAX_LINE = 65_536  # a text argument (protocol 0) longer than this is not a real pickle


# A container or call result is a plain list of its children (what it holds, or was
# called with): no other value the walk pushes is a list, so the class tells nodes from
# leaves and strings, and a slice of the stack already is a finished node.
_Node = list


_LEAF = object()  # a number, bytes, None, a global: one node, no children
_MARK = object()


class _Stop(Exception):
    """The opcode stream cannot be read further; the message says why."""


@dataclass
class StreamScan:
    """What the pickles in one byte stream import and how large their objects expand.

    `stopped` is None when every byte was read as complete pickles, else why reading
    stopped at byte `offset` (the imports read before that point are still listed).
    """

    imports: set[str] = field(default_factory=set)
    pickles: int = 0
    protocol: int = 0
    stopped: str | None = None
    offset: int = 0
    expanded: int = 0

    @property
    def too_large(self) -> bool:
        return self.expanded > MAX_EXPANDED_NODES


def scan_stream(data: bytes | memoryview, max_pickles: int | None = None) -> StreamScan:
    """Scan consecutive pickles from the start of `data` until its end or `max_pickles`.

    A stream whose first pickle is cut short is reported through `stopped`; bytes after
    at least one complete pickle that do not start another are reported the same way.
    """
    data = bytes(data)
    scan = StreamScan()
    position, end = 0, len(data)
    while position < end and (max_pickles is None or scan.pickles < max_pickles):
        walker = _Walker(data, position, scan)
        try:
            position = walker.run()
        except (_Stop, ValueError, struct.error) as reason:  # ValueError: a bad escape or number
            scan.stopped, scan.offset = str(reason), walker.position
            scan.expanded = max(scan.expanded, walker.expanded_size())
            return scan
        scan.pickles += 1
        scan.expanded = max(scan.expanded, walker.expanded_size())
    scan.offset = position
    return scan


_INT4 = struct.Struct("<i")
_UINT2 = struct.Struct("<H")
_UINT4 = struct.Struct("<I")
_UINT8 = struct.Struct("<Q")


class _Walker:
    """One pickle: reads opcodes from `position` to STOP, updating `scan`."""

    def __init__(self, data: bytes, position: int, scan: StreamScan) -> None:
        self.data, self.position, self.scan = data, position, scan
        self.stack: list[object] = []
        self.marks: list[int] = []
        self.memo: dict[int, object] = {}
        self.roots: list[object] = []  # the result, and every value a loader would hash
        self.shared = False  # a container was fetched again: the graph may expand

    # -- reading arguments ---------------------------------------------------------
    def take(self, count: int) -> bytes:
        start = self.position
        if count < 0 or start + count > len(self.data):
            raise _Stop(f"truncated: an argument of {count} bytes runs past the end at byte {start}")
        self.position = start + count
        return self.data[start : start + count]

    def line(self) -> bytes:
        start = self.position
        stop = self.data.find(b"\n", start, start + MAX_LINE)
        if stop < 0:
            raise _Stop(f"no end of line within {MAX_LINE} bytes after byte {start}")
        self.position = stop + 1
        return self.data[start:stop]

    def sized(self, length_format: struct.Struct) -> bytes:
        (length,) = length_format.unpack(self.take(length_format.size))
        return self.take(length)

    # -- stack ------------------------------------------------------------------------
    def pop(self) -> object:
        if len(self.stack) <= (self.marks[-1] if self.marks else 0):
            raise _Stop(f"stack underflow at byte {self.position - 1}")
        return self.stack.pop()

    def pop_mark(self) -> list[object]:
        if not self.marks:
            raise _Stop(f"no MARK for the opcode at byte {self.position - 1}")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def top(self) -> object:
        if len(self.stack) <= (self.marks[-1] if self.marks else 0):
            raise _Stop(f"stack underflow at byte {self.position - 1}")
        return self.stack[-1]

    def add_import(self, module: str, name: str) -> None:
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        self.scan.imports.add(f"{_compat_pickle.IMPORT_MAPPING.get(module, module)}.{name}")

    def extend(self, target: object, items: list[object]) -> None:
        if isinstance(target, _Node):
            target.extend(items)

    # -- the walk -----------------------------------------------------------------------
    def run(self) -> int:
        """Read up to and including STOP; return the position after it.

        The hot opcodes of torch checkpoints (memo puts/gets, small ints, MARK, tuples,
        REDUCE, strings) are handled inline, most frequent first, with a local read
        position, and a read past the end or an empty stack surfaces as IndexError
        instead of being tested before every opcode: this walk runs on every checkpoint
        before torch loads it, so its cost is part of every audit.
        """
        data, stack, memo, marks = self.data, self.stack, self.memo, self.marks
        append, unpack4, node_class, leaf = stack.append, _UINT4.unpack_from, list, _LEAF
        pos, shared, size = self.position, self.shared, len(data)
        try:
            while True:
                code = data[pos]
                pos += 1
                if code >= 0x68:  # two halves of the opcode table: fewer tests per opcode
                    if code == 0x72:  # LONG_BINPUT
                        memo[unpack4(data, pos)[0]] = stack[-1]
                        pos += 4
                    elif code == 0x68:  # BINGET
                        value = memo[data[pos]]
                        pos += 1
                        if value.__class__ is node_class:
                            shared = True
                        append(value)
                    elif code == 0x74:  # TUPLE
                        start = marks.pop()
                        node = stack[start:]
                        del stack[start:]
                        append(node)
                    elif code == 0x71:  # BINPUT
                        memo[data[pos]] = stack[-1]
                        pos += 1
                    elif code == 0x89 or code == 0x88:  # NEWFALSE, NEWTRUE
                        append(leaf)
                    elif code == 0x85 or code == 0x86 or code == 0x87:  # TUPLE1..3
                        count = code - 0x84
                        if len(stack) - count < (marks[-1] if marks else 0):
                            raise IndexError
                        node = stack[-count:]
                        del stack[-count:]
                        append(node)
                    elif code == 0x6A:  # LONG_BINGET
                        value = memo[unpack4(data, pos)[0]]
                        pos += 4
                        if value.__class__ is node_class:
                            shared = True
                        append(value)
                    elif code == 0x8C:  # SHORT_BINUNICODE
                        length = data[pos]
                        pos += 1
                        if pos + length > size:
                            raise IndexError
                        append(data[pos : pos + length].decode("utf-8", "surrogatepass"))
                        pos += length
                    elif code == 0x7D:  # EMPTY_DICT
                        append([])
                    elif code == 0x75:  # SETITEMS
                        start = marks.pop()
                        items = stack[start:]
                        del stack[start:]
                        self.roots.extend(items[0::2])
                        target = stack[-1]
                        if target.__class__ is node_class:
                            target.extend(items)
                    else:
                        self.position, self.shared = pos, shared
                        if self.rare(code):
                            return self.position
                        pos, shared = self.position, self.shared
                elif code == 0x4B:  # BININT1
                    pos += 1
                    append(leaf)
                elif code == 0x28:  # MARK
                    marks.append(len(stack))
                elif code == 0x52:  # REDUCE
                    arguments = stack.pop()
                    stack[-1] = [stack[-1], arguments]
                elif code == 0x58:  # BINUNICODE
                    length = unpack4(data, pos)[0]
                    pos += 4
                    if pos + length > size:
                        raise IndexError
                    append(data[pos : pos + length].decode("utf-8", "surrogatepass"))
                    pos += length
                elif code == 0x29 or code == 0x4E:  # EMPTY_TUPLE, NONE
                    append(leaf)
                elif code == 0x51:  # BINPERSID: a persistent id in, a storage out
                    stack[-1] = leaf
                elif code in _FIXED_LEAVES:  # BININT2, BININT, BINFLOAT
                    pos += _FIXED_LEAVES[code]
                    append(leaf)
                elif code == 0x5D:  # EMPTY_LIST
                    append([])
                else:
                    self.position, self.shared = pos, shared
                    if self.rare(code):
                        return self.position
                    pos, shared = self.position, self.shared
        except (IndexError, KeyError, struct.error):
            self.position, self.shared = pos, shared
            raise _Stop(f"malformed pickle at byte {pos - 1}: truncated, empty stack or unknown memo entry") from None

    def rare(self, code: int) -> bool:
        """Every opcode `run` does not handle inline; True after STOP."""
        stack, memo = self.stack, self.memo
        if code == 0x8F:  # EMPTY_SET
            stack.append([])
        elif code in (0x6C, 0x64, 0x91):  # LIST, DICT, FROZENSET
            items = self.pop_mark()
            self.roots.extend(items if code == 0x91 else items[0::2] if code == 0x64 else ())
            stack.append(items)
        elif code == 0x73:  # SETITEM
            value, key = self.pop(), self.pop()
            self.roots.append(key)
            self.extend(self.top(), [key, value])
        elif code in (0x65, 0x90):  # APPENDS, ADDITEMS
            items = self.pop_mark()
            if code == 0x90:
                self.roots.extend(items)
            self.extend(self.top(), items)
        elif code in (0x61, 0x62):  # APPEND, BUILD
            item = self.pop()
            self.extend(self.top(), [item])
        elif code == 0x94:  # MEMOIZE
            memo[len(memo)] = self.top()
        elif code == 0x70:  # PUT
            memo[self.decimal()] = self.top()
        elif code == 0x67:  # GET
            stack.append(self.memo_get(self.decimal()))
        elif code == 0x8D:  # BINUNICODE8
            stack.append(_text(self.sized(_UINT8)))
        elif code in (0x54, 0x55):  # BINSTRING, SHORT_BINSTRING
            stack.append(self.sized(_INT4 if code == 0x54 else _BYTE).decode("latin-1"))
        elif code in _SIZED_LEAVES:
            self.sized(_SIZED_LEAVES[code])
            stack.append(_LEAF)
        elif code in _LINE_LEAVES:  # INT, LONG, FLOAT, PERSID
            self.line()
            stack.append(_LEAF)
        elif code == 0x53:  # STRING
            stack.append(_quoted(self.line()))
        elif code == 0x56:  # UNICODE
            stack.append(codecs.decode(self.line(), "raw-unicode-escape"))
        elif code in (0x63, 0x69):  # GLOBAL, INST
            module, name = self.line(), self.line()
            self.add_import(module.decode("utf-8", "replace"), name.decode("utf-8", "replace"))
            stack.append(_LEAF if code == 0x63 else self.pop_mark())
        elif code == 0x93:  # STACK_GLOBAL
            attribute, owner = self.pop(), self.pop()
            if isinstance(owner, str) and isinstance(attribute, str):
                self.add_import(owner, attribute)
            else:
                self.scan.imports.add(UNRESOLVED_GLOBAL)
            stack.append(_LEAF)
        elif code == 0x6F:  # OBJ
            stack.append(self.pop_mark())
        elif code in (0x81, 0x92):  # NEWOBJ, NEWOBJ_EX
            items = [self.pop() for _ in range(2 if code == 0x81 else 3)][::-1]
            stack.append(items)
        elif code in (0x82, 0x83, 0x84):  # EXT1, EXT2, EXT4
            size = {0x82: 1, 0x83: 2, 0x84: 4}[code]
            number = int.from_bytes(self.take(size), "little", signed=code == 0x84)
            self.scan.imports.add(f"<extension code {number}>")
            stack.append(_LEAF)
        elif code == 0x30:  # POP
            if len(stack) > (self.marks[-1] if self.marks else 0):
                stack.pop()
            else:
                self.pop_mark()  # POP of a MARK, as the unpickler allows
        elif code == 0x31:  # POP_MARK
            self.pop_mark()
        elif code == 0x32:  # DUP
            stack.append(self.top())
            self.shared = True
        elif code == 0x80:  # PROTO
            self.scan.protocol = max(self.scan.protocol, self.take(1)[0])
        elif code == 0x95:  # FRAME
            self.take(8)
        elif code == 0x97:  # NEXT_BUFFER
            stack.append(_LEAF)
        elif code == 0x98:  # READONLY_BUFFER
            self.top()
        elif code == 0x2E:  # STOP
            self.roots.append(self.pop())
            return True
        else:
            raise _Stop(f"unknown opcode 0x{code:02x} at byte {self.position - 1}")
        return False

    def memo_get(self, index: int) -> object:
        if index not in self.memo:
            raise _Stop(f"memo entry {index} read before it was written (byte {self.position})")
        return self.memo[index]

    def decimal(self) -> int:
        text = self.line()
        try:
            return int(text)
        except ValueError:
            raise _Stop(f"not a number: {text[:20]!r} at byte {self.position}") from None

    def expanded_size(self) -> int:
        """Nodes of the largest root, shared references counted as copies (cycles once).

        Without a container fetched twice there is nothing to expand: the count is then
        bounded by the number of opcodes and not computed.
        """
        if not self.shared:
            return 0
        sizes: dict[int, int] = {}
        return max((_expanded(root, sizes) for root in self.roots), default=0)


def _expanded(root: object, sizes: dict[int, int]) -> int:
    """Iterative post-order count; a node met again on its own path (a cycle) counts 1."""
    if not isinstance(root, _Node):
        return 1
    on_path: set[int] = set()
    stack: list[tuple[_Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1
            for child in node:
                total += sizes.get(id(child), 1) if isinstance(child, _Node) else 1
            sizes[key] = min(total, MAX_EXPANDED_NODES * 1000)
            continue
        if key in sizes or key in on_path:
            continue
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in node if isinstance(child, _Node) and id(child) not in sizes)
    return sizes.get(id(root), 1)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogatepass")


def _quoted(raw: bytes) -> str:
    """A protocol-0 STRING argument ('os' or "os", with escapes) as the unpickler reads it."""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[:1] in (b"'", b'"'):
        raw = raw[1:-1]
    return codecs.escape_decode(raw)[0].decode("latin-1")


_BYTE = struct.Struct("<B")
_FIXED_LEAVES = {0x4D: 2, 0x4A: 4, 0x47: 8}  # BININT2, BININT, BINFLOAT: argument sizes
# Length-prefixed leaves: LONG1, LONG4, BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8.
_SIZED_LEAVES = {0x8A: _BYTE, 0x8B: _INT4, 0x42: _UINT4, 0x43: _BYTE, 0x8E: _UINT8, 0x96: _UINT8}
_LINE_LEAVES = frozenset({0x49, 0x4C, 0x46, 0x50})  # INT, LONG, FLOAT, PERSID
