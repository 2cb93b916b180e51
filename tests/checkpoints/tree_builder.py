"""Build, at test time, a realistic checkpoint tree with every kind of run and bad file.

Checkpoints are real `torch.save` files of the real `ternary_vae` model (a small config
for tests, the default one for the benchmark) in each layout seen in the wild. Hostile
files use harmless callables whose effect is observable (`os.mkdir` of a marker folder,
`builtins.print` of a sentinel) so tests can prove they never ran. Nothing here loads a
file with `weights_only=False`.
"""

from __future__ import annotations

import copy
import io
import os
import pickle
import struct
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaeaudit.ternary_vae.config import default_config
from vaeaudit.ternary_vae.metrics import quality_score
from vaeaudit.ternary_vae.model import build_model

SMALL_MODEL = {"latent_dim": 4, "encoder_hidden": [16, 8], "decoder_hidden": [8], "projection_hidden": 8}
PRINT_SENTINEL = "VAEAUDIT-PAYLOAD-EXECUTED"
HOSTILE_NAME = "| <script> [x](y)"


def make_config(small: bool = True, **extra: Any) -> dict[str, Any]:
    config = default_config()
    if small:
        config["model"].update(SMALL_MODEL)
    config.update(extra)
    return config


def good_metrics(hierarchy_B: float = -0.82, richness: float = 0.006, dist_corr: float = 0.7, **extra: float) -> dict[str, float]:
    metrics = {
        "coverage": 1.0,
        "hierarchy_A": -0.52,
        "hierarchy_B": hierarchy_B,
        "richness": richness,
        "r_v0": 0.88,
        "r_v9": 0.21,
        "dist_corr": dist_corr,
    }
    metrics["Q"] = quality_score(dist_corr, hierarchy_B)
    metrics.update(extra)
    return metrics


def model_state(config: dict[str, Any], seed: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return {name: tensor.clone() for name, tensor in build_model(config).state_dict().items()}


def optimizer_state(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """An Adam-shaped optimizer state (two moments per parameter), as trainers save it."""
    return {
        "state": {i: {"step": torch.tensor(10.0), "exp_avg": t * 0.01, "exp_avg_sq": t * t * 1e-4} for i, t in enumerate(state.values())},
        "param_groups": [{"lr": 3e-3, "betas": (0.9, 0.999), "params": list(range(len(state)))}],
    }


def vaeaudit_checkpoint(state, config, metrics, epoch, phase="hierarchy", finished=True) -> dict[str, Any]:
    """The layout `vaeaudit train` writes."""
    return {
        "version": "1",
        "epoch": epoch,
        "phase": phase,
        "phase_epoch": epoch,
        "phase_done": finished,
        "model_state_dict": state,
        "optimizer_state_dict": optimizer_state(state),
        "config": config,
        "metrics": dict(metrics),
        "rng_state": torch.get_rng_state(),
    }


def v5_top_level_checkpoint(state, metrics, epoch) -> dict[str, Any]:
    """The original v5.x layout: metrics at top level, no config."""
    return {"model_state_dict": state, "optimizer_state_dict": optimizer_state(state), "epoch": epoch, "best_loss": 0.1, **metrics}


def v5_12_suffixed_checkpoint(state, config, metrics, epoch) -> dict[str, Any]:
    """The newest original layout: `model_state`, `_B` suffixes, numpy scalars."""
    renamed = {
        ("Q_B" if k == "Q" else f"{k}_B" if k in ("richness", "dist_corr", "r_v0", "r_v9") else k): np.float64(v)
        for k, v in metrics.items()
    }
    return {"model_state": state, "optimizer_state": optimizer_state(state), "epoch": epoch, "config": config, "metrics": renamed}


# The v5.11-era spellings of the original system (84 of its files), metric -> stored key.
V5_11_ERA_KEYS = {
    "hierarchy_A": "radial_corr_A",
    "hierarchy_B": "radial_corr_B",
    "dist_corr": "distance_corr_B",
    "r_v0": "radius_v0",
    "r_v9": "radius_v9",
    "richness": "richness_B",
    "Q": "Q_B",
}


def v5_11_era_checkpoint(state, metrics, epoch) -> dict[str, Any]:
    """`model` + `optimizer` + `metrics` in the v5.11 spellings, numpy float32 scalars (no config)."""
    stored = {V5_11_ERA_KEYS.get(name, name): np.float32(value) for name, value in metrics.items()}
    return {"model": state, "optimizer": optimizer_state(state), "epoch": epoch, "metrics": stored}


def homeostasis_checkpoint(state, metrics, epoch) -> dict[str, Any]:
    """`model_state_dict` + run bookkeeping, metrics at top level as `r_v0_B`, `hierarchy`, `dist_corr_B`."""
    renamed = {"hierarchy_B": "hierarchy", "r_v0": "r_v0_B", "r_v9": "r_v9_B", "dist_corr": "dist_corr_B", "richness": "richness_B"}
    return {
        "model_state_dict": state,
        "epoch": epoch,
        "run_id": "homeostasis-2025-01",
        "best_Q": np.float32(metrics["Q"]),
        "best_hierarchy": np.float32(metrics["hierarchy_B"]),
        "homeostasis_state": {"frozen": [True, False]},
        "version": "5.11",
        **{renamed.get(name, name): np.float32(value) for name, value in metrics.items() if name != "Q"},
    }


def history_checkpoint(state, metrics, epoch) -> dict[str, Any]:
    """Weights under `model`, metrics only as `*_history` lists."""
    return {
        "model": state,
        "optimizer": optimizer_state(state),
        "epoch": epoch,
        **{f"{k}_history": [v * 0.5, v] for k, v in metrics.items()},
    }


def save(obj: Any, path: Path, **options: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path, **options)
    return path


class MkdirPayload:
    """Unpickling this would create `marker` (via os.mkdir): proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


class PrintPayload:
    def __reduce__(self):
        return (print, (PRINT_SENTINEL,))


@dataclass
class Tree:
    root: Path
    marker: Path
    bad_files: dict[str, Path] = field(default_factory=dict)


def _stored_zip(members: list[tuple[zipfile.ZipInfo, bytes]], compression: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in members:
            archive.writestr(info.filename, data, compress_type=compression)
    return buffer.getvalue()


def _members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return [(info, archive.read(info)) for info in archive.infolist()]


def flip_tensor_byte(data: bytes) -> bytes:
    """Flip one byte inside the first tensor record: only the CRC can tell."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = next(i for i in archive.infolist() if "/data/" in i.filename and i.file_size > 8)
    local_header = info.header_offset
    name_length, extra_length = struct.unpack("<HH", data[local_header + 26 : local_header + 30])
    position = local_header + 30 + name_length + extra_length + info.file_size // 2
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]


def inflate_declared_size(data: bytes) -> bytes:
    """Claim a 4 GB uncompressed size for the first member in the central directory."""
    position = data.index(b"PK\x01\x02")
    return data[: position + 24] + struct.pack("<I", 0xFFFFFFF0) + data[position + 28 :]


def build_bad_files(root: Path, marker: Path, config: dict[str, Any]) -> dict[str, Path]:
    """Fifteen kinds of bad or hostile file, one per run folder (TEST category)."""
    state = model_state(config, seed=99)
    good = vaeaudit_checkpoint(state, config, good_metrics(), epoch=3)
    buffer = io.BytesIO()
    torch.save(good, buffer)
    good_bytes = buffer.getvalue()
    files: dict[str, Path] = {}

    def put(kind: str, data: bytes, name: str = "best.pt") -> None:
        path = root / f"test_bad_{kind}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[kind] = path

    files["malicious"] = save({**good, "payload": MkdirPayload(marker)}, root / "test_bad_malicious" / "best.pt")
    put("print_pickle", pickle.dumps({"model_state_dict": {}, "payload": PrintPayload()}, protocol=4))
    files["protocol4"] = save(good, root / "test_bad_protocol4" / "best.pt", pickle_protocol=4)
    put("truncated", good_bytes[: len(good_bytes) // 2])
    put("flipped_crc", flip_tensor_byte(good_bytes))
    put("deflated", _stored_zip(_members(good_bytes), zipfile.ZIP_DEFLATED))
    put("zip_bomb", inflate_declared_size(good_bytes))
    put("lfs_pointer", b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 1048576\n")
    put("png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    put("empty", b"")
    put("no_data_pkl", _stored_zip([(zipfile.ZipInfo("notes/readme.txt"), b"hello")], zipfile.ZIP_STORED))
    files["foreign_globals"] = save({**good, "args": Path("/tmp")}, root / "test_bad_foreign_globals" / "best.pt")
    files["legacy"] = save(good, root / "test_bad_legacy" / "best.pt", _use_new_zipfile_serialization=False)
    scripted = root / "test_bad_torchscript" / "best.pt"
    scripted.parent.mkdir(parents=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.save is deprecated, the files are not
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(scripted))
    files["torchscript"] = scripted
    unreadable = root / "test_bad_unreadable" / "best.pt"
    save(vaeaudit_checkpoint(model_state(config, seed=98), config, good_metrics(), epoch=3), unreadable).chmod(0)
    files["unreadable"] = unreadable
    loop = root / "test_bad_symlink_loop"
    loop.mkdir()
    (loop / "best.pt").symlink_to("other.pt")
    (loop / "other.pt").symlink_to("best.pt")
    files["symlink_loop"] = loop / "best.pt"
    return files


def build_tree(root: Path, small: bool = True, copies: int = 1) -> Tree:
    """The full tree: good runs in every category and layout, broken runs, bad files.

    `copies` > 1 repeats the sweep block (with new seeds) to grow the tree for benchmarks.
    """
    root.mkdir(parents=True, exist_ok=True)
    tree = Tree(root=root, marker=root.parent / "PAYLOAD_RAN")
    config = make_config(small)
    seed = iter(range(1000, 100000))

    def run(
        name: str,
        metrics: dict[str, float] | None = None,
        *,
        layout: str = "vaeaudit",
        epoch: int = 100,
        files: tuple[str, ...] = ("best.pt", "latest.pt"),
        state=None,
        run_config=None,
        readme: bool = True,
        finished: bool = True,
        phase: str = "hierarchy",
    ) -> dict[str, torch.Tensor]:
        """One run folder with `files`, all holding the same weights; returns those weights."""
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        state = model_state(config, next(seed)) if state is None else state
        metrics = good_metrics() if metrics is None else metrics
        run_config = config if run_config is None else run_config
        for file_name in files:
            epoch_here = epoch - 10 if file_name.startswith("best") else epoch
            if layout == "vaeaudit":
                checkpoint = vaeaudit_checkpoint(state, run_config, metrics, epoch_here, phase, finished)
            elif layout == "v5_top":
                checkpoint = v5_top_level_checkpoint(state, metrics, epoch_here)
            elif layout == "v5_12_suffixed":
                checkpoint = v5_12_suffixed_checkpoint(state, run_config, metrics, epoch_here)
            elif layout == "v5_11_era":
                checkpoint = v5_11_era_checkpoint(state, metrics, epoch_here)
            elif layout == "homeostasis":
                checkpoint = homeostasis_checkpoint(state, metrics, epoch_here)
            else:
                checkpoint = history_checkpoint(state, metrics, epoch_here)
            save(checkpoint, folder / file_name)
        if readme:
            (folder / "README.md").write_text(f"# {name}\n")
        return state

    # Production, in every layout the original system used.
    source = run("v5_5", layout="v5_top")
    run("v5_10", layout="history")
    run("v5_11", layout="v5_top", readme=False)
    run("v5_11_3", good_metrics(-0.74, 0.00124))
    run("v5_11_8", good_metrics(-0.8300, 0.00126))
    run("v5_12", layout="v5_12_suffixed")
    run("v5_11_era_radial", good_metrics(-0.80, 0.004), layout="v5_11_era")
    run("homeostasis_v5_11", good_metrics(-0.79, 0.003), layout="homeostasis")
    run("v5_11_best_q_only", layout="v5_11_era", files=("latest.pt", "best_Q.pt"))
    run("sweep_crashed_epochs", layout="v5_11_era", files=("epoch_10.pt", "epoch_20.pt"))
    original = run("v5_12_4", good_metrics(-0.8320, 0.00787, 0.72), files=("best.pt", "best_Q.pt", "latest.pt"))
    # Experiments in every other category.
    run("v5_11_annealing")
    run("progressive_unfreeze")
    run("learnable_curvature")
    run("homeostatic_rich", good_metrics(-0.8321, 0.00787))
    run("structural_prior")
    for index in range(copies):
        for name in ("sweep_lr_1e3", "sweep_lr_3e3", "sweep_beta_01", "stability_check"):
            run(f"{name}_{index}" if copies > 1 else name, good_metrics(-0.70 - 0.01 * (index % 10)))
    run("test_smoke", epoch=2)
    run("validation_run")
    run("radial_only", good_metrics(-0.78, 0.002))
    run("final_rich_lr5e5", good_metrics(-0.69, 0.00858))
    run("scratch_v2")
    run("misc_probe", layout="history", readme=False)
    run(HOSTILE_NAME)
    # Broken runs.
    (root / "empty_run").mkdir()
    run("partial_run", files=("latest.pt",), epoch=20, finished=False)
    run("stale_partial", files=("latest.pt",), epoch=5, finished=False)
    run("sweep2_traceback", files=("latest.pt",))
    (root / "sweep2_traceback" / "train.log").write_text(
        'epoch 12 loss 0.3\nTraceback (most recent call last):\n  File "train.py"\nRuntimeError: boom\n'
    )
    run("oom_run")
    (root / "oom_run" / "train.log").write_text("epoch 3\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB\n")
    run("killed_run", files=("latest.pt",))
    (root / "killed_run" / "stdout.txt").write_text("epoch 7\nKilled\n")
    run("sweep_latent_8", files=("epoch_3.pt",))
    run("hierarchy_push", good_metrics(-0.95, 0.0))
    run("rich_inverted", good_metrics(0.31))
    with_nan = model_state(config, next(seed))
    with_nan["encoder_B.mu.weight"][0, 0] = float("nan")
    run("debug_nan", state=with_nan)
    dead = model_state(config, next(seed))
    dead["decoder.logits.weight"].zero_()
    run("dead_weights", state=dead)
    run("q_mismatch", {**good_metrics(), "Q": 1.99})
    run("out_of_range", {**good_metrics(), "coverage": 1.3})
    run("arch_mismatch", state=model_state(make_config(small, model={**config["model"], "latent_dim": 6}), next(seed)))
    foreign = {"encoder.fc1.weight": torch.randn(8, 9), "encoder.fc1.bias": torch.randn(8)}
    run("foreign_format", layout="v5_top", state=foreign)
    run("epoch_order", files=("best.pt",), epoch=60)
    save(vaeaudit_checkpoint(model_state(config, next(seed)), config, good_metrics(), 40), root / "epoch_order" / "latest.pt")
    # Duplicates and runs that learned nothing.
    run("v5_12_copy", good_metrics(-0.8320, 0.00787, 0.72), state=copy.deepcopy(original))
    overnight_config = make_config(small, frozen_checkpoint={"path": "sandbox-training/checkpoints/v5_5/latest.pt"})
    run("v5_11_overnight", good_metrics(-0.83, 0.001), state=copy.deepcopy(source), run_config=overnight_config)
    shared_trainable = model_state(config, 7)

    def with_shared_trainable() -> dict[str, torch.Tensor]:
        state = model_state(config, next(seed))
        state.update({k: v.clone() for k, v in shared_trainable.items() if k.startswith(("encoder_B.", "projection."))})
        return state

    for name in ("phase2_seed_a", "phase2_seed_b"):
        run(name, state=with_shared_trainable())
    for name in ("coverage_phase_a", "coverage_phase_b"):  # still in phase 1: an equal phase-2 init is expected
        run(name, state=with_shared_trainable(), phase="coverage", finished=False, files=("latest.pt",), epoch=10)
    tree.bad_files = build_bad_files(root, tree.marker, config)
    old = time.time() - 7 * 24 * 3600
    for path in (root / "stale_partial").iterdir():
        os.utime(path, (old, old))
    return tree
