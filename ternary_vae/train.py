"""Train the ternary VAE in two phases, writing checkpoints the auditor understands.

Read top to bottom: `train` sets up a `Run` (config, model, data, device, the `RunState`
that a checkpoint saves and a resume restores) and calls the one `run_phase` for each
phase; a phase differs only in what it trains, its loss (`coverage_terms`,
`hierarchy_terms`) and when it is done. The config is plain data (see defaults.yaml).

Phase 1 trains encoder A and the decoder as a VAE until every one of the 19,683 ops
decodes exactly. Phase 2 freezes them (so coverage cannot drop) and trains encoder B,
its variance included, and the ball projection: the rich-hierarchy losses place the
radii of both μ and a sample z = μ + ε·σ in one band per valuation level, the p-adic geodesic loss
arranges the directions, and a KL term with a warm-up keeps σ_B a real posterior width.
Phase 2 runs a fixed cosine schedule: it never stops on the quality thresholds, so the
last epochs show what the model holds. Per-op radius targets are refreshed from a full
pass at the start of every epoch (`losses.within_level_quantiles`).

A run folder holds config.yaml, metrics.jsonl (one line per epoch, both metric
definition sets), latest.pt (every epoch), best.pt (lowest hierarchy_B at 100 %
coverage, never below the ceiling), best_Q.pt (highest Q at 100 % coverage) and, when
the `tensorboard` package is installed, tensorboard/. Every file is replaced atomically,
so a run killed at any moment leaves the previous version intact; `resume=True`
continues from latest.pt and gives exactly the metrics of an uninterrupted run.
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
from vaeaudit.ternary_vae import losses
from vaeaudit.ternary_vae.config import ConfigError, ModelConfig, validate
from vaeaudit.ternary_vae.data import all_operations, sampling_weights, stratified_batches, valuations
from vaeaudit.ternary_vae.metrics import (
    DIAGNOSTIC_NAMES,
    HIERARCHY_CEILING,
    METRIC_NAMES,
    METRICS_SPEC,
    encode_all,
    evaluate,
    evaluate_both,
    level_table,
)
from vaeaudit.ternary_vae.model import TernaryVAE, build_model

CHECKPOINT_VERSION = "2"
PHASES = ("coverage", "hierarchy")
CEILING_TOLERANCE = 1e-6  # hierarchy below HIERARCHY_CEILING by more than this is collapse
# The published quality bar; reported (time to quality), never a reason to stop.
QUALITY = {"hierarchy_B": -0.8320, "richness": 0.00787}
# What `train(resume=True)` reads from latest.pt (see `checkpoint`).
RESUME_KEYS = frozenset(
    {
        "epoch",
        "phase",
        "phase_epoch",
        "phase_done",
        "model_state_dict",
        "optimizer_state_dict",
        "config",
        "best",
        "rng_state",
        "torch_rng_state",
    }
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
    canonical: dict[str, float] = field(default_factory=dict)
    epochs: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    time_to_quality: float | None = None
    interrupted: bool = False
    device: str = "cpu"


@dataclass
class RunState:
    """Where a run is; saved in every checkpoint, restored by a resume."""

    phase: str = "coverage"
    phase_epoch: int = 0
    phase_done: bool = False
    epoch: int = 0
    best: dict[str, float] = field(default_factory=lambda: {"hierarchy": math.inf, "Q": -math.inf})

    def markers(self) -> dict[str, Any]:
        """The checkpoint's top-level progress keys (the auditor reads phase/phase_done)."""
        return {"epoch": self.epoch, "phase": self.phase, "phase_epoch": self.phase_epoch, "phase_done": self.phase_done}


@dataclass
class Run:
    """Everything a phase needs, passed explicitly instead of captured in closures."""

    config: dict[str, Any]
    run_dir: Path
    device: torch.device
    model: TernaryVAE
    trits: torch.Tensor  # on `device`
    valuation: torch.Tensor  # on the CPU (metrics, sampling)
    weights: torch.Tensor
    bands: tuple[torch.Tensor, torch.Tensor]
    generator: torch.Generator  # CPU: batches and noise, so a resume is exact on every device
    state: RunState
    records: list[dict[str, Any]]
    started: float
    on_epoch: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
    tensorboard: Any = None  # a SummaryWriter once the first epoch is logged, False without the package
    optimizer_state: dict[str, Any] | None = None  # from a resumed checkpoint, for its phase
    encodings: dict[str, torch.Tensor] | None = None  # of the current weights (last evaluation)
    last_checkpoint: dict[str, Any] | None = None

    @property
    def latest_path(self) -> Path:
        return self.run_dir / "latest.pt"


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
    `on_epoch(record, config)` receives each metrics.jsonl record as it is written.
    Raises TrainingDiverged on a non-finite loss and ConfigError for an unusable device;
    KeyboardInterrupt is caught, latest.pt is saved and the result has `interrupted=True`.
    """
    if config is None and not resume:
        raise ValueError("a new run needs a config (config.resolve_config())")
    checkpoint = _open_run_folder(run_dir, resume)
    config = validate(checkpoint["config"] if checkpoint is not None else config or {})
    try:
        run = _start_run(config, run_dir, checkpoint, on_epoch)
    except ConfigError:
        if checkpoint is None:
            _discard_unstarted_run(run_dir)
        raise
    result = RunResult(run_dir=run_dir, metrics={}, best=None, device=str(run.device))
    try:
        for phase in PHASES:
            run_phase(run, phase)
    except KeyboardInterrupt:
        if run.last_checkpoint is not None:
            _save(run.last_checkpoint, run.latest_path)
        elif checkpoint is None:
            _discard_unstarted_run(run_dir)
        result.interrupted = True
    except TrainingDiverged:
        if run.last_checkpoint is None and checkpoint is None:
            _discard_unstarted_run(run_dir)
        raise
    finally:
        if run.tensorboard:
            _log_hparams(run)
            run.tensorboard.close()
    _summarise(run, result)
    return result


def run_phase(run: Run, phase: str) -> None:
    """Train one phase until it is done: batches, NaN guard, one evaluation per epoch."""
    if run.state.phase != phase:
        if PHASES.index(run.state.phase) > PHASES.index(phase):
            return  # resumed past this phase
        run.state = RunState(phase=phase, epoch=run.state.epoch, best=run.state.best)
        run.optimizer_state = None  # the previous phase's optimizer state does not carry over
    if run.state.phase_done:
        return
    settings = run.config[phase]
    if phase == "hierarchy":
        run.model.freeze_coverage()
    parameters = run.model.coverage_parameters() if phase == "coverage" else run.model.hierarchy_parameters()
    optimizer = torch.optim.Adam(parameters, lr=settings["lr"])
    if run.optimizer_state is not None:
        optimizer.load_state_dict(run.optimizer_state)
    run.model.train()
    while not run.state.phase_done:
        plan = _epoch_plan(run, phase)
        for group in optimizer.param_groups:
            group["lr"] = plan["lr"]
        totals: dict[str, float] = {}
        for index in stratified_batches(run.weights, settings["batch_size"], run.generator):
            terms = coverage_terms(run, index, plan) if phase == "coverage" else hierarchy_terms(run, index, plan)
            _check_finite(run, terms)
            optimizer.zero_grad(set_to_none=True)
            _total(terms).backward()
            optimizer.step()
            _accumulate(totals, terms, len(index))
        _finish_epoch(run, optimizer, _averages(totals), plan)


def _epoch_plan(run: Run, phase: str) -> dict[str, Any]:
    """This epoch's learning rate, KL weight and (phase 2) per-op radius quantile targets."""
    settings, epoch = run.config[phase], run.state.phase_epoch
    plan: dict[str, Any] = {"beta": losses.beta_schedule(epoch, settings["beta"], settings["beta_warmup_epochs"])}
    if phase == "coverage":
        plan["lr"] = settings["lr"]
        return plan
    plan["lr"] = _cosine(epoch, settings["max_epochs"], settings["lr"], settings["lr_final"])
    if run.encodings is None:  # first epoch of this process: otherwise the last evaluation's
        run.encodings = encode_all(run.model, run.trits)
    with torch.no_grad():
        _, radius = run.model.projection.polar(run.encodings["mu_B"])
    plan["quantile"] = losses.within_level_quantiles(radius.cpu(), run.valuation)
    return plan


def _sample(run: Run, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = μ + ε·σ, ε from the run's CPU generator (exact resume on any device)."""
    noise = torch.randn(mu.shape, generator=run.generator).to(mu.device)
    return mu + noise * (0.5 * logvar).exp()


def coverage_terms(run: Run, index: torch.Tensor, plan: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Phase 1 loss: reconstruction of sampled z plus the warmed-up KL, encoder A."""
    trits = run.trits[index.to(run.device)]
    mu, logvar = run.model.encoder_A(trits)
    logits = run.model.decoder(_sample(run, mu, logvar))
    return {"reconstruction": losses.reconstruction_loss(logits, trits), "kl": plan["beta"] * losses.kl_divergence(mu, logvar)}


def hierarchy_terms(run: Run, index: torch.Tensor, plan: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Phase 2 loss of encoder B: the weighted terms with a non-zero weight.

    The mean and spread terms average over the posterior mean μ and a sample
    z = μ + ε·σ, so both the means (what `hierarchy_B` measures) and the samples (what
    the original system measured) sit in their bands, and the spread term's squared error
    on samples bounds σ; the separation hinge holds the means only (on samples it pushed
    every level's edge ops inward and cost richness); the geodesic loss sees the sample's
    direction; the KL term keeps σ from collapsing to 0.
    """
    settings = run.config["hierarchy"]
    device_index = index.to(run.device)
    mu, logvar = run.model.encoder_B(run.trits[device_index])
    _, mean_radius = run.model.projection.polar(mu)
    direction, radius = run.model.projection.polar(_sample(run, mu, logvar))
    batch_valuation = run.valuation[index].to(run.device)
    quantile = plan["quantile"][index].to(run.device)
    on_mean = losses.rich_hierarchy_loss(mean_radius, batch_valuation, quantile, run.bands)
    on_sample = losses.rich_hierarchy_loss(radius, batch_valuation, quantile, run.bands)
    rich = {"mean": (on_mean["mean"] + on_sample["mean"]) / 2.0, "spread": (on_mean["spread"] + on_sample["spread"]) / 2.0}
    rich["separation"] = on_mean["separation"]
    terms = {name: settings[f"{name}_weight"] * value for name, value in rich.items() if settings[f"{name}_weight"] > 0}
    if settings["radial_weight"] > 0:
        radial = (
            losses.radial_loss(mean_radius, batch_valuation, run.bands) + losses.radial_loss(radius, batch_valuation, run.bands)
        ) / 2.0
        terms["radial"] = settings["radial_weight"] * radial
    if settings["geodesic_weight"] > 0:
        geodesic = losses.padic_geodesic_loss(direction, radius, device_index, run.model.curvature)
        terms["geodesic"] = settings["geodesic_weight"] * geodesic
    if settings["beta"] > 0:
        terms["kl"] = plan["beta"] * losses.kl_divergence(mu, logvar)
    return terms


def _finish_epoch(run: Run, optimizer: torch.optim.Optimizer, loss_terms: dict[str, float], plan: dict[str, Any]) -> None:
    """Evaluate under both definition sets, decide whether the phase is done, log one
    metrics.jsonl line, write latest/best checkpoints (the decision is saved too, so a
    resume makes the same one)."""
    state, model = run.state, run.model
    run.encodings = encode_all(model, run.trits)
    metrics, canonical = evaluate_both(model, run.trits, run.valuation, run.encodings)
    state.epoch += 1
    state.phase_epoch += 1
    reached_goal = state.phase == "coverage" and metrics["coverage"] == 1.0
    state.phase_done = reached_goal or state.phase_epoch >= run.config[state.phase]["max_epochs"]
    record = {
        "epoch": state.epoch,
        "phase": state.phase,
        "phase_epoch": state.phase_epoch,
        **metrics,
        "canonical": canonical,
        "loss": loss_terms,
        "lr": plan["lr"],
        "beta": plan["beta"],
        "elapsed_s": round(time.perf_counter() - run.started, 4),
    }
    run.records.append(record)
    full_coverage = metrics["coverage"] == 1.0
    not_collapsed = metrics["hierarchy_B"] >= HIERARCHY_CEILING - CEILING_TOLERANCE
    improved = {
        "best.pt": full_coverage and not_collapsed and metrics["hierarchy_B"] < state.best["hierarchy"],
        "best_Q.pt": full_coverage and metrics["Q"] > state.best["Q"],
    }
    if improved["best.pt"]:
        state.best["hierarchy"] = metrics["hierarchy_B"]
    if improved["best_Q.pt"]:
        state.best["Q"] = metrics["Q"]
    run.last_checkpoint = _checkpoint(run, optimizer, metrics, canonical)
    _write_jsonl(run.run_dir / "metrics.jsonl", run.records)
    for name, better in improved.items():
        if better:
            _save(run.last_checkpoint, run.run_dir / name)
    _save(run.last_checkpoint, run.latest_path)
    if run.tensorboard is not False:
        _log_epoch(run, record)
    if run.on_epoch is not None:
        run.on_epoch(record, run.config)


def _checkpoint(run: Run, optimizer: torch.optim.Optimizer, metrics: dict[str, float], canonical: dict[str, float]) -> dict[str, Any]:
    """Everything an exact resume needs, frozen (copied to the CPU) at this epoch's end."""
    return {
        "version": CHECKPOINT_VERSION,
        **run.state.markers(),
        "model_state_dict": {name: tensor.detach().cpu().clone() for name, tensor in run.model.state_dict().items()},
        "optimizer_state_dict": _to_cpu(copy.deepcopy(optimizer.state_dict())),
        "config": run.config,
        "metrics": dict(metrics),
        "metrics_canonical": dict(canonical),
        "metrics_spec": METRICS_SPEC,
        "best": dict(run.state.best),
        "seed": run.config["seed"],
        "device": str(run.device),
        "rng_state": run.generator.get_state(),
        "torch_rng_state": torch.get_rng_state(),
    }


def _check_finite(run: Run, terms: dict[str, torch.Tensor]) -> None:
    """The NaN guard: stop with the epoch, every term's value and the last good checkpoint."""
    if not torch.isfinite(_total(terms)):
        named = ", ".join(f"{name}={value.item():.6g}" for name, value in terms.items())
        last_good = run.latest_path if run.latest_path.exists() else "none yet"
        raise TrainingDiverged(
            f"loss is not finite in epoch {run.state.epoch + 1} ({run.state.phase} phase): {named}; last good checkpoint: {last_good}"
        )


# ----------------------------------------------------------------------------- setup


def resolve_device(name: str) -> torch.device:
    """`auto` → cuda when available, else cpu. `mps` is refused with the reason: the
    geometry module computes radii and distances in float64, which MPS does not support."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("config key 'device': cuda was asked for but torch.cuda.is_available() is False; use cpu or auto")
    if name == "mps":
        raise ConfigError(
            "config key 'device': mps is not supported: radii and distances (ternary_vae.geometry) are computed in float64, "
            "which the MPS backend lacks; use cpu (a full run takes seconds) or cuda"
        )
    return torch.device(name)


def _start_run(
    config: dict[str, Any],
    run_dir: Path,
    checkpoint: dict[str, Any] | None,
    on_epoch: Callable[[dict[str, Any], dict[str, Any]], None] | None,
) -> Run:
    """Determinism, data, model and state (fresh, or restored from `checkpoint`)."""
    device = resolve_device(config["device"])
    torch.set_num_threads(config["threads"])
    torch.manual_seed(config["seed"])
    valuation = valuations()
    model = build_model(config)
    low, high = losses.level_bands(config["hierarchy"], ModelConfig.from_mapping(config["model"]).max_dist0)
    run = Run(
        config=config,
        run_dir=run_dir,
        device=device,
        model=model,
        trits=all_operations().to(device),
        valuation=valuation,
        weights=sampling_weights(valuation, config["data"]["oversample"]),
        bands=(low.to(device), high.to(device)),
        generator=torch.Generator().manual_seed(config["seed"]),
        state=RunState(),
        records=[],
        started=time.perf_counter(),
        on_epoch=on_epoch,
    )
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model_state_dict"])
        run.generator.set_state(checkpoint["rng_state"])
        torch.set_rng_state(checkpoint["torch_rng_state"])
        run.state = RunState(
            **{key: checkpoint[key] for key in ("phase", "phase_epoch", "phase_done", "epoch")}, best=dict(checkpoint["best"])
        )
        run.optimizer_state = checkpoint["optimizer_state_dict"]
        run.records = _read_records(run_dir / "metrics.jsonl", run.state.epoch)
        run.started -= run.records[-1]["elapsed_s"] if run.records else 0.0
    else:
        atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(config, sort_keys=False))
    model.to(device)
    return run


def _summarise(run: Run, result: RunResult) -> None:
    """Fill the result from the records and best.pt."""
    records = run.records
    if records:
        result.metrics = {name: records[-1][name] for name in (*METRIC_NAMES, *DIAGNOSTIC_NAMES)}
        result.canonical = dict(records[-1]["canonical"])
    else:  # stopped before its first epoch ended: the untrained model's numbers
        result.metrics = evaluate(run.model, run.trits, run.valuation)
    phase_ends = [0.0]
    for phase in PHASES:
        in_phase = [record for record in records if record["phase"] == phase]
        result.epochs[phase] = len(in_phase)
        phase_ends.append(in_phase[-1]["elapsed_s"] if in_phase else phase_ends[-1])
        result.seconds[phase] = phase_ends[-1] - phase_ends[-2]
    result.time_to_quality = next((record["elapsed_s"] for record in records if quality_reached(record)), None)
    best_path = run.run_dir / "best.pt"
    result.best = load_checkpoint(best_path)["metrics"] if best_path.exists() else None


def quality_reached(metrics: dict[str, float]) -> bool:
    """Full coverage, hierarchy_B and richness at the published bar (QUALITY)."""
    return metrics["coverage"] == 1.0 and metrics["hierarchy_B"] <= QUALITY["hierarchy_B"] and metrics["richness"] >= QUALITY["richness"]


# ----------------------------------------------------------------------------- TensorBoard


def _tensorboard_writer(run_dir: Path, first_step: int) -> Any:
    """A SummaryWriter on run_dir/tensorboard when the `tensorboard` package is installed
    (it is optional: `pip install tensorboard`), else False. Events of epochs from
    `first_step` on (left by an interrupted run that is now resumed) are purged."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return False
    return SummaryWriter(log_dir=str(run_dir / "tensorboard"), purge_step=first_step)


def _log_epoch(run: Run, record: dict[str, Any]) -> None:
    """Scalars per epoch (both definition sets, loss terms, lr) and the per-level radii.
    The writer opens at the first logged epoch, so a run stopped before it leaves no files."""
    if run.tensorboard is None:
        run.tensorboard = _tensorboard_writer(run.run_dir, record["epoch"])
        if run.tensorboard is False:
            return
    writer, step = run.tensorboard, record["epoch"]
    for name in (*METRIC_NAMES, *DIAGNOSTIC_NAMES):
        writer.add_scalar(f"metrics/{name}", record[name], step)
    for name, value in record["canonical"].items():
        writer.add_scalar(f"canonical/{name}", value, step)
    for name, value in record["loss"].items():
        writer.add_scalar(f"loss/{name}", value, step)
    writer.add_scalar("schedule/lr", record["lr"], step)
    writer.add_scalar("schedule/beta", record["beta"], step)
    rows = level_table(run.model, run.trits, run.valuation)
    table = ["| v | ops | min r | mean r | max r | var r |", "|---|---|---|---|---|---|"]
    table += [f"| {row['v']} | {row['ops']} | {row['min']:.4f} | {row['mean']:.4f} | {row['max']:.4f} | {row['var']:.6f} |" for row in rows]
    writer.add_text("radius_per_level", "\n".join(table), step)


def _log_hparams(run: Run) -> None:
    """The run's config (flattened) against its final metrics, for TensorBoard's HParams tab."""
    if not run.records:
        return
    flat: dict[str, Any] = {}
    for section, values in run.config.items():
        for key, value in values.items() if isinstance(values, dict) else [("", values)]:
            flat[f"{section}.{key}" if key else section] = value if isinstance(value, (int, float, str, bool)) else str(value)
    last = run.records[-1]
    final = {f"final/{name}": last[name] for name in METRIC_NAMES} | {
        f"final_canonical/{name}": value for name, value in last["canonical"].items()
    }
    run.tensorboard.add_hparams(flat, final, run_name=".")


# ----------------------------------------------------------------------------- files


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


def _to_cpu(value: Any) -> Any:
    """Tensors anywhere in a nested dict/list moved to the CPU (optimizer state)."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {key: _to_cpu(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_cpu(item) for item in value]
    return value


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
        raise RunFolderError(
            f"run folder {run_dir} already exists and is not empty; pass --resume to continue it or choose another --run-name"
        )
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


def _cosine(epoch: int, epochs: int, start: float, end: float) -> float:
    """Learning rate for a 0-based epoch on a cosine from `start` down to `end`."""
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


def _total(terms: dict[str, torch.Tensor]) -> torch.Tensor:
    """The loss: the sum of its (already weighted) terms."""
    total, *rest = terms.values()
    for term in rest:
        total = total + term
    return total


def _accumulate(totals: dict[str, float], terms: dict[str, torch.Tensor], count: int) -> None:
    for name, value in terms.items():
        totals[name] = totals.get(name, 0.0) + value.item() * count
    totals["_count"] = totals.get("_count", 0.0) + count


def _averages(totals: dict[str, float]) -> dict[str, float]:
    """Per-sample means of the accumulated loss terms (what metrics.jsonl logs)."""
    count = totals.pop("_count", 1.0)
    return {name: value / count for name, value in totals.items()}
