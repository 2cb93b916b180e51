"""Read a zip archive's members straight from its bytes, and say what is wrong with it.

Our own reader, not `zipfile`, for three reasons. Hostile archives are built to make one
reader see less than another: a member flagged "encrypted" that is not, a pickle at the
root instead of under `archive/`, a local entry left out of the central directory. So
every member is read from the central directory *and* every local header in the file,
and flags never stop us from looking at the bytes. torch's reader skips CRC checks and
inflates DEFLATED members, so a bit flip or a bomb would pass it: CRCs are verified here
(with zlib-ng's CRC32, 13x the stdlib's: it runs over every byte of every checkpoint)
and compressed members are refused as checkpoints (torch writes STORED), yet inflated
up to a bound so their pickles can still be judged. And it is faster: one struct read
per entry instead of `zipfile`'s objects.
"""

from __future__ import annotations

import bz2
import struct
import zlib
from dataclasses import dataclass, field

from zlib_ng.zlib_ng import crc32

LOCAL = b"PK\x03\x04"
CENTRAL = b"PK\x01\x02"
END = b"PK\x05\x06"
END64_LOCATOR = b"PK\x06\x07"
INFLATE_LIMIT = 64 * 1024 * 1024  # bytes of a compressed member we inflate to judge it
_CENTRAL_ENTRY = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL_ENTRY = struct.Struct("<4sHHHHHIIIHH")
_END = struct.Struct("<4sHHHHIIH")
_LOCAL_LENGTHS = struct.Struct("<HH")


@dataclass(slots=True)
class Member:
    """One stored member: its name, declared size and the bytes to judge (inflated if needed)."""

    name: str
    size: int
    payload: bytes | memoryview = b""
    listed: bool = True  # in the central directory (False: only a local header says so)
    end: int = 0  # the byte after its stored data
    compressed: bool = False  # not STORED (torch checkpoints never compress; TorchScript code may)


@dataclass
class ZipReport:
    """The archive's members and what is wrong with it (empty `problems` = sound)."""

    members: list[Member] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    directory: tuple[int, int] = (0, 0)  # bytes of the central directory and end record

    @property
    def names(self) -> list[str]:
        return [member.name for member in self.members]

    def checkpoint_problems(self) -> list[str]:
        """`problems`, plus every compressed member: torch.save writes STORED members only,
        and torch would inflate a compressed one without bound."""
        return [
            *self.problems,
            *(f"member {m.name} is compressed; torch writes STORED members only" for m in self.members if m.compressed),
        ]


def check_zip(data: bytes) -> ZipReport:
    """Every member of the archive in `data`, with each structural problem named."""
    report = ZipReport()
    view = memoryview(data)
    covered: list[tuple[int, int]] = []  # byte ranges of listed members, headers included
    seen: set[str] = set()
    for entry in _central_entries(data, report):
        name = entry[0]
        if name in seen:
            report.problems.append(f"member {name} appears twice: readers disagree on which copy counts")
        seen.add(name)
        member = _read_member(data, view, entry, report.problems)
        report.members.append(member)
        covered.append((entry[6], max(member.end, entry[6] + 4)))
    for offset in _unlisted_local_headers(data, covered, report.directory):
        unlisted = _local_entry(data, offset)
        if unlisted is not None:
            member = _read_member(data, view, unlisted, [])
            member.listed = False
            report.members.append(member)
            report.problems.append(f"member {unlisted[0]} at byte {offset} is missing from the central directory")
    return report


def _unlisted_local_headers(data: bytes, covered: list[tuple[int, int]], directory: tuple[int, int]) -> list[int]:
    """Offsets of local headers in the bytes that neither a listed member (header and
    data) nor the central directory (`directory`: start, end) covers.

    A local-header signature inside a listed member's data is just data. The gaps are
    small (torch leaves a 16-byte data descriptor after each member), one per member, so
    each is searched with one bytes.find, without a call or a list of its own.
    """
    gaps, position = [], 0
    for start, end in sorted([*covered, directory]):
        if start > position:
            gaps.append((position, start))
        position = max(position, end)
    gaps.append((position, len(data)))
    offsets, find = [], data.find
    for start, end in gaps:
        found = find(LOCAL, start, end)
        while found >= 0:
            offsets.append(found)
            found = find(LOCAL, found + 4, end)
    return offsets


# A directory entry: (name, flags, method, crc, compressed size, size, local header offset).
_Entry = tuple[str, int, int, int, int, int, int]


def _central_entries(data: bytes, report: ZipReport) -> list[_Entry]:
    """The central directory's entries; a missing or broken directory is a problem."""
    end = data.rfind(END, max(0, len(data) - 65_557))
    if end < 0 or end + _END.size > len(data):
        report.problems.append("truncated or corrupt zip archive (no end-of-directory record)")
        return []
    _, _, _, _, count, size, start, comment_length = _END.unpack_from(data, end)
    if 0xFFFFFFFF in (size, start) or count == 0xFFFF:
        count, size, start = _zip64_end(data, end, report)
    report.directory = (min(start, end), end + _END.size + comment_length)
    entries: list[_Entry] = []
    position, total, unpack, header = start, len(data), _CENTRAL_ENTRY.unpack_from, _CENTRAL_ENTRY.size
    for _ in range(count):
        if not data.startswith(CENTRAL, position) or position + header > total:
            report.problems.append("truncated or corrupt zip archive (central directory cut short)")
            break
        (_, _, _, flags, method, _, _, crc, compressed, size_, name_length, extra_length, comment_length, _, _, _, offset) = unpack(
            data, position
        )
        name_start = position + header
        name_end = name_start + name_length
        name = data[name_start:name_end].decode("utf-8", "replace")
        if size_ == 0xFFFFFFFF or compressed == 0xFFFFFFFF or offset == 0xFFFFFFFF:
            size_, compressed, offset = _zip64_sizes(data[name_end : name_end + extra_length], size_, compressed, offset)
        entries.append((name, flags, method, crc, compressed, size_, offset))
        position = name_end + extra_length + comment_length
    return entries


def _zip64_end(data: bytes, end: int, report: ZipReport) -> tuple[int, int, int]:
    locator = end - 20
    if locator < 0 or data[locator : locator + 4] != END64_LOCATOR:
        report.problems.append("zip64 archive without its end-of-directory locator")
        return 0, 0, 0
    (record,) = struct.unpack_from("<Q", data, locator + 8)
    if record + 56 > len(data):
        report.problems.append("zip64 end-of-directory record past the end of the file")
        return 0, 0, 0
    count, size, start = struct.unpack_from("<QQQ", data, record + 32)
    return count, size, start


def _zip64_sizes(extra: bytes | memoryview, size: int, compressed: int, offset: int) -> tuple[int, int, int]:
    """Replace 0xFFFFFFFF placeholders by the zip64 extra field's 8-byte values, in order."""
    position = 0
    while position + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, position)
        if tag == 0x0001:
            values = iter(struct.unpack_from(f"<{length // 8}Q", extra, position + 4))
            size = next(values, size) if size == 0xFFFFFFFF else size
            compressed = next(values, compressed) if compressed == 0xFFFFFFFF else compressed
            offset = next(values, offset) if offset == 0xFFFFFFFF else offset
            break
        position += 4 + length
    return size, compressed, offset


def _local_entry(data: bytes, offset: int) -> _Entry | None:
    """An entry described by a local header alone (sizes from the header itself)."""
    if offset + _LOCAL_ENTRY.size > len(data):
        return None
    _, _, flags, method, _, _, crc, compressed, size, name_length, _ = _LOCAL_ENTRY.unpack_from(data, offset)
    name = bytes(data[offset + 30 : offset + 30 + name_length]).decode("utf-8", "replace")
    if not name:
        return None
    return (name, flags, method, crc, compressed, size, offset)


def _read_member(data: bytes, view: memoryview, entry: _Entry, problems: list[str]) -> Member:
    """The member's bytes (inflated within INFLATE_LIMIT), appending what is wrong to `problems`."""
    name, flags, method, crc, compressed, size, start = entry
    total = len(data)
    member = Member(name, size)
    if size > total and method == 0:
        problems.append(f"member {name} declares {size} bytes, more than the whole file ({total} bytes): zip-bomb header")
    if start + _LOCAL_ENTRY.size > total or not data.startswith(LOCAL, start):
        problems.append(f"member {name}: no local header where the directory says: corrupt archive")
        return member
    name_length, extra_length = _LOCAL_LENGTHS.unpack_from(data, start + 26)
    begin = start + 30 + name_length + extra_length
    stored = view[begin : begin + compressed]
    member.end = begin + compressed
    if begin + compressed > total:
        problems.append(f"member {name} extends past the end of the file: truncated archive")
    if flags & 0x41:
        problems.append(f"member {name} is flagged as encrypted (flags 0x{flags:x})")
    if method != 0:
        member.compressed = True
        member.payload = _inflate(stored, method, name, problems)
        return member
    member.payload = stored
    if len(stored) == compressed and crc32(stored) != crc:
        problems.append(f"member {name}: CRC mismatch (torch would not notice)")
    return member


def _inflate(stored: memoryview, method: int, name: str, problems: list[str]) -> bytes:
    """At most INFLATE_LIMIT bytes of a compressed member; what cannot be inflated is named."""
    try:
        if method == 8:
            return zlib.decompressobj(-15).decompress(stored, INFLATE_LIMIT)
        if method == 12:
            return bz2.BZ2Decompressor().decompress(bytes(stored), INFLATE_LIMIT)
    except (zlib.error, OSError, EOFError) as error:
        problems.append(f"member {name} cannot be inflated ({error}); its content was not judged")
        return b""
    problems.append(f"member {name} uses compression method {method}, which is not inspected")
    return b""
