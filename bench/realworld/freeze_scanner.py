"""Freeze the scanner of one commit into a folder, to measure it while the working tree changes.

    .venv/bin/python bench/realworld/freeze_scanner.py [COMMIT] [DEST]    (defaults: HEAD, /tmp/vaeaudit-<sha>)

Extracts the `audit` package of COMMIT (`git archive COMMIT audit | tar -x`), links it as `vaeaudit`
(the name pyproject.toml maps it to), and writes DEST/launch.py, which runs that copy's CLI with the
editable install's import hook removed. Prints the command prefix to pass as --scanner (or to set
as $VAEAUDIT_SCANNER) to measure.py, inject.py and sample.py. Writes nothing inside the repository.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent

LAUNCH = '''"""Run the vaeaudit CLI of this folder's copy, bypassing the editable install's import hook."""
import sys

sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, __file__.rsplit("/", 1)[0])
for name in [m for m in sys.modules if m in ("audit", "vaeaudit") or m.startswith(("audit.", "vaeaudit."))]:
    del sys.modules[name]
from vaeaudit.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
'''


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commit = argv[0] if argv else "HEAD"
    sha = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", commit], capture_output=True, text=True, check=True).stdout.strip()
    dest = Path(argv[1]) if len(argv) > 1 else Path(f"/tmp/vaeaudit-{sha[:12]}")
    if dest.resolve().is_relative_to(REPO_ROOT):
        sys.exit("DEST must be outside the repository")
    dest.mkdir(parents=True, exist_ok=True)
    tar = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", sha, "audit"], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as tf:
        tf.extractall(dest, filter="data")
    link = dest / "vaeaudit"
    if not link.exists():
        link.symlink_to("audit")
    (dest / "launch.py").write_text(LAUNCH, encoding="utf-8")
    (dest / "COMMIT").write_text(sha + "\n", encoding="utf-8")
    print(f"{sys.executable} {dest / 'launch.py'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
