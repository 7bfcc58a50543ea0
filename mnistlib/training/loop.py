"""The training loop: whole dataset on the device, early stopping on validation, resumable checkpoints.

``fit(model, data, config)`` trains on ``data.train`` and selects on ``data.val``; it never touches
``data.test``. Per epoch it draws one ``randperm`` on the device, steps through index-sliced batches,
syncs with the host once (to read the epoch's loss and accuracy), evaluates on the validation split,
steps the schedule and writes a checkpoint atomically. ``resume=True`` reloads that checkpoint (model,
optimiser, schedule, every RNG, early-stopping state) and continues to the same result as a run that was
never interrupted.

Three switches make it faster or wider without changing what it computes: ``config.cuda_graph`` (with
``precision``) replays forward and backward from a CUDA graph (:mod:`mnistlib.training.cuda_graphs`);
``config.compile`` trains through ``torch.compile`` (the CPU's fast path, :func:`compiled`); and a process
group started by ``torchrun`` makes it data-parallel (:mod:`mnistlib.training.distributed`): every replica
draws the same permutation and takes its share of each global batch, as Shao et al. (section 2.2.1) split
the batch across GPUs.
"""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from tqdm.auto import tqdm

from . import checkpoint as ckpt
from . import distributed
from .config import TrainConfig, config_differences
from ..data import DeviceData, Split, build_augmentation
from .evaluate import DEFAULT_EVAL_BATCH, loss_and_accuracy, loss_function
from .averaging import weight_average
from .cuda_graphs import autocast, capture_blocker, graph_forward, release_graph

CHECKPOINT_FORMAT = 1


def build_optimizer(model: torch.nn.Module, config: TrainConfig, fused: bool = False) -> torch.optim.Optimizer:
    """The configured optimiser; ``fused``: Adam's single-kernel CUDA implementation (the fast path)."""
    params = [p for p in model.parameters() if p.requires_grad]
    extra = {"fused": True} if fused else {}
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, **extra)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, **extra)
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
                           weight_decay=config.weight_decay)


def build_scheduler(optimizer, config: TrainConfig, steps_per_epoch: int):
    """``(scheduler or None, steps_per_batch)``: one-cycle steps every batch, the others every epoch."""
    if config.schedule == "exponential" and config.min_lr > 0:
        floor = config.min_lr / config.lr
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: max(config.gamma ** epoch, floor)), False
    if config.schedule == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.gamma), False
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma), False
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr,
                                                   total_steps=config.epochs * steps_per_epoch), True
    return None, False


def eval_batch_size(model: torch.nn.Module, config: TrainConfig) -> int:
    """Batch-dependent models are evaluated with their training batch size unless told otherwise."""
    if config.eval_batch_size is not None:
        return config.eval_batch_size
    return config.batch_size if getattr(model, "batch_dependent", False) else DEFAULT_EVAL_BATCH


@dataclass
class FitResult:
    """What :func:`fit` returns; the model itself ends holding the best epoch's weights."""

    history: list[dict]
    best_epoch: int
    best_val_loss: float
    best_val_accuracy: float
    epochs_run: int
    stopped_early: bool
    seconds: float
    device: str
    eval_batch_size: int
    resumed_from_epoch: int = 0
    train_path: str = "eager"
    extra: dict = field(default_factory=dict)

    @property
    def seconds_per_epoch(self) -> float:
        """The median epoch's seconds: the first epoch also compiles, and a machine paused or shared for a
        while stretches a few epochs, which a mean would spread over the whole run."""
        times = [h["seconds"] for h in self.history]
        return statistics.median(times) if times else float("nan")


def _rng_state(generator: torch.Generator) -> dict:
    return {"torch": torch.get_rng_state(), "data": generator.get_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def _set_rng_state(state: dict, generator: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    generator.set_state(state["data"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _check_same_config(saved: dict, config: TrainConfig, path: Path) -> None:
    diffs = config_differences(saved, config)
    if diffs:
        raise ValueError(f"cannot resume from {path}: it was written with a different config ({'; '.join(diffs)}). "
                         f"Rerun with the same settings, or start afresh without resume.")


def _training_forward(model, data, config, device, world, log) -> tuple[Callable, str]:
    """``(forward, path)`` for the training steps: DistributedDataParallel across replicas, the CUDA-graph
    replay when asked for and possible, ``torch.compile`` when asked for, else the model itself; says why
    when a graph was asked for in vain. Evaluation always runs the eager model."""
    blocker = capture_blocker(model, device, config.batch_size, len(data.train), world) if config.cuda_graph else None
    forward, path = (distributed.wrap(model, device) if world > 1 else model), "eager"
    if config.cuda_graph and blocker is None:
        model.train()
        forward, blocker = graph_forward(model, data.train.images[:config.batch_size], config.precision)
        path = "eager" if blocker else "cuda-graph"
    if log and blocker:
        log(blocker)
    if config.compile and path == "eager":
        forward, path = compiled(forward), "compiled"
    return forward, path


def compiled(forward: Callable) -> Callable:
    """``torch.compile(forward)``, drawing dropout's random numbers as eager PyTorch does
    (``fallback_random``), so that a compiled run follows the eager one step for step, up to rounding.

    On a 2-core CPU it trains Shao's CNN at batch 1,000 about 1.4 times as fast (the measured epochs are in
    ``results/full/PLAN.md``): inductor fuses each batch norm with its ReLU, which eager runs as separate
    memory-bound passes over the activations (a profile of the eager step: convolutions 51%, batch norm
    forward and backward 28%, ReLU 10%)."""
    return torch.compile(forward, options={"fallback_random": True})


def _train_epoch(model, forward, data, config, optimizer, scheduler, per_batch, loss_fn, generator, augment,
                 bar, shard, average=None):
    """One pass over ``data.train`` (this replica's share of it); returns (mean loss, accuracy) over the
    whole training split with a single host sync. ``average``: a :func:`weight_average` updated after each
    step."""
    model.train()
    total_loss = torch.zeros((), device=data.device)
    correct = torch.zeros((), device=data.device)
    for x, y in data.train.batches(config.batch_size, shuffle=True, generator=generator, transform=augment,
                                   shard=shard):
        with autocast(data.device, config.precision):
            out = forward(x)
        out = out.float() if torch.is_tensor(out) else out
        loss = loss_fn(out, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if average is not None:
            average.update_parameters(model)
        if per_batch:
            scheduler.step()
        total_loss += loss.detach().float() * y.shape[0]
        correct += (out.detach().argmax(1) == y).sum()
        bar.update(1)
    totals = distributed.sum_across_replicas(torch.stack([total_loss, correct]))
    loss_sum, n_correct = totals.tolist()
    n = len(data.train)
    return loss_sum / n, n_correct / n


def fit(model: torch.nn.Module, data: DeviceData, config: TrainConfig, *, checkpoint: str | Path | None = None,
        resume: bool = False, quiet: bool = False, meta: dict | None = None,
        log: Callable[[str], None] | None = None,
        on_epoch_end: Callable[[dict], None] | None = None, watch: Split | None = None) -> FitResult:
    """Train ``model`` on ``data.train``, select the epoch with the best validation score
    (``config.select``: lowest loss or highest accuracy), restore it.

    ``checkpoint``: path written atomically after every epoch (and at the end, holding the best weights).
    ``resume``: continue from ``checkpoint`` if it exists. ``quiet``: no progress bar (it is off anyway
    when stderr is not a terminal). ``meta``: JSON-ready facts stored in the checkpoint (model name and
    arguments, data description). ``log``: called with one line per epoch. ``on_epoch_end``: called with
    the epoch's history record after its checkpoint is written. ``watch``: another split evaluated after every
    epoch, its accuracy recorded in the history as ``watch_accuracy`` and never used to select or stop (the
    test-selection audit watches the test set this way: :mod:`mnistlib.study.selection_audit`).
    """
    device = data.device  # the caller decided where the data lives (train_run: resolve_device, once)
    asked = None if config.device in (None, "auto") else torch.device(config.device)
    if asked is not None and asked.type != device.type:
        raise ValueError(f"data lives on {device} but the config asks for {asked}: load the data with "
                         f"device={asked.type!r}")
    model.to(device, memory_format=torch.channels_last if config.channels_last else torch.preserve_format)
    torch.backends.cudnn.deterministic = config.deterministic
    torch.backends.cudnn.benchmark = not config.deterministic
    torch.manual_seed(config.seed)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    rank, world = distributed.rank_and_world()
    if world > 1 and (config.batch_size % world or config.batch_size < world):
        raise ValueError(f"the global batch of {config.batch_size} does not split evenly across {world} "
                         f"replicas: choose a batch size that is a multiple of {world}")
    forward, train_path = _training_forward(model, data, config, device, world, log)
    fast = train_path == "cuda-graph"
    optimizer = build_optimizer(model, config, fused=fast and config.optimizer in ("adam", "adamw"))
    steps = data.train.num_batches(config.batch_size)
    scheduler, per_batch = build_scheduler(optimizer, config, steps)
    augment = build_augmentation(config.augment, generator, background=-data.mean / data.std)
    loss_fn = loss_function(model, config.label_smoothing)
    eval_bs = eval_batch_size(model, config)
    average = weight_average(model, config.ema)
    judged = model if average is None else average.module  # the network validation sees and the run keeps
    if log and getattr(model, "batch_dependent", False):
        source = "as configured" if config.eval_batch_size is not None else "the training batch size"
        log(f"this model's predictions depend on their batch: validation uses batches of {eval_bs} ({source})")

    state = {"epoch": 0, "history": [], "best_epoch": 0, "best_val_loss": math.inf, "best_val_accuracy": 0.0,
             "bad_epochs": 0, "finished": False, "stopped_early": False, "best_state": None}
    resumed_from = 0
    path = Path(checkpoint) if checkpoint is not None else None
    if resume and path is not None and path.exists():
        saved = ckpt.load(path)
        _check_same_config(saved["config"], config, path)
        model.load_state_dict(saved["model_state"])
        optimizer.load_state_dict(saved["optimizer_state"])
        if scheduler is not None:
            scheduler.load_state_dict(saved["scheduler_state"])
        _set_rng_state(saved["rng"], generator)
        if average is not None:
            average.load_state_dict(saved["average_state"])
        state.update(saved["state"])
        resumed_from = state["epoch"]
        if log:
            log(f"resuming from {path} after epoch {resumed_from}")

    def save(finished_model_state=None):
        if path is None or rank != 0:  # one replica writes
            return
        ckpt.save_atomic({
            "format": CHECKPOINT_FORMAT, "meta": meta or {}, "config": config.to_dict(),
            "model_state": finished_model_state or model.state_dict(),
            "optimizer_state": optimizer.state_dict(),
            "scheduler_state": scheduler.state_dict() if scheduler is not None else {},
            "rng": _rng_state(generator), "state": state,
            **({} if average is None else {"average_state": average.state_dict()}),
        }, path)

    started = time.perf_counter()
    while not state["finished"] and state["epoch"] < config.epochs:
        epoch = state["epoch"] + 1
        t0 = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        with tqdm(total=steps, desc=f"epoch {epoch}/{config.epochs}", leave=False,
                  disable=True if quiet else None) as bar:
            train_loss, train_acc = _train_epoch(model, forward, data, config, optimizer, scheduler, per_batch,
                                                 loss_fn, generator, augment, bar, (rank, world), average)
        train_seconds = time.perf_counter() - t0
        val_loss, val_acc = loss_and_accuracy(judged, data.val, eval_bs)
        if scheduler is not None and not per_batch:
            scheduler.step()
        record = {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc, "val_loss": val_loss,
                  "val_accuracy": val_acc, "lr": lr, "train_seconds": train_seconds,
                  "seconds": time.perf_counter() - t0}
        if watch is not None:  # after the epoch's clock: watching costs no training time
            record["watch_accuracy"] = loss_and_accuracy(judged, watch, eval_bs)[1]
        state["history"].append(record)
        state["epoch"] = epoch
        better = (val_loss < state["best_val_loss"] if config.select == "val_loss"
                  else val_acc > state["best_val_accuracy"])
        if better:
            state.update(best_epoch=epoch, best_val_loss=val_loss, best_val_accuracy=val_acc, bad_epochs=0,
                         best_state={k: v.detach().clone() for k, v in judged.state_dict().items()})
        else:
            state["bad_epochs"] += 1
        if config.patience is not None and state["bad_epochs"] >= config.patience:
            state["stopped_early"] = True
            state["finished"] = True
        if log and rank == 0:
            mark = " *" if state["best_epoch"] == epoch else ""
            log(f"epoch {epoch:3d}/{config.epochs}  train loss {train_loss:.4f} acc {100 * train_acc:6.2f}%  "
                f"val loss {val_loss:.4f} acc {100 * val_acc:6.2f}%  lr {lr:.2e}  {record['seconds']:.1f}s{mark}")
        save()
        if on_epoch_end:
            on_epoch_end(record)

    state["finished"] = True
    if fast:
        release_graph(model)  # the graph served only this run's batch shape
    if state["best_state"] is not None:
        model.load_state_dict(state["best_state"])
    save(finished_model_state=model.state_dict())
    if log and state["stopped_early"]:
        score = "lower validation loss" if config.select == "val_loss" else "higher validation accuracy"
        log(f"early stop: no {score} for {config.patience} epochs; restored epoch {state['best_epoch']}")
    return FitResult(history=state["history"], best_epoch=state["best_epoch"], best_val_loss=state["best_val_loss"],
                     best_val_accuracy=state["best_val_accuracy"], epochs_run=state["epoch"],
                     stopped_early=state["stopped_early"], seconds=time.perf_counter() - started,
                     device=str(device), eval_batch_size=eval_bs, resumed_from_epoch=resumed_from,
                     train_path=train_path)
