"""CUDA smoke test of `vaeaudit train`: a short run on the GPU, its checkpoint read back on the CPU.

    .venv/bin/python bench/gpu_smoke.py [--full]

Without CUDA it prints why it skipped and exits 0. With CUDA it trains a short run
(--full: the default config) with device=cuda, then checks: the checkpoint says
device cuda:0 and loads with `load_model` on the CPU; the metrics recomputed there agree
with the ones stored by the GPU run (coverage exactly, hierarchy_B to 1e-4: GPU kernels
round differently); `embed` works on the GPU model; no loss was NaN. Exit 1 on a failed check.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

SHORT = ("model.encoder_hidden=[64, 64]", "coverage.max_epochs=10", "hierarchy.max_epochs=3")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the default config instead of a short one")
    arguments = parser.parse_args()
    if not torch.cuda.is_available():
        print("gpu_smoke: skipped: torch.cuda.is_available() is False (no CUDA device or a CPU-only torch build)")
        return 0

    from vaeaudit.ternary_vae import embed, load_model
    from vaeaudit.ternary_vae.config import resolve_config
    from vaeaudit.ternary_vae.data import all_operations, valuations
    from vaeaudit.ternary_vae.metrics import evaluate
    from vaeaudit.ternary_vae.train import train

    print(f"gpu_smoke: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    config = resolve_config(overrides=("device=cuda", *(() if arguments.full else SHORT)))
    failures = []
    with tempfile.TemporaryDirectory(prefix="gpu_smoke_") as scratch:
        started = time.perf_counter()
        result = train(config, Path(scratch) / "run")
        wall = time.perf_counter() - started
        print(f"trained on {result.device} in {wall:.1f} s: epochs {result.epochs}")
        for name in ("coverage", "hierarchy_B", "hierarchy_B_sampled", "richness", "dist_corr", "at_cap", "sigma_B"):
            print(f"  {name:<20} {result.metrics[name]:.5f}   canonical {result.canonical.get(name, float('nan')):.5f}")
        checkpoint = torch.load(Path(scratch) / "run" / "latest.pt", map_location="cpu", weights_only=True)
        if checkpoint["device"] != "cuda:0" and checkpoint["device"] != "cuda":
            failures.append(f"checkpoint device is {checkpoint['device']!r}")
        on_cpu = evaluate(load_model(Path(scratch) / "run" / "latest.pt"), all_operations(), valuations())
        if on_cpu["coverage"] != checkpoint["metrics"]["coverage"]:
            failures.append(f"coverage: CPU recompute {on_cpu['coverage']} vs stored {checkpoint['metrics']['coverage']}")
        if abs(on_cpu["hierarchy_B"] - checkpoint["metrics"]["hierarchy_B"]) > 1e-4:
            failures.append(f"hierarchy_B: CPU recompute {on_cpu['hierarchy_B']:.6f} vs stored {checkpoint['metrics']['hierarchy_B']:.6f}")
        points = embed(load_model(Path(scratch) / "run" / "latest.pt", device="cuda"), encoder="B", sample=True)
        if points.device.type != "cuda" or not torch.isfinite(points).all():
            failures.append("embed on the GPU model gave non-finite points or points off the GPU")
    for failure in failures:
        print(f"FAILED: {failure}")
    print("gpu_smoke: ok" if not failures else f"gpu_smoke: {len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
