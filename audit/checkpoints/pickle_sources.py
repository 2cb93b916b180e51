"""Find and scan every pickle some loader could run from one file, whatever holds it.

torch.load runs `<archive>/data.pkl` of a zip, the five pickles at the head of a legacy
file, and (with weights_only=False, the default before torch 2.6) the first pickle of any
other file, whatever its name. Other loaders read every pickle of a stream, any `.pkl`
member of an archive, the pickled payload of a numpy object array. So we scan them all:
every consecutive pickle of a plain file, every zip member that is or looks like a pickle
wherever it sits (listed or not, flagged encrypted or not, compressed within a bound),
TorchScript `constants.pkl`, `.npy` object arrays and the `.npy` members of `.npz`
archives, and a zip nested in a zip. Raw tensor records are data and are skipped.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from vaeaudit.checkpoints.pickle_scan import StreamScan, scan_stream
from vaeaudit.checkpoints.sniff import NPY_MAGIC
from vaeaudit.checkpoints.zipcheck import INFLATE_LIMIT, LOCAL, ZipReport, check_zip

LEGACY_PICKLE_COUNT = 5  # magic, protocol, sys info, the object, the storage keys
MAX_NESTING = 2  # a zip inside a zip inside the file is still opened; deeper is reported
PICKLE_SUFFIXES = ("pkl", ".pickle")  # data.pkl, constants.pkl, TorchScript's *.debug_pkl
_NPY_OBJECT = re.compile(r"'[|<>=]?O\d*'")


@dataclass
class FileScan:
    """Every pickle found in one file (`where` -> scan) and the container that held them.

    `container`: torch-zip (a zip torch.load reads: `<folder>/data.pkl`), torchscript, zip,
    legacy, pickle, npy, or none (no pickle anywhere).
    """

    container: str
    scans: dict[str, StreamScan] = field(default_factory=dict)
    zip_report: ZipReport | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def imports(self) -> set[str]:
        return {name for scan in self.scans.values() for name in scan.imports}

    @property
    def expanded(self) -> int:
        return max((scan.expanded for scan in self.scans.values()), default=0)

    @property
    def too_large(self) -> bool:
        return any(scan.too_large for scan in self.scans.values())

    def stops(self) -> list[str]:
        """Each pickle that could not be read to its end, and why."""
        return [f"{where}: {scan.stopped}" for where, scan in self.scans.items() if scan.stopped]


def scan_file(data: bytes, kind: str) -> FileScan:
    """Scan `data`, whose leading bytes were sniffed as `kind` (see `sniff`)."""
    if kind == "zip":
        return _scan_zip(data, depth=0)
    if kind == "legacy":
        return FileScan("legacy", {"legacy stream": scan_stream(data, LEGACY_PICKLE_COUNT)})
    if kind == "npy":
        found = FileScan("npy")
        _scan_npy(data, "array", found)
        return found
    if kind == "compressed":
        inner = decompress_bounded(data)
        if _looks_like_pickle(inner[:2]):
            return FileScan("compressed pickle", {"decompressed stream": scan_stream(inner)})
        return FileScan("none")
    if kind in ("pickle", "unknown"):
        scan = scan_stream(data)
        if scan.pickles or scan.imports or kind == "pickle":
            return FileScan("pickle", {"pickle stream": scan})
    return FileScan("none")


def _scan_zip(data: bytes, depth: int) -> FileScan:
    report = check_zip(data)
    found = FileScan(_zip_container(report.names), zip_report=report)
    for member in report.members:
        payload, name = member.payload, member.name
        if _is_storage_record(name) and not name.endswith(PICKLE_SUFFIXES):
            continue
        where = name if member.listed else f"{name} (unlisted)"
        head = bytes(payload[:6])
        if head.startswith(NPY_MAGIC):
            _scan_npy(bytes(payload), where, found)
        elif head.startswith(LOCAL):
            if depth + 1 > MAX_NESTING:
                found.notes.append(f"{where}: zip nested deeper than {MAX_NESTING} levels, not opened")
                continue
            inner = _scan_zip(bytes(payload), depth + 1)
            found.scans.update({f"{where}/{key}": scan for key, scan in inner.scans.items()})
            found.notes.extend(f"{where}/{note}" for note in inner.notes)
        elif name.endswith(PICKLE_SUFFIXES) or _looks_like_pickle(head):
            found.scans[where] = scan_stream(payload)
    return found


def _is_storage_record(name: str) -> bool:
    """A tensor's storage record: `data/<digits>` as the name or after a `/` (`archive/data/0`).
    String operations, not a regex: this runs on every member of every zip (~130 per checkpoint)."""
    body = name[:-1] if name.endswith("\n") else name  # `$` also matches before a final newline
    head, found, digits = body.rpartition("data/")
    return bool(found) and digits.isdecimal() and (not head or head.endswith("/"))


def _zip_container(names: list[str]) -> str:
    """torchscript, torch-zip (torch.load finds `<first folder>/data.pkl`) or plain zip."""
    joined = "\n".join(names)  # one substring search instead of a split per member, when neither name occurs
    if ("constants.pkl" in joined or "code" in joined) and any(name.split("/")[1:2] in (["constants.pkl"], ["code"]) for name in names):
        return "torchscript"
    folder = names[0].split("/", 1)[0] if names and "/" in names[0] else None
    return "torch-zip" if folder and f"{folder}/data.pkl" in names else "zip"


def _looks_like_pickle(head: bytes) -> bool:
    """A PROTO opcode (protocol 2-5) at the start: what every modern pickle begins with."""
    return len(head) >= 2 and head[0] == 0x80 and head[1] <= 5


def _scan_npy(data: bytes, where: str, found: FileScan) -> None:
    """An object array's data is a pickle (np.save with allow_pickle); other arrays are raw."""
    size_format = "<H" if data[6:7] == b"\x01" else "<I"
    header_start = 8 + struct.calcsize(size_format)
    if len(data) < header_start:
        found.notes.append(f"{where}: truncated .npy header")
        return
    (header_length,) = struct.unpack_from(size_format, data, 8)
    header = data[header_start : header_start + header_length].decode("latin-1")
    payload = data[header_start + header_length :]
    if _NPY_OBJECT.search(header) or _looks_like_pickle(payload[:2]):
        found.scans[f"{where} (object array)"] = scan_stream(payload)


def decompress_bounded(data: bytes) -> bytes:
    """At most INFLATE_LIMIT bytes of a gzip, bzip2 or xz stream (b"" when it is broken)."""
    import bz2
    import lzma
    import zlib

    try:
        if data.startswith(b"\x1f\x8b"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, INFLATE_LIMIT)
        if data.startswith(b"BZh"):
            return bz2.BZ2Decompressor().decompress(data, INFLATE_LIMIT)
        return lzma.LZMADecompressor().decompress(data, INFLATE_LIMIT)
    except (zlib.error, OSError, EOFError, lzma.LZMAError):
        return b""
