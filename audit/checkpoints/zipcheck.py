"""Structural checks of a torch zip archive, done before torch ever sees it.

torch's zip reader skips CRC verification and will inflate DEFLATED members, so a
bit-flipped or bomb-shaped archive loads silently or exhausts memory. We verify every
member here: torch writes members STORED, so a compressed member or a declared size
larger than the whole file is refused outright instead of being inflated. Every
`.pkl` member is handed to the pickle scan, not just the first `data.pkl`, and duplicate
member names are refused, so torch cannot end up reading a pickle we did not scan. CRCs are
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

    `pickles` maps every `.pkl` member (the `<prefix>/data.pkl` object graph first) to
    its CRC-verified bytes.
    """

    members: list[tuple[str, int]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pickles: dict[str, bytes] = field(default_factory=dict)


def check_zip(data: bytes) -> tuple[ZipReport, zipfile.ZipFile | None]:
    """Verify `data` as a zip archive; return the report and the open archive (if any)."""
    report = ZipReport()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        report.problems.append(f"truncated or corrupt zip archive ({error})")
        return report, None
    view = memoryview(data)
    seen: set[str] = set()
    for info in archive.infolist():
        report.members.append((info.filename, info.file_size))
        problem, payload = _check_member(view, info)
        if info.filename in seen:
            problem = f"member {info.filename} appears twice: readers disagree on which copy counts"
        seen.add(info.filename)
        if problem:
            report.problems.append(problem)
        elif info.filename.endswith(".pkl"):
            report.pickles[info.filename] = bytes(payload)
    if not any(name.endswith("/data.pkl") for name in report.pickles) and not report.problems:
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
