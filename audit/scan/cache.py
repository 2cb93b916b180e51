"""Content-hash cache: an unchanged file under unchanged settings is not analysed again.

One JSON file per settings fingerprint (tool version, the scanner's own source, and every
setting that changes findings) under the cache folder, mapping a file's path to the hash of its bytes and its
result: its findings, its project summary, and the digest of what the rest of the project told
it (`vaeaudit.scan.summaries`), so a file is analysed again only when its bytes or its inputs change. \
JSON rather than pickle: the cache sits in the user's tree and must never be a
way to run code. The folder must lie inside the project root; the cache is written
atomically, and a cache that cannot be read or written only costs speed, never a result.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vaeaudit import __version__
from vaeaudit.atomic import atomic_write_text
from vaeaudit.config import ConfigError
from vaeaudit.scan.findings import Finding, FixHint
from vaeaudit.scan.settings import Settings
from vaeaudit.scan.summaries import EMPTY_DIGEST, FileSummary, summary_from_json, summary_to_json

Entry = tuple[list[Finding], str | None]  # findings, or the error that stopped the file


@dataclass
class Stored:
    findings: list[Finding]
    error: str | None
    summary: FileSummary | None
    inputs: str
    settled: bool  # the runner's `_File.settled`: nothing more to learn unless its inputs change


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def project_digest(files: Iterable[tuple[str, str]]) -> str:
    """Which files, with which contents, a scan saw: equal digests mean the last fixpoint still holds."""
    digest = hashlib.blake2b(digest_size=16)
    for name, content in sorted((_key(name), content) for name, content in files):
        digest.update(f"{name}\0{content}\n".encode())
    return digest.hexdigest()


def scanner_digest() -> str:
    """Hash of the scanner's modules: an upgrade or a checkout that changes a rule without a
    version bump (an editable install, a git dependency) must not be answered from the old
    rules' cache. Reading ~20 small files costs about a millisecond."""
    digest = hashlib.blake2b(digest_size=16)
    for module in sorted(Path(__file__).parent.rglob("*.py")):  # the rules package included
        digest.update(module.relative_to(Path(__file__).parent).as_posix().encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()


def cache_folder(settings: Settings) -> Path:
    """The cache folder, refused (ConfigError) when it would lie outside the project root."""
    root = settings.project_root.resolve()
    folder = (root / settings.cache_dir).resolve()
    if folder != root and root not in folder.parents:
        raise ConfigError(f"cache-dir {settings.cache_dir!r} lies outside the project root {root}; the cache is only written inside it")
    return folder


class ScanCache:
    """`entries`: absolute path -> that file's result; `project`: the `project_digest` of the last
    run whose fixpoint these results are (a warm run over the same unchanged files reuses them as they are)."""

    def __init__(self, settings: Settings) -> None:
        key = content_hash(f"{__version__}\n{scanner_digest()}\n{settings.fingerprint()}".encode())
        self.file = cache_folder(settings) / f"scan-{key}.json"
        self.entries: dict[str, dict] = {}
        self._project = ""
        self.dirty = False
        try:
            stored = json.loads(self.file.read_text(encoding="utf-8"))
            self.entries, self._project = dict(stored["files"]), str(stored["project"])
        except (OSError, ValueError, KeyError, TypeError):
            self.entries, self._project = {}, ""

    @property
    def project(self) -> str:
        return self._project

    @project.setter
    def project(self, digest: str) -> None:
        self.dirty = self.dirty or digest != self._project
        self._project = digest

    def get(self, path: str, digest: str) -> Stored | None:
        """The stored result for `path` if its content hash still matches, reported under `path`."""
        entry = self.entries.get(_key(path))
        if not isinstance(entry, dict) or entry.get("hash") != digest:
            return None
        try:
            summary = entry.get("summary")
            return Stored(
                [_finding({**item, "path": path}) for item in entry["findings"]],
                entry["error"],
                summary_from_json(summary) if summary is not None else None,
                entry.get("inputs", EMPTY_DIGEST),
                bool(entry.get("settled", False)),
            )
        except (KeyError, TypeError, ValueError, IndexError):
            return None

    def put(
        self,
        path: str,
        digest: str,
        findings: list[Finding],
        error: str | None,
        summary: FileSummary | None = None,
        inputs: str = EMPTY_DIGEST,
        settled: bool = False,
    ) -> None:
        self.entries[_key(path)] = {
            "hash": digest,
            "findings": [finding_to_json(f) for f in findings],
            "error": error,
            "summary": summary_to_json(summary) if summary is not None else None,
            "inputs": inputs,
            "settled": settled,
        }
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            gitignore = self.file.parent / ".gitignore"
            if not gitignore.exists():
                atomic_write_text(gitignore, "# Created by vaeaudit: the scan cache is not source.\n*\n")
            atomic_write_text(self.file, json.dumps({"project": self._project, "files": self.entries}, separators=(",", ":")))
        except OSError:
            pass  # a read-only tree scans fine, just not faster next time


def _key(path: str) -> str:
    """Entries are keyed by absolute path: `src/a.py` and `/abs/src/a.py` are one file.

    (Not realpath: resolving symlinks costs a syscall per path component, per file.)
    """
    return os.path.abspath(path)


def finding_to_json(finding: Finding) -> dict:
    """A Finding as plain JSON data (also the `--output-format json` shape)."""
    data = {
        "path": finding.path,
        "rule": finding.rule,
        "message": finding.message,
        "line": finding.line,
        "col": finding.col,
        "end_line": finding.end_line,
        "end_col": finding.end_col,
        "confidence": finding.confidence,
        "evidence": list(finding.evidence),
        "fix": None,
        "cell": finding.cell,
    }
    if finding.fix is not None:
        fix = finding.fix
        data["fix"] = {
            "function": fix.function,
            "x": fix.x,
            "y": fix.y,
            "dim": fix.dim,
            "keepdim": fix.keepdim,
            "p": fix.p,
            "backend": fix.backend,
        }
    return data


def _finding(data: dict) -> Finding:
    fix = FixHint(**data["fix"]) if data.get("fix") else None
    return Finding(
        path=data["path"],
        rule=data["rule"],
        message=data["message"],
        line=data["line"],
        col=data["col"],
        end_line=data["end_line"],
        end_col=data["end_col"],
        confidence=data["confidence"],
        evidence=tuple(data["evidence"]),
        fix=fix,
        cell=data.get("cell"),
    )
