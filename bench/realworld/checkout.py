"""Materialise every pinned repository of repos.toml into a local folder.

    .venv/bin/python bench/realworld/checkout.py [DEST] [--mirrors DIR] [--repo OWNER/NAME]

DEST defaults to bench/realworld/checkouts/ (git-ignored: third-party code is never committed).
Each repository goes to DEST/<owner>__<name>/, extracted with
``git --git-dir=MIRROR archive COMMIT | tar -x`` from a bare mirror ``MIRRORS/<owner>+<name>/repo``
(the layout of the session's ``fetch`` tool; default /work/.mirror) or from any git clone found at
``MIRRORS/<owner>+<name>`` / ``MIRRORS/<name>``. When no mirror is found the script prints how to get
one (``git clone URL && git -C NAME checkout COMMIT``) and goes on with the next repository.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_CHECKOUTS, checkout_dir, load_repos  # noqa: E402


def find_mirror(mirrors: Path, name: str) -> Path | None:
    owner, short = name.split("/")
    for cand in (
        mirrors / f"{owner}+{short}" / "repo",
        mirrors / f"{owner}+{short}",
        mirrors / f"{owner}__{short}",
        mirrors / short,
    ):
        if cand.exists():
            git_dir = cand / ".git" if (cand / ".git").exists() else cand
            ok = subprocess.run(["git", "--git-dir", str(git_dir), "rev-parse", "--git-dir"], capture_output=True)
            if ok.returncode == 0:
                return git_dir
    return None


def extract_present_blobs(mirror: Path, commit: str, target: Path) -> list[str] | None:
    """Write every blob of COMMIT that the mirror holds; return the paths left out (None: no commit)."""
    tree = subprocess.run(["git", "--git-dir", str(mirror), "ls-tree", "-r", "-z", commit], capture_output=True)
    if tree.returncode != 0:
        return None
    skipped: list[str] = []
    for entry in tree.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if not entry:
            continue
        meta, path = entry.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind != "blob" or mode == "120000":
            continue
        blob = subprocess.run(["git", "--git-dir", str(mirror), "cat-file", "blob", sha], capture_output=True)
        if blob.returncode != 0:
            skipped.append(path)
            continue
        out = (target / path).resolve()
        if not str(out).startswith(str(target.resolve())):
            continue  # never write outside the checkout
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(blob.stdout)
    return skipped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dest", nargs="?", type=Path, default=DEFAULT_CHECKOUTS)
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--repo", action="append", help="only this repository (repeatable)")
    ap.add_argument("--force", action="store_true", help="replace an existing checkout")
    args = ap.parse_args(argv)

    missing = 0
    for repo in load_repos():
        name, commit = repo["name"], repo["commit"]
        if args.repo and name not in args.repo:
            continue
        target = checkout_dir(args.dest, name)
        stamp = target / ".bench_commit"
        if target.exists() and stamp.exists() and stamp.read_text().strip() == commit and not args.force:
            print(f"ok       {name} @ {commit[:12]} (already in {target})")
            continue
        mirror = find_mirror(args.mirrors, name)
        if mirror is None:
            missing += 1
            print(
                f"MISSING  {name}: no mirror under {args.mirrors}. Get it with\n"
                f"           git clone {repo['url']} {args.mirrors / name.replace('/', '+')}\n"
                f"           git -C {args.mirrors / name.replace('/', '+')} checkout {commit}\n"
                f"         then run this script again."
            )
            continue
        archive = subprocess.run(["git", "--git-dir", str(mirror), "archive", "--format=tar", commit], capture_output=True)
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        skipped: list[str] = []
        if archive.returncode == 0:
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(target, filter="data")
        else:
            # Some mirrors leave out large blobs (datasets, gifs); take every blob that is there.
            skipped = extract_present_blobs(mirror, commit, target)
            if skipped is None:
                missing += 1
                print(f"FAILED   {name}: commit {commit} not in {mirror}: {archive.stderr.decode().strip()}")
                print(f"           git --git-dir {mirror} fetch origin {commit}")
                continue
        stamp.write_text(commit + "\n")
        n_py = sum(1 for _ in target.rglob("*.py"))
        print(f"checked  {name} @ {commit[:12]} -> {target} ({n_py} .py files)")
        if skipped:
            py_skipped = [p for p in skipped if p.endswith(".py")]
            print(f"         {len(skipped)} blobs absent from the mirror were left out ({len(py_skipped)} .py: {py_skipped[:5]})")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
