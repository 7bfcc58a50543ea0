"""``python -m mnistlib bench``: what users run today against the course's two training paths, one machine.

Paths, all with the same model, optimiser, schedule and global batch (the paper's recipe: Adam 1e-3, batch
1,000), over the same training images (all 60,000, or the first ``subset``):

- ``dataloader-0`` / ``dataloader-4``: pytorch/examples' MNIST pipeline: ``torchvision.datasets.MNIST`` with
  ``ToTensor`` and ``Normalize``, a ``DataLoader`` with 0 or 4 workers, each batch copied to the device.
  Every image goes through PIL and Python every epoch.
- ``device-eager``: the course's loop (:func:`mnistlib.training.loop.fit`): the dataset normalised once on the
  device, a device ``randperm`` per epoch, batches as index slices.
- ``device-fast``: the same loop with forward and backward replayed from a CUDA graph, bf16 autocast and
  cuDNN autotuning (:mod:`mnistlib.training.cuda_graphs`); on a CPU it equals ``device-eager`` and says so.

Per path: seconds per epoch (median over the epochs after the first, which pays for warm-up, capture and
autotuning), training and inference images per second, the training time until the test accuracy first
reaches 99.0% and 99.4%, and the peak GPU memory. The test set is evaluated after every epoch, outside the
timed region, only to time those thresholds: this is a benchmark, not a model selection. On a GPU, for the
Shao CNN, it also trains the course's ``improved`` recipe end to end on the fast path (data loading,
training with selection on validation, the one test evaluation) and compares the epoch time with the
arithmetic limit of the GPU (the epoch's floating-point operations at the GPU's peak rate).
"""
from __future__ import annotations

import dataclasses
import gzip
import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..training.atomic_files import write_json, write_text
from ..training.config import FAST_PATH, TrainConfig, resolve_config
from ..data import MNIST_MEAN_STD, DeviceData, get_spec, load_arrays, load_data, locate
from ..data.splits import to_device_split
from ..data.locate import default_cache_dir
from ..training.evaluate import inference_throughput
from ..models import get_model, get_model_info
from ..training.device import resolve_device
from .provenance import provenance
from ..training.loop import build_optimizer, build_scheduler, eval_batch_size, fit

THRESHOLDS = (0.990, 0.994)
# Dense bf16 tensor-core peak, FLOP/s, from NVIDIA's data sheets (SXM parts), for the arithmetic limit.
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "T4": 65e12}


@dataclass
class BenchRow:
    model: str
    path: str
    batch_size: int
    epoch_seconds: float
    train_images_per_second: float
    inference_images_per_second: float
    seconds_to: dict  # threshold -> cumulative training seconds, or None when not reached
    test_accuracy: float
    peak_memory_mib: float | None
    note: str = ""


# ---------------------------------------------------------------------------------------- today's pipeline

def torchvision_root(cache: Path | None = None) -> Path:
    """A root that ``torchvision.datasets.MNIST`` accepts offline: ``<root>/MNIST/raw/`` with the four
    uncompressed files, decompressed once from wherever :func:`mnistlib.data.locate` finds MNIST."""
    source = locate("mnist")
    spec = get_spec("mnist")
    root = (cache or default_cache_dir()) / "torchvision"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for entry in spec.files.values():
        target = raw / entry.filename
        if target.exists() and target.stat().st_size == entry.nbytes:
            continue
        plain, packed = source / entry.filename, source / (entry.filename + ".gz")
        tmp = target.with_suffix(".tmp")
        with (open(plain, "rb") if plain.exists() else gzip.open(packed, "rb")) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        tmp.replace(target)
    return root


def dataloaders(batch_size: int, workers: int, subset: int | None, device: torch.device, test_batch_size: int = 1000):
    """pytorch/examples' MNIST pipeline: train and test ``DataLoader`` over ``torchvision.datasets.MNIST``."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MNIST_MEAN_STD[0],), (MNIST_MEAN_STD[1],))])
    root = torchvision_root()
    train = datasets.MNIST(str(root), train=True, download=False, transform=transform)
    test = datasets.MNIST(str(root), train=False, download=False, transform=transform)
    if subset is not None:
        train = Subset(train, range(subset))
    options = dict(num_workers=workers, pin_memory=device.type == "cuda", persistent_workers=workers > 0)
    return (DataLoader(train, batch_size=batch_size, shuffle=True, **options),
            DataLoader(test, batch_size=test_batch_size, shuffle=False, **options))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def _loader_accuracy(model, loader, device) -> tuple[float, float]:
    """(accuracy, seconds) of one pass over ``loader``, as pytorch/examples' ``test()`` does it."""
    model.eval()
    t0 = time.perf_counter()
    correct = torch.zeros((), device=device)
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        correct += (model(x).argmax(1) == y).sum()
    accuracy = correct.item() / len(loader.dataset)
    return accuracy, time.perf_counter() - t0


def bench_dataloader(model_name: str, config: TrainConfig, workers: int, subset: int | None,
                     device: torch.device) -> BenchRow:
    torch.backends.cudnn.benchmark = False  # PyTorch's default, as in pytorch/examples
    torch.manual_seed(config.seed)
    model = get_model(model_name).to(device)
    train_loader, test_loader = dataloaders(config.batch_size, workers, subset, device,
                                            inference_batch(model, config, fast=False))
    optimizer = build_optimizer(model, config)
    scheduler, _ = build_scheduler(optimizer, config, len(train_loader))
    loss_fn = torch.nn.functional.cross_entropy
    times, accuracies, inference = [], [], []
    for _ in range(config.epochs):
        model.train()
        _sync(device)
        t0 = time.perf_counter()
        for x, y in train_loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            optimizer.step()
        _sync(device)
        times.append(time.perf_counter() - t0)
        if scheduler is not None:
            scheduler.step()
        accuracy, seconds = _loader_accuracy(model, test_loader, device)
        accuracies.append(accuracy)
        inference.append(seconds)
    return _row(model_name, f"dataloader-{workers}", config.batch_size, times, accuracies, len(train_loader.dataset),
                len(test_loader.dataset) / min(inference[1:] or inference), device)


# ------------------------------------------------------------------------------------ the course's paths

def bench_data(device: torch.device, subset: int | None) -> DeviceData:
    """All 60,000 training images (or the first ``subset``) as the training split and the test set as the
    evaluated split: the images the DataLoader paths see."""
    arrays = load_arrays("mnist")
    spec = get_spec("mnist")
    n = subset or len(arrays["train_labels"])
    train = to_device_split(arrays["train_images"][:n].copy(), arrays["train_labels"][:n].copy(), device,
                            spec.mean, spec.std)
    test = to_device_split(arrays["test_images"].copy(), arrays["test_labels"].copy(), device, spec.mean, spec.std)
    return DeviceData(name="mnist", train=train, val=test, test=test, mean=spec.mean, std=spec.std, split_seed=-1,
                      split_md5="benchmark: all training images, evaluated on the test set", classes=spec.classes)


def bench_device(model_name: str, config: TrainConfig, data: DeviceData, fast: bool) -> BenchRow:
    device = data.device
    if fast:
        config = dataclasses.replace(config, **{**FAST_PATH, "precision": "bf16" if device.type == "cuda" else "fp32"})
    torch.manual_seed(config.seed)
    model = get_model(model_name)
    result = fit(model, data, config, quiet=True, log=None)
    speed = inference_throughput(model, data.test, inference_batch(model, config, fast, len(data.test)), images=None)
    note = "" if not fast else ("CUDA graph, bf16, cuDNN autotuning" if result.train_path == "cuda-graph"
                                else "no CUDA graph on this device: the eager path")
    return _row(model_name, "device-fast" if fast else "device-eager", config.batch_size,
                [h["train_seconds"] for h in result.history], [h["val_accuracy"] for h in result.history],
                len(data.train), speed, device, note)


def inference_batch(model: torch.nn.Module, config: TrainConfig, fast: bool, n_test: int = 10_000) -> int:
    """The evaluation batch: a batch-dependent model's own (its predictions change with it), else the whole
    test set on the fast path and pytorch/examples' 1,000 otherwise."""
    if getattr(model, "batch_dependent", False):
        return eval_batch_size(model, config)
    return n_test if fast else 1000


def _row(model_name, path, batch_size, times, accuracies, n_train, inference_speed, device, note="") -> BenchRow:
    steady = times[1:] or times  # the first epoch pays for warm-up, capture and autotuning
    epoch = statistics.median(steady)
    reached = {}
    for threshold in THRESHOLDS:
        hit = next((i for i, a in enumerate(accuracies) if a >= threshold), None)
        reached[f"{100 * threshold:.1f}"] = None if hit is None else sum(times[:hit + 1])
    memory = torch.cuda.max_memory_allocated(device) / 2 ** 20 if device.type == "cuda" else None
    return BenchRow(model_name, path, batch_size, epoch, n_train / epoch, inference_speed, reached, accuracies[-1], memory, note)


def improved_end_to_end(device: torch.device) -> dict:
    """The Shao CNN's improved recipe on the fast path, from loading the data to the one test evaluation."""
    from ..training.evaluate import evaluate

    t0 = time.perf_counter()
    config = resolve_config("shao_cnn", "full", "improved", device=str(device), **FAST_PATH)
    data = load_data("mnist", device=device, normalize=get_model_info("shao_cnn").normalize)
    torch.manual_seed(config.seed)
    model = get_model("shao_cnn")
    result = fit(model, data, config, quiet=True, log=None)
    test = evaluate(model, data.test, 10_000)
    return {"seconds": time.perf_counter() - t0, "test_accuracy": test.accuracy, "epochs": config.epochs,
            "best_epoch": result.best_epoch, "train_path": result.train_path}


def epoch_flops(model_name: str, n_images: int, device: torch.device) -> float:
    """Floating-point operations of one training epoch (forward and backward), counted by PyTorch."""
    from torch.utils.flop_counter import FlopCounterMode

    model = get_model(model_name).to(device)
    x = torch.zeros(100, 1, 28, 28, device=device)
    with FlopCounterMode(display=False) as counter:
        model(x).float().sum().backward()
    return counter.get_total_flops() * n_images / 100


def peak_flops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16.items() if k in name), None)


AGREEMENT_MODELS = ("shao_cnn", "gecco", "efficient_capsnet")
AGREEMENT_TOLERANCE = 1e-5  # relative, per step


def _train_step(model: torch.nn.Module, config: TrainConfig, forward=None, fused: bool = True):
    """``step(x, y) -> loss``: one training step of ``model`` with its recipe's optimiser and loss, through
    ``forward`` (default: the model itself); no host sync."""
    from ..training.evaluate import loss_function

    optimizer = build_optimizer(model, config, fused=fused)
    loss_fn = loss_function(model, config.label_smoothing)
    forward = forward or model

    def step(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = forward(x)
        loss = loss_fn(out.float() if torch.is_tensor(out) else out, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def graph_agreement(model_name: str, data: DeviceData, steps: int = 100, seed: int = 0) -> dict:
    """Train ``model_name`` for ``steps`` steps twice, from the same initial weights on the same batches (its
    ``full`` recipe's batch size, the training images in order, no augmentation): once eagerly and once
    replayed from a CUDA graph, both fp32 with deterministic cuDNN and the same fused Adam. Returns both
    per-step loss curves and their largest relative difference, or why the model cannot be captured.
    """
    from ..training.cuda_graphs import capture_blocker, graph_forward, release_graph

    device = data.device
    config = resolve_config(model_name, "full", device=str(device), deterministic=True)
    b, n = config.batch_size, len(data.train)
    order = torch.arange(steps * b, device=device) % n
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    curves = {}
    for path in ("eager", "cuda-graph"):
        torch.manual_seed(seed)
        model = get_model(model_name).to(device).train()
        forward = model
        if path == "cuda-graph":
            blocker = capture_blocker(model, device, b, n)
            if blocker is None:
                forward, blocker = graph_forward(model, data.train.images[:b], "fp32")
            if blocker is not None:
                return {"model": model_name, "batch_size": b, "steps": steps, "fallback": blocker}
        step = _train_step(model, config, forward, fused=device.type == "cuda")
        losses = [step(data.train.images[index], data.train.labels[index]) for index in order.view(steps, b)]
        curves[path] = torch.stack(losses).double().cpu()  # one host sync, after the last step
        release_graph(model)
    eager, graphed = curves["eager"], curves["cuda-graph"]
    relative = ((graphed - eager).abs() / eager.abs().clamp_min(1e-12))
    return {"model": model_name, "batch_size": b, "steps": steps, "fallback": None,
            "max_relative_difference": relative.max().item(), "first_step_loss": eager[0].item(),
            "last_step_loss": {"eager": eager[-1].item(), "cuda-graph": graphed[-1].item()},
            "equal": bool(relative.max().item() <= AGREEMENT_TOLERANCE),
            "eager_losses": eager.tolist(), "graph_losses": graphed.tolist()}


def profile_step(model_name: str, data: DeviceData, steps: int = 20) -> dict:
    """What bounds an eager training step (``full`` batch size) on a GPU, from ``torch.profiler``: kernels per
    step, their summed GPU time against the step's wall time, and the costliest kernels."""
    from torch.profiler import ProfilerActivity, profile

    device = data.device
    config = resolve_config(model_name, "full", device=str(device))
    b = config.batch_size
    torch.manual_seed(0)
    model = get_model(model_name).to(device).train()
    step = _train_step(model, config)
    x, y = data.train.images[:b], data.train.labels[:b]
    for _ in range(5):
        step(x, y)
    _sync(device)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            step(x, y)
        _sync(device)
        wall = (time.perf_counter() - t0) / steps
    kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    gpu_us = sum(e.device_time for e in kernels) / steps
    by_name: dict[str, float] = {}
    for e in kernels:
        by_name[e.name] = by_name.get(e.name, 0.0) + e.device_time / steps
    top = sorted(by_name.items(), key=lambda kv: -kv[1])[:8]
    return {"model": model_name, "batch_size": b, "kernels_per_step": len(kernels) / steps,
            "gpu_ms_per_step": gpu_us / 1000, "wall_ms_per_step": 1000 * wall,
            "top_kernels": [{"name": name[:120], "ms_per_step": us / 1000} for name, us in top]}


def bench(models: list[str] | None = None, *, device=None, subset: int | None = None, epochs: int | None = None,
          batch_size: int | None = None, workers: tuple[int, ...] = (0, 4), improved: bool | None = None,
          agreement: tuple[str, ...] | None = None, log=print) -> dict:
    """Measure every path for every model; returns ``{"rows": [...], "improved": ..., "provenance": ...}``.

    ``batch_size``: one for every model, else each model's ``full`` recipe's (the Shao CNN 1,000, GECCO 64).
    On a GPU it also checks that the CUDA-graph replay trains as the eager loop does
    (:func:`graph_agreement`, for ``agreement`` models, default :data:`AGREEMENT_MODELS`) and profiles each
    timed model's eager step (:func:`profile_step`).
    """
    dev = resolve_device(device)
    models = models or ["shao_cnn"]
    for name in models:
        get_model_info(name)
    epochs = epochs or (8 if dev.type == "cuda" else 3)
    if epochs < 2:
        raise ValueError("bench needs at least 2 epochs: the first one is warm-up")
    data = bench_data(dev, subset)
    rows = []
    for name in models:
        config = resolve_config(name, "full", device=str(dev), epochs=epochs, batch_size=batch_size)
        config = dataclasses.replace(config, patience=None, augment="none")  # None overrides are ignored there
        for w in workers:
            rows.append(_measured(log, f"{name}: dataloader, {w} workers, batch {config.batch_size}",
                                  lambda: bench_dataloader(name, config, w, subset, dev), dev))
        for fast in (False, True):
            rows.append(_measured(log, f"{name}: device-resident, {'fast' if fast else 'eager'}, batch {config.batch_size}",
                                  lambda: bench_device(name, config, data, fast), dev))
    result = {"rows": [dataclasses.asdict(r) for r in rows], "epochs": epochs,
              "train_images": len(data.train), "test_images": len(data.test), "subset": subset, "provenance": provenance(dev)}
    peak = peak_flops(dev)
    result["arithmetic"] = {name: {"epoch_flops": epoch_flops(name, len(data.train), dev), "peak_flops": peak}
                            for name in models}
    if dev.type == "cuda":
        result["agreement"] = []
        for name in agreement if agreement is not None else AGREEMENT_MODELS:
            if log:
                log(f"{name}: CUDA graph against eager, 100 steps")
            result["agreement"].append(graph_agreement(name, data))
        result["profile"] = []
        for name in models:
            if log:
                log(f"{name}: profiling the eager step")
            result["profile"].append(profile_step(name, data))
    if improved if improved is not None else dev.type == "cuda":
        if log:
            log("shao_cnn: improved recipe, fast path, end to end")
        result["improved"] = improved_end_to_end(dev)
    return result


def _measured(log, label, run, device) -> BenchRow:
    if log:
        log(label)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    row = run()
    if log:
        log(f"  {row.epoch_seconds * 1000:.1f} ms/epoch, test {100 * row.test_accuracy:.2f}%")
    return row


# -------------------------------------------------------------------------------------------------- report

def table_rows(result: dict) -> list[dict]:
    """The benchmark as display rows, with each path's speed-up over the slowest DataLoader path."""
    rows = result["rows"]
    out = []
    for row in rows:
        loaders = [r["epoch_seconds"] for r in rows if r["model"] == row["model"] and r["path"].startswith("dataloader")]
        reference = max(loaders) if loaders else row["epoch_seconds"]
        out.append({
            "model": row["model"], "path": row["path"], "batch": str(row["batch_size"]),
            "ms/epoch": f"{1000 * row['epoch_seconds']:.1f}",
            "speed-up": f"{reference / row['epoch_seconds']:.1f}x",
            "train img/s": f"{row['train_images_per_second']:,.0f}",
            "inference img/s": f"{row['inference_images_per_second']:,.0f}",
            **{f"s to {k}%": "-" if v is None else f"{v:.2f}" for k, v in row["seconds_to"].items()},
            "test %": f"{100 * row['test_accuracy']:.2f}",
            "peak MiB": "-" if row["peak_memory_mib"] is None else f"{row['peak_memory_mib']:.0f}",
            "note": row["note"],
        })
    return out


def findings(result: dict) -> list[str]:
    """Sentences on the targets and the arithmetic limit, computed from the measurements."""
    lines = []
    by_path = {(r["model"], r["path"]): r for r in result["rows"]}
    for model, facts in result.get("arithmetic", {}).items():
        fast = by_path.get((model, "device-fast"))
        loader = by_path.get((model, "dataloader-4")) or by_path.get((model, "dataloader-0"))
        if fast and loader:
            lines.append(f"{model}: the fast path's epoch ({1000 * fast['epoch_seconds']:.1f} ms) is "
                         f"{loader['epoch_seconds'] / fast['epoch_seconds']:.1f}x faster than {loader['path']} "
                         f"({1000 * loader['epoch_seconds']:.0f} ms).")
        if fast and facts["peak_flops"]:
            floor = facts["epoch_flops"] / facts["peak_flops"]
            lines.append(f"{model}: an epoch is {facts['epoch_flops'] / 1e12:.2f} TFLOP; at the GPU's bf16 peak that is "
                         f"{1000 * floor:.2f} ms, so the fast path runs at {100 * floor / fast['epoch_seconds']:.1f}% "
                         f"of the arithmetic limit; the rest is kernel launches and memory traffic of small layers.")
        if fast:
            ms = 1000 * result["test_images"] / fast["inference_images_per_second"]
            lines.append(f"{model}: inference over the {result['test_images']:,} test images takes {ms:.1f} ms on the fast path.")
        if fast and model == "shao_cnn" and result["provenance"]["device"].startswith("cuda"):
            lines.extend(_targets(fast, by_path.get((model, "dataloader-4")), result["test_images"]))
    for check in result.get("agreement", []):
        if check["fallback"]:
            lines.append(f"{check['model']}: no CUDA graph ({check['fallback']}).")
        else:
            verdict = "equal" if check["equal"] else "NOT equal"
            lines.append(f"{check['model']}: over {check['steps']} steps at batch {check['batch_size']}, the CUDA-graph "
                         f"losses are {verdict} to the eager ones within {AGREEMENT_TOLERANCE:g} relative (largest "
                         f"difference {check['max_relative_difference']:.1e}).")
    for prof in result.get("profile", []):
        top = prof["top_kernels"][0] if prof["top_kernels"] else None
        bound = "launches" if prof["gpu_ms_per_step"] < 0.5 * prof["wall_ms_per_step"] else "the kernels' own work"
        lines.append(f"{prof['model']}: an eager step at batch {prof['batch_size']} launches "
                     f"{prof['kernels_per_step']:.0f} kernels, {prof['gpu_ms_per_step']:.2f} ms of GPU time in "
                     f"{prof['wall_ms_per_step']:.2f} ms of wall time, so it is bound by {bound}"
                     + (f"; the costliest kernel is `{top['name'][:60]}` ({top['ms_per_step']:.3f} ms a step)." if top else "."))
    if "improved" in result:
        imp = result["improved"]
        lines.append(f"shao_cnn (improved): {imp['seconds']:.1f} s end to end for {imp['epochs']} epochs, test "
                     f"{100 * imp['test_accuracy']:.2f}% ({imp['train_path']}).")
    return lines


TARGETS = {"epoch_ms": 50.0, "speed_up": 40.0, "inference_ms": 20.0}  # the fast path's targets on a GPU


def _targets(fast: dict, loader: dict | None, n_test: int) -> list[str]:
    """The Shao CNN's fast path against the targets: an epoch under 50 ms, at least 40 times the 4-worker
    DataLoader, 10,000-image inference under 20 ms."""
    def met(ok: bool) -> str:
        return "met" if ok else "missed"

    epoch_ms = 1000 * fast["epoch_seconds"]
    inference_ms = 1000 * n_test / fast["inference_images_per_second"]
    lines = [f"target: an epoch under {TARGETS['epoch_ms']:.0f} ms: {met(epoch_ms < TARGETS['epoch_ms'])} ({epoch_ms:.1f} ms)."]
    if loader:
        speed_up = loader["epoch_seconds"] / fast["epoch_seconds"]
        lines.append(f"target: at least {TARGETS['speed_up']:.0f}x the 4-worker DataLoader: "
                     f"{met(speed_up >= TARGETS['speed_up'])} ({speed_up:.1f}x).")
    lines.append(f"target: {n_test:,}-image inference under {TARGETS['inference_ms']:.0f} ms: "
                 f"{met(inference_ms < TARGETS['inference_ms'])} ({inference_ms:.1f} ms).")
    return lines


def measured_on(result: dict) -> str:
    """Where and when a benchmark ran: device, torch version, commit, date."""
    p = result["provenance"]
    return f"{p['device_name']}, torch {p['torch']}, commit `{p['commit'][:12]}`, {p['date'][:10]}"


def write_bench(result: dict, out: str | Path) -> Path:
    """``bench.json`` (everything measured), ``bench.csv`` and ``bench.md`` (the table and the findings)."""
    from .report import markdown_table, write_csv

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(result, out / "bench.json")
    rows = table_rows(result)
    write_csv(rows, out / "bench.csv")
    text = ["# Training-path benchmark", "",
            f"{measured_on(result)}; {result['train_images']:,} training images, each model at its recipe's batch size, "
            f"{result['epochs']} epochs (median epoch after the first).", "", markdown_table(rows), "",
            *[f"- {line}" for line in findings(result)], ""]
    path = out / "bench.md"
    write_text("\n".join(text), path)
    return path
