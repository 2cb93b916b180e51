"""The scan cache: a warm run reads only the small results file; summaries are trusted only when they match."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vaeaudit.scan import cache as cache_module
from vaeaudit.scan import runner
from vaeaudit.scan.cache import ScanCache, SummaryLost, content_hash
from vaeaudit.scan.runner import scan_files
from vaeaudit.scan.settings import Settings
from vaeaudit.scan.summaries import FileSummary, FunctionSummary

PROJECT = Path(__file__).parent / "fixtures" / "project_cross_file"


def copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    return root


def scan(root: Path):
    return scan_files(sorted(root.rglob("*.py")), Settings(project_root=root, cache_dir=".cache"), jobs=1)


def summaries_shards(root: Path) -> list[Path]:
    (folder,) = (root / ".cache").glob("scan-*.summaries")
    return sorted(folder.iterdir())


def seen(run) -> list[tuple]:
    return [(f.path, f.line, f.rule, f.evidence) for f in run.findings]


def test_a_warm_run_over_unchanged_files_needs_no_summaries(tmp_path: Path) -> None:
    """The summaries are ~95 % of the cache; an unchanged project is answered without them."""
    root = copy_project(tmp_path)
    cold = scan(root)
    for shard in summaries_shards(root):
        shard.write_text("not json", encoding="utf-8")
    warm = scan(root)
    assert (warm.parsed, warm.cached) == (0, len(warm.results))
    assert seen(warm) == seen(cold) and any(f.path.endswith("losses.py") for f in cold.findings)


def test_a_cached_file_whose_summary_is_lost_is_analysed_again(tmp_path: Path) -> None:
    """`losses.py` reports HYP001 only through train.py's call: its summary must take part in the
    fixpoint after another file changed, even when the summaries file is gone."""
    root = copy_project(tmp_path)
    cold = scan(root)
    train = root / "train.py"
    # An edit that changes train.py's summary (a new function): the project is solved again.
    train.write_text(train.read_text(encoding="utf-8") + "\n\ndef added(x):\n    return x\n", encoding="utf-8")
    for shard in summaries_shards(root):
        shard.unlink()
    after = scan(root)
    assert seen(after) == seen(cold)
    assert after.parsed > 1  # train.py, and the cached files whose summaries were lost


def test_summaries_not_saved_with_the_results_are_not_trusted(tmp_path: Path) -> None:
    """A crash between the two writes can leave newer summaries beside older results."""
    settings = Settings(project_root=tmp_path, cache_dir=".cache")
    path, digest = str(tmp_path / "a.py"), content_hash(b"def f(x): ...\n")
    cache = ScanCache(settings)
    cache.put(path, digest, [], None, FileSummary("a", {"f": FunctionSummary(("x",))}), inputs="first", settled=True)
    cache.save()
    results = cache.file.read_bytes()
    assert ScanCache(settings).summary(path) == FileSummary("a", {"f": FunctionSummary(("x",))})
    cache.put(path, digest, [], None, FileSummary("a", {"f": FunctionSummary(("x", "y"))}), inputs="second", settled=True)
    cache.save()
    cache.file.write_bytes(results)  # the summaries of the second run, the results of the first
    reread = ScanCache(settings)
    assert reread.get(path, digest) is not None
    with pytest.raises(SummaryLost):
        reread.summary(path)


def test_an_edit_that_changes_no_summary_rewrites_only_the_results(tmp_path: Path, monkeypatch) -> None:
    root = copy_project(tmp_path)
    scan(root)
    before = [shard.stat().st_ino for shard in summaries_shards(root)]
    encoder = root / "models" / "encoder.py"
    encoder.write_text(encoder.read_text(encoding="utf-8") + "# a comment changes no summary\n", encoding="utf-8")
    put: list[str] = []
    original = ScanCache.put

    def recording(self, path, *args, **kwargs):
        put.append(Path(path).name)
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(ScanCache, "put", recording)
    assert scan(root).parsed == 1
    assert put == ["encoder.py"]  # the files answered from the cache keep their entries as they are
    assert [shard.stat().st_ino for shard in summaries_shards(root)] == before
    assert json.loads(next((root / ".cache").glob("scan-*[0-9a-f].json")).read_text(encoding="utf-8"))["files"]


def test_a_warm_cli_run_imports_no_parser_no_pool_and_no_gitignore_matcher(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    (root / "pyproject.toml").write_text("[tool.vaeaudit]\n", encoding="utf-8")
    probe = (
        "import sys\n"
        "from vaeaudit.cli import main\n"
        "try:\n"
        "    main(['scan', '--quiet', '.'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('LOADED', sorted(m for m in ('libcst', 'pathspec', 'concurrent.futures.process', 'tempfile') if m in sys.modules))\n"
    )
    runs = [subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True) for _ in range(2)]
    assert "libcst" in runs[0].stdout  # the cold run parsed
    assert "LOADED []" in runs[1].stdout
    assert runs[0].stdout.splitlines()[:-1] == runs[1].stdout.splitlines()[:-1]
    assert "HYP001" in runs[1].stdout


def test_a_file_left_unanalysed_on_purpose_is_cached_with_its_warning(tmp_path: Path) -> None:
    """A file over max-file-size (or with a statement nested past the limit) is a warning, not an error; it
    must be answered from the cache like any other, or every warm run would solve the whole project again."""
    root = copy_project(tmp_path)
    table = "TABLE = [\n" + "    0.0,\n" * 400 + "]\n"
    (root / "generated.py").write_text(f"def radius(z_hyp):\n    return z_hyp.norm()\n\n\n{table}", encoding="utf-8")
    settings = Settings(project_root=root, cache_dir=".cache", max_file_size=2_000)
    cold = scan_files(sorted(root.rglob("*.py")), settings, jobs=1)
    warm = scan_files(sorted(root.rglob("*.py")), settings, jobs=1)
    assert (warm.parsed, warm.cached) == (0, len(warm.results))
    (warning,) = [result for result in warm.results if result.path.endswith("generated.py")]
    assert warning.severity == "warning" and "max-file-size" in (warning.error or "")
    assert seen(warm) == seen(cold)


def reads_during(monkeypatch, root: Path, action) -> list[str]:
    """The files of `root` that `action` reads through `runner._read` (how the runner reads every source)."""
    read: list[str] = []
    original = runner._read

    def counting(name: str) -> bytes:
        path = Path(name)
        if path.suffix == ".py" and root in path.resolve().parents:
            read.append(path.name)
        return original(name)

    monkeypatch.setattr(runner, "_read", counting)
    try:
        action()
    finally:
        monkeypatch.setattr(runner, "_read", original)
    return read


@pytest.fixture
def trusted_stamps(monkeypatch):
    """Stamps taken right now are trusted (in real use only those older than two seconds are)."""
    monkeypatch.setattr(cache_module, "RACY_NS", -(10**12))


def test_a_warm_run_trusts_each_file_by_its_stamp_and_reads_none(tmp_path: Path, monkeypatch, trusted_stamps) -> None:
    root = copy_project(tmp_path)
    cold = scan(root)
    runs = []
    assert reads_during(monkeypatch, root, lambda: runs.append(scan(root))) == []
    assert seen(runs[0]) == seen(cold) and cold.findings


def test_an_edited_file_gets_a_new_stamp_and_is_read_again(tmp_path: Path, monkeypatch, trusted_stamps) -> None:
    root = copy_project(tmp_path)
    scan(root)
    with open(root / "losses.py", "a", encoding="utf-8") as handle:
        handle.write("\n\ndef radial_loss(embeddings, targets):\n    return torch.norm(embeddings, dim=-1).sum()\n")
    runs = []
    assert reads_during(monkeypatch, root, lambda: runs.append(scan(root))) == ["losses.py"]
    lines = {f.line for f in runs[0].findings if f.path.endswith("losses.py")}
    assert max(lines) == len((root / "losses.py").read_text(encoding="utf-8").splitlines())


def test_a_stamp_too_young_to_trust_is_read_and_trusted_once_it_has_aged(tmp_path: Path, monkeypatch) -> None:
    """A write in the same tick of the file system's clock as the stat would leave the stamp as it was."""
    root = copy_project(tmp_path)
    scan(root)  # every file was just written: no stamp is trusted yet
    files = sorted(path.name for path in root.rglob("*.py"))
    assert sorted(reads_during(monkeypatch, root, lambda: scan(root))) == files
    monkeypatch.setattr(cache_module, "RACY_NS", -(10**12))  # now they are old enough
    assert sorted(reads_during(monkeypatch, root, lambda: scan(root))) == files  # read once more, and stamped
    assert reads_during(monkeypatch, root, lambda: scan(root)) == []


def test_summaries_lost_from_the_cache_are_written_back(tmp_path: Path) -> None:
    """A file whose shard was lost is analysed again at the next solve and its summary stored again, even though
    its summary is unchanged: the solve after that reads it from the cache (found by review)."""
    root = copy_project(tmp_path)
    scan(root)
    for shard in summaries_shards(root):
        shard.unlink()
    train = root / "train.py"
    for name in ("again", "once_more"):  # a function that returns ball points: the project is solved again
        train.write_text(train.read_text(encoding="utf-8") + f"\n\ndef {name}(h):\n    return encode(h)\n", encoding="utf-8")
        run = scan(root)
        if name == "again":
            assert run.parsed > 2  # every file whose summary was lost
        else:
            assert run.parsed <= 2  # train.py (and a file whose inputs it changes), the rest from the cache
