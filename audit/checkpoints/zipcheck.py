"""Structural checks of a torch zip archive, done before torch ever sees it.

torch's zip reader skips CRC verification and will inflate DEFLATED members, so a
bit-flipped or bomb-shaped archive loads silently or exhausts memory. We verify every
member here: torch writes members STORED, so a compressed member or a declared size
larger than the whole file is refused outright instead of being inflated. CRCs are
computed straight on slices of the bytes in memory (one `zlib.crc32` per member), which
is several times cheaper than reading each member through `zipfile`.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

_LOCAL_HEADER = b"PK\x03\x04"
_LOCAL_HEADER_SIZE = 30


@dataclass
class ZipReport:
    """The archive's members and what is wrong with it (empty `problems` = sound).

    `pickle_member` is the `<prefix>/data.pkl` holding the checkpoint's object graph,
    with its bytes in `pickle_bytes` (already CRC-verified).
    """

    members: list[tuple[str, int]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pickle_member: str | None = None
    pickle_bytes: bytes | None = None


def check_zip(data: bytes) -> tuple[ZipReport, zipfile.ZipFile | None]:
    """Verify `data` as a zip archive; return the report and the open archive (if any)."""
    report = ZipReport()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        report.problems.append(f"truncated or corrupt zip archive ({error})")
        return report, None
    view = memoryview(data)
    for info in archive.infolist():
        report.members.append((info.filename, info.file_size))
        problem, payload = _check_member(view, info)
        if problem:
            report.problems.append(problem)
        elif info.filename.endswith("/data.pkl") and report.pickle_member is None:
            report.pickle_member, report.pickle_bytes = info.filename, bytes(payload)
    if report.pickle_member is None and not report.problems:
        report.problems.append("zip archive without a data.pkl member: not a torch checkpoint")
    return report, archive


def _check_member(view: memoryview, info: zipfile.ZipInfo) -> tuple[str | None, memoryview | None]:
    """(why the member cannot be trusted or None, its stored bytes when sound)."""
    name, total = info.filename, len(view)
    if info.file_size > total:
        return f"member {name} declares {info.file_size} bytes, more than the whole file ({total} bytes): zip-bomb header", None
    if info.compress_type != zipfile.ZIP_STORED:
        return f"member {name} is compressed (method {info.compress_type}); torch writes STORED members only", None
    start = info.header_offset
    if view[start : start + 4] != _LOCAL_HEADER:
        return f"member {name}: no local header where the directory says: corrupt archive", None
    name_length, extra_length = struct.unpack_from("<HH", view, start + 26)
    begin = start + _LOCAL_HEADER_SIZE + name_length + extra_length
    end = begin + info.compress_size
    if end > total:
        return f"member {name} extends past the end of the file: truncated archive", None
    payload = view[begin:end]
    if zlib.crc32(payload) != info.CRC:
        return f"member {name}: CRC mismatch (torch would not notice)", None
    return None, payload
