"""Structural checks of a torch zip archive, done before torch ever sees it.

torch's zip reader skips CRC verification and will inflate DEFLATED members, so a
bit-flipped or bomb-shaped archive loads silently or exhausts memory. We verify every
member here: torch writes members STORED, so a compressed member or a declared size
larger than the whole file is refused outright instead of being inflated.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field


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
    total = len(data)
    for info in archive.infolist():
        report.members.append((info.filename, info.file_size))
        problem = _member_problem(archive, info, total)
        if problem:
            report.problems.append(problem)
        elif info.filename.endswith("/data.pkl") and report.pickle_member is None:
            report.pickle_member = info.filename
            report.pickle_bytes = archive.read(info)
    if report.pickle_member is None and not report.problems:
        report.problems.append("zip archive without a data.pkl member: not a torch checkpoint")
    return report, archive


def _member_problem(archive: zipfile.ZipFile, info: zipfile.ZipInfo, total: int) -> str | None:
    """Why one member cannot be trusted, or None. Reads (and so CRC-checks) stored members."""
    name = info.filename
    if info.file_size > total:
        return f"member {name} declares {info.file_size} bytes, more than the whole file ({total} bytes): zip-bomb header"
    if info.compress_type != zipfile.ZIP_STORED:
        return f"member {name} is compressed (method {info.compress_type}); torch writes STORED members only"
    if info.header_offset + info.compress_size > total:
        return f"member {name} extends past the end of the file: truncated archive"
    try:
        with archive.open(info) as handle:
            while handle.read(1 << 20):
                pass
    except zipfile.BadZipFile as error:
        reason = "CRC mismatch" if "CRC" in str(error) else str(error)
        return f"member {name}: {reason} (torch would not notice)"
    except (OSError, EOFError, ValueError) as error:
        return f"member {name} unreadable: {error}"
    return None
