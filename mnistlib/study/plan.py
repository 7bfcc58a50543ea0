"""The CPU study's plan: which runs, what one epoch of each costs on this machine, and how far it has got.

``python -m mnistlib plan --measure`` times one epoch of every configuration of the study (a few hundred
training steps, scaled to the 55,000 images, plus one validation pass) with the fast path the study uses,
and, for the two configurations that dominate the cost, the plain path too (the "before"). The times land
in ``results/full/epoch_times.json``; ``python -m mnistlib plan`` (without ``--measure``) rewrites
``results/full/PLAN.md`` from them and from the runs finished so far: runs done, epochs a run takes (the
finished runs' mean, else the recipe's maximum), the hours left.
"""
from __future__ import annotations

import dataclasses
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from ..training.config import resolve_config
from ..data import load_data
from ..models import get_model, get_model_info
from ..training.atomic_files import write_json, write_text
from .record import RunRecord
from .configuration import LADDER_MODEL, LADDER_SEEDS, LADDER_TAG, LONG_EMA, RESULTS
from .run import normalization, run_name
from .report import markdown_table
from ..training.loop import fit

TRAIN_IMAGES = 55_000
MEASURED_STEPS = 200  # training steps timed per configuration (after a warm-up epoch that compiles) ...
MEASURED_IMAGES = 20_000  # ... or this many images, whichever is fewer
# per-seed estimate above which an optional configuration (issue 30: resnet18, "one seed only if it fits in 6
# CPU hours") is left pending with its measured cost instead of trained here
CPU_LIMIT_MINUTES = 6 * 60


@dataclass(frozen=True)
class Item:
    """One configuration of the plan: a model, its recipe or an ablation variant, how many seeds."""

    model: str
    seeds: int
    recipe: str | None = None
    dataset: str = "mnist"
    tag: str | None = None
    model_kwargs: dict = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)
    runs_dir: str = "full/runs"  # where its run records are, under results/ (`ablate` writes to results/ablation)
    optional: bool = False  # trained on this CPU only where one seed takes at most CPU_LIMIT_MINUTES

    @property
    def label(self) -> str:
        name = self.model + (f" ({self.tag or self.recipe})" if (self.tag or self.recipe) else "")
        return name if self.dataset == "mnist" else f"{name}, {self.dataset}"

    def config(self, **execution):
        return resolve_config(self.model, "full", self.recipe, **self.overrides, **execution)

    def run_names(self) -> list[str]:
        return [run_name(self.model, "full", seed, self.dataset, self.tag or self.recipe) for seed in range(self.seeds)]


def cpu_study() -> list[Item]:
    """The whole study on this CPU, in its order: issue 13's sections 1-5 (done), then issue 30's comparison
    (Efficient-CapsNet, SpinalNet, the ResNets; no configuration waits for a GPU), with issue 33's ladder."""
    from .hyperparameters import STUDY_SEEDS, ablation_variants

    items = [Item("shao_cnn", 5), Item("shao_cnn", 5, "improved"),
             Item("gecco", 5), Item("gecco_enhanced", 5), Item("gecco_complete", 3),
             Item("gecco_dropout", 5), Item("gecco_dropout_attention", 5),
             Item("spinalnet_small", 5), Item("baseline_cnn", 3),
             Item("shao_cnn", 3, dataset="fashion_mnist"), Item("shao_cnn", 3, "improved", dataset="fashion_mnist")]
    items += [Item("shao_cnn", STUDY_SEEDS, tag=v.tag, model_kwargs=v.model_kwargs, overrides=v.overrides,
                   runs_dir="ablation")
              for v in ablation_variants()]
    items += [Item("efficient_capsnet", 5),
              Item(LADDER_MODEL, LADDER_SEEDS, "improved", tag=LADDER_TAG, overrides=LONG_EMA, runs_dir="ladder/runs"),
              Item("efficient_capsnet_decoder", 3), Item("spinalnet", 3),
              Item("resnet", 3), Item("resnet18", 1, optional=True), Item("vgg5", 3, optional=True)]
    return items


def on_cpu(item: Item, minutes_a_seed: float | None) -> bool:
    """The study runs on this CPU whatever it costs, but an optional configuration only where one seed takes
    at most :data:`CPU_LIMIT_MINUTES` (unmeasured: not yet)."""
    return not item.optional or (minutes_a_seed is not None and minutes_a_seed <= CPU_LIMIT_MINUTES)


def pending_reason(model: str, results: str | Path = RESULTS) -> str:
    """Why ``model`` has no finished run yet, with its measured cost where ``full/epoch_times.json`` holds it:
    the CPU study has not reached it, or one seed costs more than the study spends on an optional
    configuration. Never "needs a GPU": a GPU only makes it faster (``gpu/epoch_times.json``, when measured)."""
    times = Path(results) / "full" / "epoch_times.json"
    seconds = json.loads(times.read_text())["after"].get(model) if times.exists() else None
    epochs = resolve_config(model, "full").epochs
    minutes = None if seconds is None else seconds * epochs / 60
    cost = "its cost not measured yet" if minutes is None else f"about {minutes:.0f} min a seed on this CPU"
    gpu_times = Path(results) / "gpu" / "epoch_times.json"
    gpu = json.loads(gpu_times.read_text()) if gpu_times.exists() else {"seconds": {}}
    if model in gpu["seconds"]:
        cost += f", {gpu['seconds'][model] * epochs / 60:.0f} on {gpu['device_name']}"
    if (Path(results) / "full" / "runs" / f"{run_name(model, 'full', 0)}.json").exists():
        return "not trained in this folder; the CPU study has it (results/full)"
    if any(item.model == model and on_cpu(item, minutes) for item in cpu_study()):
        return f"the CPU study has not reached it yet ({cost}; results/full/PLAN.md)"
    if minutes is None:
        return (f"its cost is not measured yet: the CPU study trains it only if one seed fits in "
                f"{CPU_LIMIT_MINUTES} min (python -m mnistlib plan --measure)")
    return (f"over the CPU study's budget of {CPU_LIMIT_MINUTES} min a seed ({cost}): "
            f"python -m mnistlib reproduce --models {model} --compile")


def epoch_seconds(item: Item, *, compile: bool = True, model_kwargs: dict | None = None,
                  steps: int = MEASURED_STEPS, device: str = "cpu") -> float:
    """Seconds one epoch of ``item`` takes here: ``steps`` training steps timed after a warm-up epoch, scaled
    to the whole training split, plus one validation pass. On a GPU: the CUDA-graph replay (fp32, as the
    study trains there) instead of ``torch.compile``."""
    gpu = device != "cpu"
    config = item.config(device=device, compile=compile and not gpu, cuda_graph=gpu)
    subset = max(min(steps * config.batch_size, MEASURED_IMAGES), config.batch_size)
    config = dataclasses.replace(config, epochs=2, patience=None, train_subset=subset, schedule="none")
    info = get_model_info(item.model)
    data = load_data(item.dataset, device=device, normalize=normalization(info, item.dataset), train_subset=subset)
    model = get_model(item.model, **{**item.model_kwargs, **(model_kwargs or {})})
    second = fit(model, data, config, quiet=True).history[1]
    return second["train_seconds"] * TRAIN_IMAGES / len(data.train) + second["seconds"] - second["train_seconds"]


# the plain path of the two configurations that dominate the cost: eager PyTorch, GECCO through PyG's edges
BEFORE = {"shao_cnn": {}, "gecco": {"dense": False}}


def gpu_models() -> list[str]:
    """The comparison's large models (issue 30): those a lent GPU measures first (``plan --measure-gpu``),
    so that the plan can say what each would cost there. They train on this CPU all the same."""
    issue_13 = {item.model for item in cpu_study()[:9]}
    return list(dict.fromkeys(item.model for item in cpu_study() if item.model not in issue_13))


def measure_gpu(results: str | Path = RESULTS, models: list[str] | None = None, device: str = "cuda",
                log=print) -> Path:
    """Seconds per epoch of ``models`` (default :func:`gpu_models`) on this GPU (their ``full`` recipes,
    CUDA-graph replay), written with the GPU's provenance to ``<results>/gpu/epoch_times.json``: the estimates
    behind "needs N GPU minutes"."""
    import torch

    from .provenance import provenance

    seconds = {}
    for model in models or gpu_models():
        seconds[model] = epoch_seconds(Item(model, 1), device=device)
        if log:
            log(f"{model}: {seconds[model]:.2f} s an epoch on {device}")
    path = Path(results) / "gpu" / "epoch_times.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json({"seconds": seconds, **provenance(torch.device(device))}, path)
    return path


def measure(items: list[Item], log=print) -> dict:
    """Epoch times of every item (fast path), and the plain path of :data:`BEFORE`."""
    times = {"after": {}, "before": {}}
    for item in items:
        key = _key(item)
        if key in times["after"]:
            continue
        times["after"][key] = epoch_seconds(item)
        if item.model in BEFORE and item.recipe is None and not item.tag and item.dataset == "mnist":
            times["before"][key] = epoch_seconds(item, compile=False, model_kwargs=BEFORE[item.model])
        if log:
            before = times["before"].get(key)
            log(f"{item.label}: {times['after'][key]:.1f} s an epoch" + (f" (plain: {before:.1f} s)" if before else ""))
    return times


def _key(item: Item) -> str:
    return item.label.replace(", fashion_mnist", "")  # an epoch costs the same on either dataset


def _finished(item: Item, results: Path) -> list[RunRecord]:
    runs = [results / item.runs_dir / f"{name}.json" for name in item.run_names()]
    return [r for r in (RunRecord.read(p) for p in runs if p.exists()) if r.tested]


def _stopping_rule(item: Item) -> tuple:
    config = item.config()
    return config.epochs, config.patience, config.select


def plan_rows(items: list[Item], times: dict, results: Path) -> list[dict]:
    """One row per configuration. Seconds an epoch: its finished CPU runs' median, else the measured figure in
    ``times``. Epochs a run: its finished runs' mean; else the mean of the finished runs under the same
    stopping rule (maximum epochs, patience, what is selected), marked "(est.)"; else the recipe's maximum,
    marked "(max)"."""
    finished = {id(item): _finished(item, results) for item in items}
    by_rule: dict[tuple, list[int]] = {}
    for item in items:
        by_rule.setdefault(_stopping_rule(item), []).extend(r.epochs_run for r in finished[id(item)])
    rows = []
    for item in items:
        done = finished[id(item)]
        on_this_cpu = [r.median_epoch_seconds for r in done if r.device == "cpu"]  # not a GPU run's seconds
        seconds = statistics.median(on_this_cpu) if on_this_cpu else times["after"].get(_key(item))
        similar = by_rule[_stopping_rule(item)]
        if done:
            epochs, mark = statistics.fmean(r.epochs_run for r in done), ""
        elif similar and _stopping_rule(item)[1] is not None:  # runs that stop early: as their kin stopped
            epochs, mark = statistics.fmean(similar), " (est.)"
        else:
            epochs, mark = item.config().epochs, " (max)"
        per_seed = None if seconds is None else seconds * epochs / 60
        left = 0.0 if per_seed is None else per_seed * (item.seeds - len(done)) / 60
        where = "CPU" if on_cpu(item, per_seed) else "over budget"
        rows.append({"configuration": item.label, "seeds": item.seeds, "done": len(done),
                     "s/epoch": "-" if seconds is None else f"{seconds:.1f}",
                     "epochs a run": f"{epochs:.1f}{mark}",
                     "min a seed": "-" if per_seed is None else f"{per_seed:.0f}",
                     "hours left": f"{left:.2f}" if where == "CPU" else "-", "where": where})
    return rows


def hours_spent(items: list[Item], results: Path) -> tuple[float, float]:
    """CPU hours the finished runs of ``items`` took: ``(by their clocks, at their median epoch)``. The clocks
    count every pause of the runner (tests and CI beside it); epochs run times the median epoch does not."""
    runs = [r for item in items for r in _finished(item, results) if r.device == "cpu"]
    clock = sum(r.train_seconds for r in runs)
    undisturbed = sum(r.median_epoch_seconds * r.epochs_run for r in runs)
    return clock / 3600, undisturbed / 3600


def write_plan(results: str | Path = RESULTS, measure_now: bool = False, log=print) -> Path:
    """(Re)write ``<results>/full/PLAN.md``; ``measure_now``: time the epochs first (minutes)."""
    results = Path(results)
    items = cpu_study()
    times_path = results / "full" / "epoch_times.json"
    if measure_now:
        from .provenance import provenance
        import torch

        write_json({**measure(items, log), **provenance(torch.device("cpu"))}, times_path)
    times = json.loads(times_path.read_text()) if times_path.exists() else {"after": {}, "before": {}}
    rows = plan_rows(items, times, results)
    cpu_rows = [r for r in rows if r["where"] == "CPU"]
    left = sum(float(r["hours left"]) for r in cpu_rows)
    spent = hours_spent(items, results)
    before = [{"configuration": k, "plain s/epoch": f"{v:.1f}", "fast s/epoch": f"{times['after'][k]:.1f}",
               "speed-up": f"{v / times['after'][k]:.1f}x"} for k, v in times["before"].items()]
    text = ["# The CPU study's plan (issue 13)", "",
            f"Epoch times measured by `python -m mnistlib plan --measure` on {times.get('device_name', '?')}, "
            f"torch {times.get('torch', '?')}, commit `{times.get('commit', '?')[:12]}`, {times.get('date', '?')[:10]}; "
            "the table is rewritten by `python -m mnistlib plan` as runs finish. s/epoch: the finished CPU "
            "runs' median epoch where a configuration has any, else the measured figure. Epochs a run: the finished "
            "runs' mean; else, for a recipe that stops early, the mean of the finished runs under the same "
            "stopping rule (est.); else the recipe's maximum (max).", "",
            f"**{sum(r['done'] for r in cpu_rows)} of {sum(r['seeds'] for r in cpu_rows)} CPU runs done; about "
            f"{left:.1f} CPU hours left.** Spent so far: {spent[1]:.1f} CPU hours at each run's median epoch "
            f"({spent[0]:.1f} by the runs' own clocks, which count the runner's pauses).", "",
            "## Before and after the fast path", "",
            "Plain: eager PyTorch (GECCO: torch_geometric's message passing over the published edges); fast: "
            "`torch.compile` (GECCO: the published graph's closed form, the same function). "
            + times.get("note", ""), "",
            markdown_table(before) if before else "*(not measured yet)*", "",
            "## Runs", "", markdown_table(rows), ""]
    path = results / "full" / "PLAN.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text("\n".join(text), path)
    return path
