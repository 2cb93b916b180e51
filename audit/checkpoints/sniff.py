"""What kind of file a `.pt` really is, decided from its first bytes alone.

Run trees collect files that only look like checkpoints: a git-LFS pointer committed
instead of the weights, a plot saved with the wrong suffix, a TorchScript export, a
plain pickle. Telling them apart by magic bytes costs nothing and avoids handing torch
a file it will misreport.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

# torch's legacy (pre-1.6) format opens with a protocol-2 pickle of this magic number.
LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
LFS_POINTER = b"version https://git-lfs.github.com/spec/"
ZIP_LOCAL_HEADER = b"PK\x03\x04"

_FOREIGN_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"%PDF": "PDF document",
    b"\x1f\x8b": "gzip archive",
    b"\x93NUMPY": "numpy .npy array",
    b"\x89HDF\r\n\x1a\n": "HDF5 file",
}


@dataclass(frozen=True)
class Sniffed:
    """`kind` is one of: empty, zip, legacy, pickle, lfs-pointer, foreign.

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
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return Sniffed("pickle", f"plain pickle (protocol {data[1]}), not a torch checkpoint")
    for magic, name in _FOREIGN_MAGIC.items():
        if data.startswith(magic):
            return Sniffed("foreign", name)
    return Sniffed("foreign", "unknown content (no checkpoint magic bytes)")


def is_torchscript(archive: zipfile.ZipFile) -> bool:
    """TorchScript archives (torch.jit.save) carry compiled code next to the data."""
    return any(name.split("/", 1)[-1].startswith(("constants.pkl", "code/")) for name in archive.namelist())
