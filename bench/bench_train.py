"""Time-to-quality of `vaeaudit train` with the default config, against a radial-loss peer.

Quality = the issue's target: coverage 100 %, hierarchy_B <= -0.8320 (ceiling -0.83205)
and richness >= 0.00787, radii as Poincaré distance from the origin. The peer is the same
trainer with the rich-hierarchy loss replaced by plain per-op radius regression (the
original system's "max_hierarchy" recipe; every other term unchanged), run for the same
number of epochs.

    .venv/bin/python bench/bench_train.py [--runs 3] [--seeds 0] [--set key=value ...]

Prints, per config, the median over --runs of wall time, time to quality and epochs/s,
the final metrics of the median run, and a per-level radius summary of its best.pt;
with --seeds K, one run per seed 0..K-1 to show how robust the default recipe is.
Writes only to a temporary folder, removed at exit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from tabulate import tabulate

from vaeaudit.ternary_vae import geometry, losses
from vaeaudit.ternary_vae.config import max_dist0, resolve_config
from vaeaudit.ternary_vae.data import N_LEVELS, all_operations, valuations
from vaeaudit.ternary_vae.metrics import HIERARCHY_CEILING, METRIC_NAMES
from vaeaudit.ternary_vae.model import build_model
from vaeaudit.ternary_vae.train import load_checkpoint, train

RADIAL_PEER = ("hierarchy.mean_weight=0", "hierarchy.spread_weight=0", "hierarchy.separation_weight=0", "hierarchy.radial_weight=1")


def run_once(config: dict, folder: Path) -> dict:
    started = time.perf_counter()
    result = train(config, folder)
    wall = time.perf_counter() - started
    epochs = sum(result.epochs.values())
    return {"wall": wall, "result": result, "epochs": epochs, "epochs_per_s": epochs / wall}


def level_summary(run_dir: Path) -> list[tuple]:
    """Radius of encoder B's points per valuation level in best.pt (else latest.pt) vs its band."""
    path = run_dir / "best.pt" if (run_dir / "best.pt").exists() else run_dir / "latest.pt"
    checkpoint = load_checkpoint(path)
    config = checkpoint["config"]
    model = build_model(config)
    model.load_state_dict(checkpoint["model_state_dict"])
    model.eval()
    valuation = valuations()
    with torch.no_grad():
        points = model.projection(model.encoder_B(all_operations())[0])
    radius = geometry.poincare_radius(points.double(), c=config["model"]["curvature"])
    low, high = losses.level_bands(config["hierarchy"], max_dist0(config["model"]))
    rows = []
    for level in range(N_LEVELS):
        members = radius[valuation == level]
        spread = members.var().item() if len(members) > 1 else 0.0
        rows.append((level, len(members), members.min().item(), members.mean().item(), members.max().item(), spread, f"[{low[level]:.3f}, {high[level]:.3f}]"))
    return rows


def bench(name: str, overrides: tuple[str, ...], runs: int, max_epochs: int | None) -> dict:
    if max_epochs is not None:
        overrides = (*overrides, f"hierarchy.max_epochs={max_epochs}", "hierarchy.early_stop=false")
    config = resolve_config(overrides=overrides)
    with tempfile.TemporaryDirectory(prefix="bench_train_") as scratch:
        measured = [run_once(config, Path(scratch) / f"run{index}") for index in range(runs)]
        median_run = sorted(measured, key=lambda run: run["wall"])[len(measured) // 2]
        levels = level_summary(median_run["result"].run_dir)
    quality_times = [run["result"].time_to_quality for run in measured]
    reached = [value for value in quality_times if value is not None]
    print(f"\n== {name}: {runs} run(s), overrides: {' '.join(overrides) or '(defaults)'}")
    walls = [run["wall"] for run in measured]
    print(f"wall (both phases):  median {statistics.median(walls):.2f} s   all: {', '.join(f'{wall:.2f}' for wall in walls)}")
    print(f"time to quality:     {'median %.2f s' % statistics.median(reached) if reached else 'not reached'}   ({len(reached)}/{runs} runs reached it)")
    print(f"epochs/s:            median {statistics.median(run['epochs_per_s'] for run in measured):.2f}   epochs per phase (median run): {median_run['result'].epochs}")
    metrics = median_run["result"].metrics
    print(tabulate([(key, f"{metrics[key]:.5f}") for key in METRIC_NAMES], headers=("final metric", "value"), tablefmt="github"))
    print(tabulate(levels, headers=("v", "ops", "min r", "mean r", "max r", "var r", "band"), tablefmt="github", floatfmt=".4f"))
    return {"name": name, "wall": statistics.median(walls), "metrics": metrics, "epochs": median_run["result"].epochs}


def seed_table(overrides: tuple[str, ...], seeds: int) -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_train_") as scratch:
        for seed in range(seeds):
            run = run_once(resolve_config(overrides=(*overrides, f"seed={seed}")), Path(scratch) / f"seed{seed}")
            result = run["result"]
            quality = f"{result.time_to_quality:.2f}" if result.time_to_quality is not None else "not reached"
            metrics = result.metrics
            rows.append((seed, f"{run['wall']:.2f}", quality, result.epochs["hierarchy"], f"{metrics['coverage']:.5f}", f"{metrics['hierarchy_B']:.5f}", f"{metrics['richness']:.5f}", f"{metrics['Q']:.3f}"))
    print(f"\n== one run per seed (default config{', ' + ' '.join(overrides) if overrides else ''})")
    print(tabulate(rows, headers=("seed", "wall s", "time to quality s", "phase-2 epochs", "coverage", "hierarchy_B", "richness", "Q"), tablefmt="github"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per config; medians are reported")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="extra config override for both configs")
    parser.add_argument("--no-peer", action="store_true", help="skip the radial-loss peer")
    parser.add_argument("--seeds", type=int, default=0, help="also run seeds 0..K-1 once each")
    arguments = parser.parse_args()
    print(f"cores: {os.cpu_count()}  torch {torch.__version__}  load average: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    print(f"targets: coverage 1.0, hierarchy_B <= -0.8320 (ceiling {HIERARCHY_CEILING:.5f}), richness >= 0.00787, wall <= 20 s")
    ours = bench("rich-hierarchy (default config)", tuple(arguments.overrides), arguments.runs, None)
    if arguments.seeds:
        seed_table(tuple(arguments.overrides), arguments.seeds)
    if arguments.no_peer:
        return
    peer = bench("peer: radial regression", (*arguments.overrides, *RADIAL_PEER), arguments.runs, ours["epochs"]["hierarchy"])
    print("\n== ours vs peer (same epochs)")
    rows = [(key, f"{ours['metrics'][key]:.5f}", f"{peer['metrics'][key]:.5f}") for key in ("hierarchy_B", "richness", "Q")]
    rows.append(("wall s", f"{ours['wall']:.2f}", f"{peer['wall']:.2f}"))
    rows.append(("richness ratio ours/peer", f"{ours['metrics']['richness'] / max(peer['metrics']['richness'], 1e-12):.1f}x", ""))
    print(tabulate(rows, headers=("", "ours", "peer"), tablefmt="github"))


if __name__ == "__main__":
    main()
