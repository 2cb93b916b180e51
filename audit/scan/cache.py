"""Content-hash cache: an unchanged file under unchanged settings is not analysed again.

Per settings fingerprint (tool version, the scanner's own source, and every setting that
changes findings), a JSON results file `scan-<key>.json` maps a file's path to the hash of
its bytes, its findings, the digest of what the rest of the project told it
(`vaeaudit.scan.summaries`), and the project digest of the last fixpoint with the names its
call targets spell; the files' project summaries live in `scan-<key>.summaries/`, in
`SHARDS` JSON files by a hash of the path. A file is analysed again only when its bytes or
its inputs change. The summaries are ~95 % of the bytes and only needed when something
changed: a warm run over unchanged files reads the results file alone, and an edit reads and
rewrites only its own file's shard.
Each result also records the hash of its file's summary, and the inputs it was computed with
are kept, one small file per distinct inputs digest, under `scan-<key>.inputs/`: after an
edit that leaves what the file tells the project as it was (most edits: a body, a comment, a
helper nobody calls yet), the last fixpoint still holds for every other file, so the runner
re-analyses the edited file with its previous inputs and does not solve the project again. A result
taken by such an analysis also records what the analysis read of the file (`vaeaudit.scan.fingerprint`):
a later edit of comments alone only moves the entry to the new bytes.
JSON rather than pickle: the cache sits in the user's tree and must never be a
way to run code. The folder must lie inside the project root; the files are written
atomically, summaries first; the results file records the hash of each summaries shard it
goes with, so after a crash between the writes (or any other mismatch) that shard's
summaries count as lost and the files that had one are analysed again. A cache that cannot
be read or written only costs speed, never a result.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vaeaudit import __version__
from vaeaudit.config import ConfigError
from vaeaudit.scan.findings import Finding, FixHint
from vaeaudit.scan.settings import Settings
from vaeaudit.scan.summaries import EMPTY_DIGEST, FileSummary, Inputs, inputs_from_json, inputs_to_json, summary_from_json, summary_to_json

Entry = tuple[list[Finding], str | None]  # findings, or the error that stopped the file


@dataclass
class Stored:
    findings: list[Finding]
    error: str | None
    inputs: str
    settled: bool  # the runner's `_File.settled`: nothing more to learn unless its inputs change
    severity: str = "error"  # of `error`: "warning" for a file (or statement) left unanalysed on purpose


@dataclass
class Previous:
    """What the last run recorded about a file, for the incremental re-scan of an edit (`ScanCache.previous`)."""

    content: str  # hash of the bytes it was analysed from
    summary: str | None  # `summary_digest` of its summary; None when it had none (not part of the project)
    inputs: str
    settled: bool
    code: str | None = None  # `fingerprint.code_fingerprint` of its bytes, with the prefilter's triage (None: not taken)


class SummaryLost(Exception):
    """A cached file's summary is missing from its summaries shard (a crash between the writes, an edit)."""


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def summary_digest(summary: FileSummary | None) -> str | None:
    """Equal digests mean equal summaries: what the rest of the project learns from a file did not change."""
    return None if summary is None else _json_digest(summary_to_json(summary))


def _json_digest(data: dict) -> str:
    return content_hash(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())


# A stamp younger than this is not trusted: a timestamp is as coarse as the file system's clock (a few ms;
# 2 s on FAT), so a write right after a stat may leave it as it was ("racily clean", as git calls it).
RACY_NS = 2_000_000_000


def file_stamp(stat: os.stat_result, now: int) -> list[int] | None:
    """What a file's stat says of its bytes: equal stamps, equal bytes (as git's index and ruff's cache
    trust them), so a warm run need not read and hash every file. None for a stamp too young to trust."""
    if now - max(stat.st_mtime_ns, stat.st_ctime_ns) < RACY_NS:
        return None
    return [stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino]


def project_digest(files: Iterable[tuple[str, str]]) -> str:
    """Which files (by absolute path), with which contents, a scan saw: equal digests mean the last fixpoint still holds."""
    digest = hashlib.blake2b(digest_size=16)
    for name, content in sorted(files):
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


# Summaries shards: an edit rewrites ~1/64 of them (6,800 files: ~4 ms instead of 0.4 s to read and write them all).
SHARDS = 64


def shard_of(key: str) -> str:
    return format(int(content_hash(key.encode())[:2], 16) % SHARDS, "02x")


class ScanCache:
    """`entries`: absolute path -> that file's result; `project`: the `project_digest` of the last
    run whose fixpoint these results are (a warm run over the same unchanged files reuses them as they are);
    `targets`: the names that fixpoint's call targets spell (`summaries.target_names`), None when unknown;
    the summaries, absolute path -> its summary JSON, are read shard by shard on first use."""

    def __init__(self, settings: Settings) -> None:
        key = content_hash(f"{__version__}\n{scanner_digest()}\n{settings.fingerprint()}".encode())
        folder = cache_folder(settings)
        self.file = folder / f"scan-{key}.json"
        self.summaries_folder = folder / f"scan-{key}.summaries"
        self.inputs_folder = folder / f"scan-{key}.inputs"
        self._new_inputs: dict[str, Inputs] = {}  # inputs digest -> inputs, written by `save`
        self.entries: dict[str, dict] = {}
        self._shards: dict[str, dict[str, dict]] = {}  # shard -> path -> summary JSON, as read (or since changed)
        self._shard_hashes: dict[str, str] = {}  # shard -> the hash of its file the results were saved with
        self._dirty_shards: set[str] = set()
        self._inputs_dropped = False  # some result names other inputs than before: maybe orphans in the store
        self._project = ""
        self.targets: set[str] | None = None
        self.dirty = False
        try:
            stored = json.loads(self.file.read_bytes())
            self.entries, self._project = dict(stored["files"]), str(stored["project"])
            self._shard_hashes = {str(shard): str(digest) for shard, digest in stored["summaries"].items()}
            self.targets = set(stored["targets"]) if stored.get("targets") is not None else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.entries, self._project, self._shard_hashes, self.targets = {}, "", {}, None

    @property
    def project(self) -> str:
        return self._project

    @project.setter
    def project(self, digest: str) -> None:
        self.dirty = self.dirty or digest != self._project
        self._project = digest

    def _shard(self, shard: str) -> dict[str, dict]:
        """Path -> summary JSON of one shard, read on first use; empty unless its file is the one the results
        were saved with (its hash is in the results file: a crash between the writes loses that shard)."""
        if shard not in self._shards:
            self._shards[shard] = {}
            try:
                data = (self.summaries_folder / f"{shard}.json").read_bytes()
                stored = json.loads(data) if content_hash(data) == self._shard_hashes.get(shard) else None
            except (OSError, ValueError):
                stored = None
            if isinstance(stored, dict):
                self._shards[shard] = stored
        return self._shards[shard]

    def hash_for(self, key: str, stamp: list[int] | None) -> str | None:
        """The stored content hash of the file `key` (its absolute path) when its stamp is the one stored with it."""
        entry = self.entries.get(key)
        if stamp is None or not isinstance(entry, dict) or entry.get("stamp") != stamp:
            return None
        return entry.get("hash")

    def get(self, key: str, digest: str, path: str | None = None) -> Stored | None:
        """The stored result for the file `key` (its absolute path) if its content hash still matches,
        reported under `path` (the name the user gave it; default `key`)."""
        entry = self.entries.get(key)
        if not isinstance(entry, dict) or entry.get("hash") != digest:
            return None
        try:
            return Stored(
                [_finding({**item, "path": path or key}) for item in entry["findings"]],
                entry["error"],
                entry.get("inputs", EMPTY_DIGEST),
                bool(entry.get("settled", False)),
                str(entry.get("severity", "error")),
            )
        except (KeyError, TypeError, ValueError, IndexError):
            return None

    def previous(self, key: str) -> Previous | None:
        """What the last run recorded about the file `key` (None: nothing usable, e.g. an entry of an older version)."""
        entry = self.entries.get(key)
        if not isinstance(entry, dict) or "summary_digest" not in entry:
            return None
        try:
            inputs, settled, code = str(entry.get("inputs", EMPTY_DIGEST)), bool(entry.get("settled")), entry.get("code")
            return Previous(str(entry["hash"]), entry["summary_digest"], inputs, settled, code if isinstance(code, str) else None)
        except KeyError:
            return None

    def inputs(self, digest: str) -> Inputs | None:
        """The inputs stored under `digest` (None: missing, unreadable, or not what the digest says)."""
        if digest == EMPTY_DIGEST:
            return Inputs()
        try:
            inputs = inputs_from_json(json.loads((self.inputs_folder / f"{digest}.json").read_bytes()))
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None
        return inputs if inputs.digest() == digest else None

    def summary(self, key: str) -> FileSummary | None:
        """The stored summary of a file `get` answered for (None: it has none); SummaryLost when it
        should have one but its shard lacks it (deleted, or not the one saved with the results)."""
        if not self.entries[key].get("summary"):
            return None
        try:
            return summary_from_json(self._shard(shard_of(key))[key])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            raise SummaryLost(key) from None

    def put(
        self,
        key: str,
        digest: str,
        findings: list[Finding],
        error: str | None,
        summary: FileSummary | None = None,
        inputs: str = EMPTY_DIGEST,
        settled: bool = False,
        given: Inputs | None = None,
        severity: str = "error",
        stamp: list[int] | None = None,
        code: str | None = None,
    ) -> None:
        """Record the result of the file `key` (its absolute path); `given` is the inputs it was computed with
        (their digest is `inputs`), `stamp` the `file_stamp` its bytes were read under, `code` what the
        analysis read of them (`Previous.code`), when taken."""
        stored = summary_to_json(summary) if summary is not None else None
        digest_of_summary = None if stored is None else _json_digest(stored)
        before = self.entries.get(key, {})
        self._inputs_dropped = self._inputs_dropped or before.get("inputs", inputs) != inputs
        if given is not None and inputs != EMPTY_DIGEST:
            self._new_inputs[inputs] = given
        entry = {
            "hash": digest,
            "findings": [finding_to_json(f) for f in findings],
            "error": error,
            "summary": summary is not None,
            "summary_digest": digest_of_summary,
            "inputs": inputs,
            "settled": settled,
            "severity": severity,
            "stamp": stamp,
        }
        if code is not None:  # the two optional fields are left out when empty: 7,000 entries would carry them all
            entry["code"] = code
        if summary is not None and summary.functions is None:
            entry["unanalysed"] = True
        self.entries[key] = entry
        # Its shard is read even when the summary is unchanged (~4 ms): a shard lost to a crash is written back.
        shard = shard_of(key)
        summaries = self._shard(shard)
        if summaries.get(key) != stored:  # an edit that changes no summary does not rewrite its shard
            if stored is None:
                summaries.pop(key, None)
            else:
                summaries[key] = stored
            self._dirty_shards.add(shard)
        self.dirty = True

    def restamp(self, key: str, stamp: list[int] | None) -> None:
        """A file read and found to hold the bytes of its entry: trust it by this stamp from now on."""
        entry = self.entries.get(key)
        if stamp is not None and isinstance(entry, dict) and entry.get("stamp") != stamp:
            entry["stamp"] = stamp
            self.dirty = True

    def unanalysed(self) -> set[str]:
        """The files (absolute paths) whose stored summary says "not analysed" (a deferred file nothing woke)."""
        return {key for key, entry in self.entries.items() if isinstance(entry, dict) and entry.get("unanalysed")}

    def rehash(self, key: str, digest: str, stamp: list[int] | None) -> None:
        """The file `key` now holds other bytes that tell the analysis what its entry's bytes told it (the same
        `Previous.code`): its entry, summary and inputs stand for them."""
        self.entries[key].update(hash=digest, stamp=stamp)
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        # Imported here: atomic's tempfile & co. cost ~5 ms that a warm run, which writes nothing, need not pay.
        from vaeaudit.atomic import atomic_write_bytes, atomic_write_text

        try:
            make_cache_folder(self.file.parent)
            self._save_inputs(atomic_write_text)
            for shard in sorted(self._dirty_shards):
                summaries = json.dumps(self._shards[shard], separators=(",", ":")).encode()
                self.summaries_folder.mkdir(exist_ok=True)
                atomic_write_bytes(self.summaries_folder / f"{shard}.json", summaries)
                self._shard_hashes[shard] = content_hash(summaries)
            targets = sorted(self.targets) if self.targets is not None else None
            results = {"project": self._project, "summaries": self._shard_hashes, "targets": targets, "files": self.entries}
            atomic_write_text(self.file, json.dumps(results, separators=(",", ":")))
            self._dirty_shards.clear()
        except OSError:
            pass  # a read-only tree scans fine, just not faster next time

    def _save_inputs(self, write) -> None:
        """Write the inputs new to the store, each once under its digest (first: a result never names a
        digest the store lacks), and drop those no result names any more."""
        stored = set(os.listdir(self.inputs_folder)) if self.inputs_folder.is_dir() else set()
        for digest, inputs in self._new_inputs.items():
            if f"{digest}.json" not in stored:
                self.inputs_folder.mkdir(exist_ok=True)
                write(self.inputs_folder / f"{digest}.json", json.dumps(inputs_to_json(inputs), separators=(",", ":")))
        if self._inputs_dropped:
            named = {f"{entry.get('inputs')}.json" for entry in self.entries.values() if isinstance(entry, dict)}
            for orphan in stored - named:
                (self.inputs_folder / orphan).unlink(missing_ok=True)


def make_cache_folder(folder: Path) -> None:
    """Create the cache folder with a `.gitignore` that keeps it out of the user's commits (OSError if it cannot)."""
    folder.mkdir(parents=True, exist_ok=True)
    gitignore = folder / ".gitignore"
    if not gitignore.exists():
        from vaeaudit.atomic import atomic_write_text  # here: a warm run, which writes nothing, need not import it

        atomic_write_text(gitignore, "# Created by vaeaudit: the scan cache is not source.\n*\n")


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
            "manifold": fix.manifold,
            "manifold_kind": fix.manifold_kind,
            "manifold_origin": fix.manifold_origin,
            "curvature": fix.curvature,
            "curvature_note": fix.curvature_note,
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
