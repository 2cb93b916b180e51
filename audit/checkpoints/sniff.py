"""What kind of file a `.pt` really is, decided from its first bytes alone.

Run trees collect files that only look like checkpoints: a git-LFS pointer committed
instead of the weights, a plot saved with the wrong suffix, a TorchScript export, a
plain pickle. Telling them apart by magic bytes costs nothing and avoids handing torch
a file it will misreport.
"""

from __future__ import annotations

from dataclasses import dataclass

# torch's legacy (pre-1.6) format opens with a protocol-2 pickle of this magic number.
LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
LFS_POINTER = b"version https://git-lfs.github.com/spec/"
ZIP_LOCAL_HEADER = b"PK\x03\x04"
NPY_MAGIC = b"\x93NUMPY"

_FOREIGN_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"%PDF": "PDF document",
    b"\x89HDF\r\n\x1a\n": "HDF5 file",
    b"7z\xbc\xaf\x27\x1c": "7z archive (not opened: no reader in the standard library)",
}


# Single compressed streams: opened (within a bound) because a pickle may sit inside.
COMPRESSED_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}


@dataclass(frozen=True)
class Sniffed:
    """`kind` is one of: empty, zip, legacy, pickle, npy, compressed, lfs-pointer, foreign, unknown.

    "unknown" has no magic bytes at all: it may still be a protocol 0/1 pickle, which
    starts with an ordinary opcode, so it is scanned rather than dismissed.

    `detail` says more for humans ("PNG image", "pickle protocol 4").
    """

    kind: str
    detail: str = ""


def sniff(data: bytes) -> Sniffed:
    """Classify a file's content by its leading bytes."""
    if not data:
        return Sniffed("empty", "0 bytes")
    if data.startswith(ZIP_LOCAL_HEADER):
        return Sniffed("zip", "zip archive")
    if data.startswith(LEGACY_MAGIC):
        return Sniffed("legacy", "legacy (pre-1.6) torch serialization")
    if data.startswith(LFS_POINTER):
        return Sniffed("lfs-pointer", "git-LFS pointer: the weights were never fetched (git lfs pull)")
    if len(data) >= 2 and data[0] == 0x80 and data[1] <= 5:
        return Sniffed("pickle", f"plain pickle (protocol {data[1]}), not a torch checkpoint")
    if data.startswith(NPY_MAGIC):
        return Sniffed("npy", "numpy .npy array")
    for magic, name in COMPRESSED_MAGIC.items():
        if data.startswith(magic):
            return Sniffed("compressed", f"{name} stream")
    for magic, name in _FOREIGN_MAGIC.items():
        if data.startswith(magic):
            return Sniffed("foreign", name)
    return Sniffed("unknown", "unknown content (no checkpoint magic bytes)")
