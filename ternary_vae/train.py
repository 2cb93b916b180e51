"""Train the ternary VAE in two phases, writing checkpoints the auditor understands.

Read top to bottom: setup, phase 1 (coverage), phase 2 (hierarchy), with the epoch loop,
logging and checkpointing in between. The config is plain data (see defaults.yaml).

Phase 1 trains encoder A and the decoder as a VAE until every one of the 19,683 ops
decodes exactly. Phase 2 freezes them (so coverage cannot drop) and trains encoder B and
the ball projection with the rich-hierarchy and p-adic geodesic losses; the per-op radius
targets are refreshed from a full pass at the start of every epoch (see
`losses.within_level_quantiles`).

A run folder holds config.yaml, metrics.jsonl (one line per epoch), latest.pt (every
epoch), best.pt (lowest hierarchy_B at 100 % coverage, never below the ceiling) and
best_Q.pt (highest Q at 100 % coverage). Every file is replaced atomically, so a run
killed at any moment leaves the previous version intact; `resume=True` continues from
latest.pt and gives exactly the metrics of an uninterrupted run.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml

from vaeaudit.atomic import atomic_path, atomic_write_text
from vaeaudit.ternary_vae import geometry, losses
from vaeaudit.ternary_vae.config import max_dist0, validate
from vaeaudit.ternary_vae.data import all_operations, sampling_weights, stratified_batches, valuations
from vaeaudit.ternary_vae.metrics import HIERARCHY_CEILING, METRIC_NAMES, evaluate
from vaeaudit.ternary_vae.model import build_model

CHECKPOINT_VERSION = "1"
PHASES = ("coverage", "hierarchy")
CEILING_TOLERANCE = 1e-6  # hierarchy below HIERARCHY_CEILING by more than this is collapse
# What `train(resume=True)` reads from latest.pt (see make_checkpoint).
RESUME_KEYS = frozenset(
    {"epoch", "phase", "phase_epoch", "phase_done", "model_state_dict", "optimizer_state_dict", "config", "best", "rng_state", "torch_rng_state"}
)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names the epoch, terms and last checkpoint."""


class RunFolderError(RuntimeError):
    """The run folder cannot be used as asked (exists without --resume, or nothing to resume)."""


@dataclass
class RunResult:
    """What a finished (or interrupted) run reports to its caller."""

    run_dir: Path
    metrics: dict[str, float]
    best: dict[str, float] | None
    epochs: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    time_to_quality: float | None = None
    interrupted: bool = False


# ----------------------------------------------------------------------------- checkpoints


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint this trainer wrote; only tensors and plain data are unpickled."""
    return torch.load(path, map_location="cpu", weights_only=True)


def _save(checkpoint: dict[str, Any], path: Path) -> None:
    """torch.save atomically; through a file object, so the zip's inner folder is the
    standard "archive/" rather than the temporary file's name."""
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        torch.save(checkpoint, handle)


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(record) + "\n" for record in records))


# ----------------------------------------------------------------------------- training


def train(
    config: dict[str, Any] | None,
    run_dir: Path,
    *,
    resume: bool = False,
    on_epoch: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
) -> RunResult:
    """Run (or, with `resume`, continue) both phases in `run_dir`; see the module docstring.

    `config` is a full config (`config.resolve_config`); with `resume` it is ignored and
    the run's saved config is used, so a resumed run is the run that was started.

    `on_epoch(record, config)` receives each metrics.jsonl record as it is written, with
    the run's config (for progress display).
    Raises TrainingDiverged on a non-finite loss; KeyboardInterrupt is caught, latest.pt is
    saved and the result comes back with `interrupted=True`.
    """
    # --- setup: config, determinism, data, model ---
    latest_path = run_dir / "latest.pt"
    checkpoint = _open_run_folder(run_dir, resume)
    if checkpoint is not None:
        config = checkpoint["config"]
    config = validate(config)
    torch.set_num_threads(config["threads"])
    torch.manual_seed(config["seed"])
    generator = torch.Generator().manual_seed(config["seed"])
    trits, valuation = all_operations(), valuations()
    weights = sampling_weights(valuation, config["data"]["oversample"])
    model = build_model(config)
    curvature, reach = config["model"]["curvature"], max_dist0(config["model"])
    bands = losses.level_bands(config["hierarchy"], reach)

    state: dict[str, Any] = {"phase": "coverage", "phase_epoch": 0, "phase_done": False, "epoch": 0}
    best = {"hierarchy": math.inf, "Q": -math.inf}
    records: list[dict[str, Any]] = []
    optimizer_state: dict[str, Any] | None = None
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model_state_dict"])
        generator.set_state(checkpoint["rng_state"])
        torch.set_rng_state(checkpoint["torch_rng_state"])
        state = {key: checkpoint[key] for key in state}
        best = dict(checkpoint["best"])
        optimizer_state = checkpoint["optimizer_state_dict"]
        records = _read_records(run_dir / "metrics.jsonl", state["epoch"])
    else:
        atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(config, sort_keys=False))

    result = RunResult(run_dir=run_dir, metrics=evaluate(model, trits, valuation), best=None)
    started = time.perf_counter() - (records[-1]["elapsed_s"] if records else 0.0)
    last_checkpoint: dict[str, Any] | None = None

    def make_checkpoint(optimizer: torch.optim.Optimizer, metrics: dict[str, float]) -> dict[str, Any]:
        """Everything an exact resume needs, frozen (deep-copied) at this epoch's end."""
        return {
            "version": CHECKPOINT_VERSION,
            **state,
            "model_state_dict": copy.deepcopy(model.state_dict()),
            "optimizer_state_dict": copy.deepcopy(optimizer.state_dict()),
            "config": config,
            "metrics": dict(metrics),
            "best": dict(best),
            "rng_state": generator.get_state(),
            "torch_rng_state": torch.get_rng_state(),
        }

    def finish_epoch(
        optimizer: torch.optim.Optimizer, loss_terms: dict[str, float], lr: float, phase_goal: Callable[[dict[str, float]], bool]
    ) -> None:
        """Evaluate, decide whether the phase is done, log one metrics.jsonl line, and write
        latest/best checkpoints (the decision is saved too, so a resume makes the same one)."""
        nonlocal last_checkpoint
        metrics = evaluate(model, trits, valuation)
        state["epoch"] += 1
        state["phase_epoch"] += 1
        max_epochs = config[state["phase"]]["max_epochs"]
        state["phase_done"] = phase_goal(metrics) or state["phase_epoch"] >= max_epochs
        record = {
            "epoch": state["epoch"],
            "phase": state["phase"],
            "phase_epoch": state["phase_epoch"],
            **metrics,
            "loss": loss_terms,
            "lr": lr,
            "elapsed_s": round(time.perf_counter() - started, 4),
        }
        records.append(record)
        full_coverage = metrics["coverage"] == 1.0
        not_collapsed = metrics["hierarchy_B"] >= HIERARCHY_CEILING - CEILING_TOLERANCE
        improved = {
            "best.pt": full_coverage and not_collapsed and metrics["hierarchy_B"] < best["hierarchy"],
            "best_Q.pt": full_coverage and metrics["Q"] > best["Q"],
        }
        if improved["best.pt"]:
            best["hierarchy"] = metrics["hierarchy_B"]
        if improved["best_Q.pt"]:
            best["Q"] = metrics["Q"]
        last_checkpoint = make_checkpoint(optimizer, metrics)
        _write_jsonl(run_dir / "metrics.jsonl", records)
        for name, better in improved.items():
            if better:
                _save(last_checkpoint, run_dir / name)
        _save(last_checkpoint, latest_path)
        if on_epoch is not None:
            on_epoch(record, config)

    def check_finite(terms: dict[str, torch.Tensor]) -> None:
        total = sum(terms.values())
        if not torch.isfinite(total):
            named = ", ".join(f"{name}={value.item():.6g}" for name, value in terms.items())
            last_good = latest_path if latest_path.exists() else "none yet"
            raise TrainingDiverged(
                f"loss is not finite in epoch {state['epoch'] + 1} ({state['phase']} phase): {named}; "
                f"last good checkpoint: {last_good}"
            )

    try:
        # --- phase 1: encoder A + decoder until every op decodes exactly ---
        settings = config["coverage"]
        if state["phase"] == "coverage" and not state["phase_done"]:
            optimizer = torch.optim.Adam(model.coverage_parameters(), lr=settings["lr"])
            if optimizer_state is not None:
                optimizer.load_state_dict(optimizer_state)
            model.train()
            while not state["phase_done"]:
                beta = losses.beta_schedule(state["phase_epoch"], settings["beta"], settings["beta_warmup_epochs"])
                totals = {}
                for index in stratified_batches(weights, settings["batch_size"], generator):
                    mu, logvar = model.encoder_A(trits[index])
                    noise = torch.randn(mu.shape, generator=generator)
                    logits = model.decoder(mu + noise * (0.5 * logvar).exp())
                    terms = {"reconstruction": losses.reconstruction_loss(logits, trits[index]), "kl": beta * losses.kl_divergence(mu, logvar)}
                    check_finite(terms)
                    optimizer.zero_grad(set_to_none=True)
                    sum(terms.values()).backward()
                    optimizer.step()
                    _accumulate(totals, terms, len(index))
                finish_epoch(optimizer, _averages(totals), settings["lr"], lambda metrics: metrics["coverage"] == 1.0)

        # --- phase 2: freeze A + decoder; encoder B + projection learn the radial bands ---
        settings = config["hierarchy"]
        model.freeze_coverage()
        if state["phase"] == "coverage":
            state.update(phase="hierarchy", phase_epoch=0, phase_done=False)
            optimizer_state = None  # phase 1's optimizer state does not carry over
        if not state["phase_done"]:
            optimizer = torch.optim.Adam(model.hierarchy_parameters(), lr=settings["lr"])
            if optimizer_state is not None:
                optimizer.load_state_dict(optimizer_state)
            model.train()
            goal = (lambda metrics: _quality_reached(metrics, config)) if settings["early_stop"] else (lambda metrics: False)
            while not state["phase_done"]:
                lr = _cosine(state["phase_epoch"], settings["max_epochs"], settings["lr"], settings["lr_final"])
                for group in optimizer.param_groups:
                    group["lr"] = lr
                with torch.no_grad():
                    radius = geometry.poincare_radius(model.projection(model.encoder_B(trits)[0]), c=curvature)
                quantile = losses.within_level_quantiles(radius, valuation)
                totals = {}
                for index in stratified_batches(weights, settings["batch_size"], generator):
                    points = model.projection(model.encoder_B(trits[index])[0])
                    radius = geometry.poincare_radius(points, c=curvature)
                    terms = _hierarchy_terms(settings, radius, points, index, valuation, quantile, bands, curvature, reach)
                    check_finite(terms)
                    optimizer.zero_grad(set_to_none=True)
                    sum(terms.values()).backward()
                    optimizer.step()
                    _accumulate(totals, terms, len(index))
                finish_epoch(optimizer, _averages(totals), lr, goal)
    except KeyboardInterrupt:
        if last_checkpoint is not None:
            _save(last_checkpoint, latest_path)
        elif checkpoint is None:
            _discard_unstarted_run(run_dir)
        result.interrupted = True
    except TrainingDiverged:
        if last_checkpoint is None and checkpoint is None:
            _discard_unstarted_run(run_dir)
        raise

    if records:
        result.metrics = {name: records[-1][name] for name in METRIC_NAMES}
    phase_ends = [0.0]
    for phase in PHASES:
        in_phase = [record for record in records if record["phase"] == phase]
        result.epochs[phase] = len(in_phase)
        phase_ends.append(in_phase[-1]["elapsed_s"] if in_phase else phase_ends[-1])
        result.seconds[phase] = phase_ends[-1] - phase_ends[-2]
    result.time_to_quality = next((record["elapsed_s"] for record in records if _quality_reached(record, config)), None)
    best_path = run_dir / "best.pt"
    result.best = load_checkpoint(best_path)["metrics"] if best_path.exists() else None
    return result


# ----------------------------------------------------------------------------- helpers


def _open_run_folder(run_dir: Path, resume: bool) -> dict[str, Any] | None:
    """Create the run folder for a new run, or load latest.pt to resume one."""
    latest_path = run_dir / "latest.pt"
    if resume:
        if not latest_path.is_file():
            raise RunFolderError(f"cannot resume {run_dir}: it has no latest.pt")
        try:
            checkpoint = load_checkpoint(latest_path)
        except Exception as error:  # torch raises UnpicklingError, KeyError, EOFError, RuntimeError, ... for bad bytes
            raise RunFolderError(f"cannot resume {latest_path}: not a readable checkpoint ({type(error).__name__}: {error})") from None
        version = checkpoint.get("version") if isinstance(checkpoint, dict) else None
        if version != CHECKPOINT_VERSION:
            raise RunFolderError(f"cannot resume {latest_path}: checkpoint version {version!r}, this trainer writes {CHECKPOINT_VERSION!r}")
        missing = sorted(RESUME_KEYS - checkpoint.keys())
        if missing:
            raise RunFolderError(f"cannot resume {latest_path}: it lacks {', '.join(missing)}")
        if checkpoint["phase"] == PHASES[-1] and checkpoint["phase_done"]:
            raise RunFolderError(f"nothing to resume: {run_dir} finished at epoch {checkpoint['epoch']}")
        return checkpoint
    if run_dir.exists() and any(run_dir.iterdir()):
        raise RunFolderError(f"run folder {run_dir} already exists and is not empty; pass --resume to continue it or choose another --run-name")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunFolderError(f"cannot create run folder {run_dir}: {error.strerror or error}") from None
    return None


def _discard_unstarted_run(run_dir: Path) -> None:
    """A new run that ended before its first checkpoint holds only the config.yaml it
    wrote; removing it (and the then empty folder) lets the same --run-name start again,
    where otherwise it could neither start (folder not empty) nor resume (no latest.pt)."""
    (run_dir / "config.yaml").unlink(missing_ok=True)
    try:
        run_dir.rmdir()
    except OSError:
        pass  # something else is in there: leave it alone


def _read_records(path: Path, up_to_epoch: int) -> list[dict[str, Any]]:
    """metrics.jsonl lines up to the resumed epoch (a crash can leave one line past it)."""
    if not path.is_file():
        return []
    lines = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return [record for record in lines if record["epoch"] <= up_to_epoch]


def _quality_reached(metrics: dict[str, float], config: dict[str, Any]) -> bool:
    """Full coverage, hierarchy_B at the stop target and richness above its floor."""
    settings = config["hierarchy"]
    return (
        metrics["coverage"] == 1.0
        and metrics["hierarchy_B"] <= settings["stop_at_hierarchy"]
        and metrics["richness"] >= settings["stop_at_richness"]
    )


def _hierarchy_terms(
    settings: dict[str, Any],
    radius: torch.Tensor,
    points: torch.Tensor,
    index: torch.Tensor,
    valuation: torch.Tensor,
    quantile: torch.Tensor,
    bands: tuple[torch.Tensor, torch.Tensor],
    curvature: float,
    reach: float,
) -> dict[str, torch.Tensor]:
    """The weighted phase-2 loss terms that have a non-zero weight."""
    batch_valuation = valuation[index]
    terms = {
        name: settings[f"{name}_weight"] * value
        for name, value in losses.rich_hierarchy_loss(radius, batch_valuation, quantile[index], bands).items()
        if settings[f"{name}_weight"] > 0
    }
    if settings["radial_weight"] > 0:
        terms["radial"] = settings["radial_weight"] * losses.radial_loss(radius, batch_valuation, bands)
    if settings["geodesic_weight"] > 0:
        terms["geodesic"] = settings["geodesic_weight"] * losses.padic_geodesic_loss(points, index, curvature, reach)
    return terms


def _cosine(epoch: int, epochs: int, start: float, end: float) -> float:
    """Learning rate for a 0-based epoch on a cosine from `start` down to `end`."""
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


def _accumulate(totals: dict[str, float], terms: dict[str, torch.Tensor], count: int) -> None:
    for name, value in terms.items():
        totals[name] = totals.get(name, 0.0) + value.item() * count
    totals["_count"] = totals.get("_count", 0.0) + count


def _averages(totals: dict[str, float]) -> dict[str, float]:
    """Per-sample means of the accumulated loss terms (what metrics.jsonl logs)."""
    count = totals.pop("_count", 1.0)
    return {name: value / count for name, value in totals.items()}
