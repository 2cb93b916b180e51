"""Checkpoint audit speed: files/s for ~1 MB checkpoints, and a 120-run tree end to end.

Targets (from issue 5): >= 200 files/s in one process; a 120-run tree reported in <= 3 s
excluding interpreter start. The peer is bare `torch.load(weights_only=True)` of the
same bytes: the ratio shows what the safety checks (magic, zip CRCs, pickle scan,
tensor health, digests, architecture, metrics) cost on top of loading alone.

Run: .venv/bin/python bench/bench_checkpoints.py   (prints figures; asserts nothing)
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "checkpoints"))

import torch  # noqa: E402
from timing import median_seconds  # noqa: E402
from tree_builder import build_tree, good_metrics, make_config, model_state, save, vaeaudit_checkpoint  # noqa: E402

from vaeaudit.checkpoints.file_audit import audit_file  # noqa: E402
from vaeaudit.checkpoints.report import render_markdown  # noqa: E402
from vaeaudit.checkpoints.settings import CheckpointSettings  # noqa: E402
from vaeaudit.checkpoints.tree_audit import audit_tree  # noqa: E402

FILES = 200
REPEATS = 5


def trainer_checkpoint(seed: int) -> dict:
    """The layout `vaeaudit train` writes, default model: ~1.2 MB, 129 tensors (weights + Adam)."""
    config = make_config(small=False)
    return vaeaudit_checkpoint(model_state(config, seed), config, good_metrics(), epoch=50)


def few_tensor_checkpoint(seed: int) -> dict:
    """~1 MB in 8 tensors: the same bytes with little per-tensor overhead."""
    generator = torch.Generator().manual_seed(seed)
    weights = {f"layer{i}.weight": torch.randn(128, 256, generator=generator) for i in range(8)}
    return {"model_state_dict": weights, "epoch": 50, **good_metrics()}


def bench_files(folder: Path, label: str, make_checkpoint) -> None:
    paths = [save(make_checkpoint(seed), folder / label / f"run{seed}" / "best.pt") for seed in range(FILES)]
    size_mb = statistics.mean(path.stat().st_size for path in paths) / 1e6
    tensors = sum("/data/" in name for name in zipfile.ZipFile(paths[0]).namelist())  # load cost is per tensor
    payloads = [path.read_bytes() for path in paths]
    audit_file(paths[0], "warm", "warm", 2e-3)  # imports and the architecture cache warm up once

    ours = median_seconds(lambda: [audit_file(path, path.name, path.parent.name, 2e-3) for path in paths], REPEATS)
    peer = median_seconds(lambda: [torch.load(io.BytesIO(data), map_location="cpu", weights_only=True) for data in payloads], REPEATS)
    print(f"per-file audit, {label}: {FILES} files of {size_mb:.2f} MB, {tensors} tensors each, median of {REPEATS}:")
    print(f"  vaeaudit audit_file         {FILES / ours:8.0f} files/s  ({1000 * ours / FILES:.2f} ms/file)  target >= 200/s")
    print(f"  peer: bare torch.load       {FILES / peer:8.0f} files/s  ({1000 * peer / FILES:.2f} ms/file)")
    print(f"  ratio vaeaudit/peer time    {ours / peer:8.2f}x")


def bench_tree(folder: Path) -> None:
    tree = build_tree(folder / "tree" / "runs", small=False, copies=17)
    settings = CheckpointSettings()
    audit = audit_tree(tree.root, settings)  # warm-up (torch already imported by the builder)
    runs, files = len(audit.runs), len(audit.files)
    seconds = median_seconds(lambda: render_markdown(audit_tree(tree.root, settings)), repeats=3)
    print(f"tree report, {runs} runs / {files} files (default-size model), median of 3, in a warm process:")
    print(f"  audit + Markdown render     {seconds:8.2f} s   target <= 3 s")

    start_only = median_seconds(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeats=3)
    output = folder / "report.md"
    command = [str(Path(sys.executable).with_name("vaeaudit")), "checkpoints", "report", str(tree.root), "-o", str(output), "--no-plot"]
    cli = median_seconds(lambda: subprocess.run(command, check=True, capture_output=True), repeats=3)
    print(f"  CLI wall (cold process)     {cli:8.2f} s   (interpreter start {start_only:.2f} s; the rest includes importing torch)")
    print(f"  CLI minus interpreter start {cli - start_only:8.2f} s   target <= 3 s")


def main() -> None:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        bench_files(Path(folder), "trainer layout", trainer_checkpoint)
        bench_files(Path(folder), "few large tensors", few_tensor_checkpoint)
        bench_tree(Path(folder))


if __name__ == "__main__":
    main()
