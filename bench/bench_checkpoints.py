"""Checkpoint audit speed, side by side with bare `torch.load(weights_only=True)` in the same run.

Targets (issue 13): per file, our overhead over a bare weights-only `torch.load` of the
file is <= 30 % on the 129-tensor layout `vaeaudit train` writes (the issue's peer: "103
files/s vs 144 for bare torch.load" of files); a 1,000-run tree is reported in <= 10 s.
The peer is torch.load alone: the difference is what the safety checks cost (magic
bytes, zip structure and CRCs, the static scan of every pickle, tensor health, digests,
architecture, metrics). Per file, the peer is timed three ways: reading each file and
loading its bytes, as audit_file must (the target: the fastest way to load a file here),
`torch.load(path)` (torch reads the file itself), and on bytes already in memory
(stricter, shown too); the four sides take turns file by file, so load from other
processes falls on all of them alike. The tree is audited
with one worker process per core (as `checkpoints report` does) and in one process. The tree mixes the original system's run
layouts (best + latest, latest + best_Q, best only, epoch_N only, empty) with the
129-tensor layout at the small test model size: load cost is per tensor, not per MB.

Run: .venv/bin/python bench/bench_checkpoints.py [--runs N] [--stages]   (prints figures; asserts nothing)
Timings are medians of several repeats; on a shared machine quote them as such.
--stages adds where the overhead goes: each stage of audit_file timed on its own (CPU ms).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "checkpoints"))

import torch  # noqa: E402
import xxhash  # noqa: E402
from tree_builder import good_metrics, make_config, model_state, save, vaeaudit_checkpoint  # noqa: E402
from zlib_ng.zlib_ng import crc32  # noqa: E402

from vaeaudit.checkpoints import architecture, fields, metric_checks, pickle_scan, safe_load, tensors, zipcheck  # noqa: E402
from vaeaudit.checkpoints.file_audit import audit_file  # noqa: E402
from vaeaudit.checkpoints.report import render_markdown  # noqa: E402
from vaeaudit.checkpoints.settings import CheckpointSettings  # noqa: E402
from vaeaudit.checkpoints.tree_audit import audit_tree, available_workers  # noqa: E402

FILES = 100
REPEATS = 5
SETTINGS = CheckpointSettings()
# (files in the run folder, share of runs): the original inventory's mix, roughly.
RUN_LAYOUTS = (
    (("best.pt", "latest.pt"), 4),
    (("latest.pt", "best_Q.pt"), 2),
    (("best.pt",), 2),
    (("epoch_10.pt",), 1),
    ((), 1),
)


def trainer_checkpoint(seed: int, small: bool = False) -> dict:
    """The layout `vaeaudit train` writes: 129 tensors (weights + Adam state); ~1.2 MB at default size."""
    config = make_config(small=small)
    return vaeaudit_checkpoint(model_state(config, seed), config, good_metrics(), epoch=50)


def bare_load_files(paths: list[Path]) -> None:
    """The peer for the tree: read each file and load it, nothing else."""
    for path in paths:
        torch.load(io.BytesIO(path.read_bytes()), map_location="cpu", weights_only=True)


def bench_files(folder: Path) -> None:
    """Per file, the four sides timed in turns on the same file, so a burst of load from
    other processes hits all of them alike, each side first on a quarter of the files; the
    figures are medians over every file and repeat."""
    paths = [save(trainer_checkpoint(seed), folder / "files" / f"run{seed}" / "best.pt") for seed in range(FILES)]
    size_mb = statistics.mean(path.stat().st_size for path in paths) / 1e6
    tensors = sum("/data/" in name for name in zipfile.ZipFile(paths[0]).namelist())
    payloads = [path.read_bytes() for path in paths]
    audit_file(paths[0], "warm", "warm", SETTINGS)  # imports and the architecture cache warm up once
    sides: list[Callable[[Path, bytes], object]] = [
        lambda path, _: audit_file(path, path.name, path.parent.name, SETTINGS),
        lambda _, payload: torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True),
        lambda path, _: torch.load(io.BytesIO(path.read_bytes()), map_location="cpu", weights_only=True),
        lambda path, _: torch.load(path, map_location="cpu", weights_only=True),
    ]
    wall: list[list[float]] = [[] for _ in sides]
    cpu: list[list[float]] = [[] for _ in sides]
    for _ in range(REPEATS):
        for index, (path, payload) in enumerate(zip(paths, payloads, strict=True)):
            for turn in range(len(sides)):
                which = (index + turn) % len(sides)  # each side goes first on a share of the files: a first touch pays cold caches
                started, started_cpu = time.perf_counter(), time.process_time()
                sides[which](path, payload)
                wall[which].append(time.perf_counter() - started)
                cpu[which].append(time.process_time() - started_cpu)
    (ours, in_memory, from_file, by_path), (ours_cpu, in_memory_cpu, from_file_cpu, _) = (
        [1000 * statistics.median(taken) for taken in figures] for figures in (wall, cpu)
    )
    print(f"per file: {FILES} files of {size_mb:.2f} MB, {tensors} tensors each (the trainer layout), median of {REPEATS} x {FILES}:")
    print(f"  vaeaudit audit_file               {ours:7.2f} ms/file  ({1000 / ours:6.0f} files/s)")
    print(f"  bare torch.load, bytes in memory  {in_memory:7.2f} ms/file  ({1000 / in_memory:6.0f} files/s)")
    print(f"  bare torch.load, file read + load {from_file:7.2f} ms/file  ({1000 / from_file:6.0f} files/s)")
    print(f"  bare torch.load(path)             {by_path:7.2f} ms/file  ({1000 / by_path:6.0f} files/s)  (torch reads it)")
    print(f"  overhead over read + load         {100 * (ours / from_file - 1):7.1f} %        target <= 30 % (audit_file reads it too)")
    print(f"  overhead over the in-memory load  {100 * (ours / in_memory - 1):7.1f} %        (stricter: no read on the peer's side)")
    print(
        f"  CPU time: {ours_cpu:.2f} vs {in_memory_cpu:.2f} (in memory) and {from_file_cpu:.2f} (read + load) ms/file: "
        f"overhead {100 * (ours_cpu / in_memory_cpu - 1):.1f} % and {100 * (ours_cpu / from_file_cpu - 1):.1f} %"
    )


def bench_stages(path: Path, repeats: int = 200) -> None:
    """Each stage of `audit_file` on one trainer-layout file, timed alone (median CPU ms).

    The same bytes every repeat, so caches are warm: a stage inside the real audit, on a
    file just read, costs a little more. The stages add up to about the whole audit.
    """
    data = path.read_bytes()
    pickle_bytes = bytes(next(m.payload for m in zipcheck.check_zip(data).members if m.name.endswith("/data.pkl")))
    loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    found, state = fields.extract_fields(loaded, SETTINGS.aliases)
    arrays = [tensor.numpy() for tensor in state.values()]
    members = [m.payload for m in zipcheck.check_zip(data).members]
    stages: list[tuple[str, Callable[[], object]]] = [
        ("read the file", path.read_bytes),
        ("zip structure and CRCs", lambda: zipcheck.check_zip(data)),
        ("  of which the CRCs (zlib-ng crc32)", lambda: [crc32(payload) for payload in members]),
        ("pickle scan of data.pkl", lambda: pickle_scan.scan_stream(pickle_bytes)),
        ("torch.load weights-only", lambda: torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)),
        ("fields and metrics", lambda: metric_checks.metric_problems(fields.extract_fields(loaded, SETTINGS.aliases)[0].metrics, 2e-3)),
        ("tensor digests and health", lambda: tensors.tensor_facts(state)),
        ("  of which XXH3-128 of the bytes", lambda: [xxhash.xxh3_128(array).digest() for array in arrays]),
        ("architecture", lambda: architecture.check_architecture(found.config, state)),
        ("safe_load.load_checkpoint", lambda: safe_load.load_checkpoint(path, SETTINGS.policy)),
        ("audit_file, all of it", lambda: audit_file(path, path.name, path.parent.name, SETTINGS)),
    ]
    print(f"stages of audit_file on one file ({len(state)} model tensors, data.pkl {len(pickle_bytes):,} B), median CPU ms of {repeats}:")
    for label, action in stages:
        taken = []
        for _ in range(repeats):
            started = time.process_time()
            action()
            taken.append(time.process_time() - started)
        print(f"  {label:36s} {1000 * statistics.median(taken):7.3f}")


def interleaved_medians(actions: list[Callable[[], object]], repeats: int) -> tuple[list[float], list[float]]:
    """Median wall and CPU seconds of each action, timed in turns so all see the same load.

    CPU time (this process's own) barely moves when other processes share the cores, so
    it is printed too: on a busy machine it is the figure to compare.
    """
    wall: list[list[float]] = [[] for _ in actions]
    cpu: list[list[float]] = [[] for _ in actions]
    for _ in range(repeats):
        for action, walls, cpus in zip(actions, wall, cpu, strict=True):
            started, started_cpu = time.perf_counter(), time.process_time()
            action()
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - started_cpu)
    return [statistics.median(taken) for taken in wall], [statistics.median(taken) for taken in cpu]


def build_runs(root: Path, runs: int) -> list[Path]:
    """`runs` run folders in the RUN_LAYOUTS mix; returns every checkpoint file written."""
    pattern = [files for files, share in RUN_LAYOUTS for _ in range(share)]
    written = []
    for index in range(runs):
        folder = root / f"sweep_{index:04d}"
        folder.mkdir(parents=True)
        for offset, name in enumerate(pattern[index % len(pattern)]):
            written.append(save(trainer_checkpoint(index * 3 + offset, small=True), folder / name))
    return written


def bench_tree(folder: Path, runs: int) -> None:
    root = folder / "tree"
    started = time.perf_counter()
    files = build_runs(root, runs)
    built = time.perf_counter() - started
    workers = available_workers()
    audit_tree(root, SETTINGS)  # warm the page cache for all sides
    (ours, serial, peer), (_, serial_cpu, peer_cpu) = interleaved_medians(
        [
            lambda: render_markdown(audit_tree(root, SETTINGS)),
            lambda: render_markdown(audit_tree(root, SETTINGS, workers=1)),
            lambda: bare_load_files(files),
        ],
        3,
    )
    print(f"tree: {runs} runs, {len(files)} checkpoint files (129 tensors each, small model; built in {built:.0f} s), median of 3:")
    print(f"  vaeaudit audit + Markdown, {workers} worker(s) {ours:7.2f} s   target <= 10 s")
    print(f"  vaeaudit audit + Markdown, 1 process   {serial:7.2f} s")
    print(f"  bare torch.load of files, 1 process    {peer:7.2f} s")
    print(f"  overhead over bare load, 1 process     {100 * (serial / peer - 1):7.1f} %")
    print(f"  the same in CPU time                   {100 * (serial_cpu / peer_cpu - 1):7.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="run folders in the tree benchmark (0: per-file figures only)")
    parser.add_argument("--stages", action="store_true", help="also time each stage of audit_file on one file")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        bench_files(Path(folder))
        if arguments.stages:
            bench_stages(Path(folder) / "files" / "run0" / "best.pt")
        if arguments.runs:
            bench_tree(Path(folder), arguments.runs)


if __name__ == "__main__":
    main()
