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

import torch

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
# the runner's Optuna study (tools/cpu_study.sh: tune --until 50 --final-seeds 5; a test holds them equal)
TUNING_TRIALS, TUNING_SEEDS = 50, 5
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
    channels_last: bool = False  # trained in the channels-last layout (the runner's --channels-last)

    @property
    def label(self) -> str:
        name = self.model + (f" ({self.tag or self.recipe})" if (self.tag or self.recipe) else "")
        return name if self.dataset == "mnist" else f"{name}, {self.dataset}"

    def config(self, **execution):
        execution = {"channels_last": self.channels_last or None, **execution}
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
              Item("efficient_capsnet_decoder", 3, channels_last=True), Item("spinalnet", 3),
              Item("resnet", 3, channels_last=True), Item("resnet18", 1, optional=True),
              Item("vgg5", 3, optional=True)]
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
    item = next((i for i in cpu_study() if i.model == model and not (i.recipe or i.tag) and i.dataset == "mnist"),
                Item(model, 1))
    seconds = measured_seconds(item, json.loads(times.read_text())) if times.exists() else None
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
                f"{CPU_LIMIT_MINUTES} min (`python -m mnistlib plan --measure-paths {model}`)")
    return (f"over the CPU study's budget of {CPU_LIMIT_MINUTES} min a seed ({cost}): "
            f"`python -m mnistlib reproduce --models {model} --compile`")


def epoch_seconds(item: Item, *, compile: bool = True, channels_last: bool | None = None,
                  model_kwargs: dict | None = None, steps: int = MEASURED_STEPS, device: str = "cpu") -> float:
    """Seconds one epoch of ``item`` takes here: ``steps`` training steps timed after a warm-up epoch, scaled
    to the whole training split, plus one validation pass. On a GPU: the CUDA-graph replay (fp32, as the
    study trains there) instead of ``torch.compile``. ``channels_last``: the layout (default: the item's)."""
    return sum(timed_epoch(item, compile=compile, channels_last=channels_last, model_kwargs=model_kwargs,
                           steps=steps, device=device))


def timed_epoch(item: Item, *, compile: bool = True, channels_last: bool | None = None,
                model_kwargs: dict | None = None, steps: int = MEASURED_STEPS, device: str = "cpu") -> tuple[float, float]:
    """``(training seconds scaled to the whole training split, validation seconds)`` of one epoch of ``item``,
    the second of two (the first compiles and warms up); see :func:`epoch_seconds`."""
    gpu = device != "cpu"
    config = item.config(device=device, compile=compile and not gpu, cuda_graph=gpu,
                         channels_last=item.channels_last if channels_last is None else channels_last)
    subset = max(min(steps * config.batch_size, MEASURED_IMAGES), config.batch_size)
    config = dataclasses.replace(config, epochs=2, patience=None, train_subset=subset, schedule="none")
    info = get_model_info(item.model)
    data = load_data(item.dataset, device=device, normalize=normalization(info, item.dataset), train_subset=subset)
    model = get_model(item.model, **{**item.model_kwargs, **(model_kwargs or {})})
    second = fit(model, data, config, quiet=True).history[1]
    return second["train_seconds"] * TRAIN_IMAGES / len(data.train), second["seconds"] - second["train_seconds"]


# The ways a large model can train on this CPU (issue 30: "eager and --compile, channels-last where it helps").
# ``plan --measure-paths`` times each; the runner trains a model on its fastest (Item.channels_last, --compile).
TRAINING_PATHS = {"eager": dict(compile=False, channels_last=False),
                  "eager, channels-last": dict(compile=False, channels_last=True),
                  "compiled": dict(compile=True, channels_last=False),
                  "compiled, channels-last": dict(compile=True, channels_last=True)}
PATH_STEPS = 30  # training steps timed per path: the large models take seconds a step


@dataclass(frozen=True)
class PathTiming:
    """One model on one path: training seconds an epoch (55,000 images), validation seconds, and the training
    arithmetic rate that implies (FLOPs of a forward and backward pass counted by ``torch.utils.flop_counter``)."""

    model: str
    path: str
    train_seconds: float
    val_seconds: float
    gflops: float  # training GFLOP/s

    @property
    def epoch_seconds(self) -> float:
        return self.train_seconds + self.val_seconds


def measure_paths(models: list[str], paths: list[str] | None = None, steps: int = PATH_STEPS,
                  log=print) -> list[PathTiming]:
    """Time an epoch of each of ``models`` on each of ``paths`` (default: all of :data:`TRAINING_PATHS`) on this CPU.
    Run it with the CPU otherwise idle (the study's runner paused): two processes that both spread their
    work over the two cores slow each other three- to fourfold, far more than their share."""
    from .bench import epoch_flops

    timings = []
    for model in models:
        flops = epoch_flops(model, TRAIN_IMAGES, torch.device("cpu"))
        for path in paths or list(TRAINING_PATHS):
            train, val = timed_epoch(Item(model, 1), steps=steps, **TRAINING_PATHS[path])
            timings.append(PathTiming(model, path, train, val, flops / train / 1e9))
            if log:
                log(f"{model}, {path}: {train + val:.0f} s an epoch ({flops / train / 1e9:.0f} GFLOP/s in training)")
    return timings


def write_path_timings(timings: list[PathTiming], results: str | Path = RESULTS) -> Path:
    """Merge ``timings`` into ``<results>/full/epoch_times.json`` under ``"paths"`` (a model's earlier timings
    on the same path are replaced), with this machine's provenance."""
    from .provenance import provenance

    path = Path(results) / "full" / "epoch_times.json"
    times = json.loads(path.read_text()) if path.exists() else {"after": {}, "before": {}}
    measured = times.get("paths", {}).get("timings", [])
    new = {(t.model, t.path) for t in timings}
    measured = [t for t in measured if (t["model"], t["path"]) not in new] + [dataclasses.asdict(t) for t in timings]
    times["paths"] = {"timings": measured, **provenance(torch.device("cpu"))}
    write_json(times, path)
    return path


def path_timings(times: dict) -> list[PathTiming]:
    return [PathTiming(**t) for t in times.get("paths", {}).get("timings", [])]


def path_of(item: Item) -> str:
    """The path the runner trains ``item`` on (always compiled; the layout is the item's)."""
    return "compiled, channels-last" if item.channels_last else "compiled"


def measured_seconds(item: Item, times: dict) -> float | None:
    """The measured seconds an epoch of ``item`` on its path: ``plan --measure-paths`` where it timed that
    path, else ``plan --measure``'s figure, else ``None`` (not measured)."""
    timed = {(t.model, t.path): t for t in path_timings(times)}
    if not item.tag and not item.recipe and (item.model, path_of(item)) in timed:
        return timed[item.model, path_of(item)].epoch_seconds
    return times["after"].get(_key(item))


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


@dataclass(frozen=True)
class PlanRow:
    """One configuration's place in the plan: seeds done, the seconds an epoch takes here (``None``: not
    measured), the epochs a run takes (``mark``: " (est.)" borrowed from its kin, " (max)" the recipe's
    maximum), and whether this CPU trains it."""

    item: Item
    done: int
    seconds: float | None
    epochs: float
    mark: str
    on_cpu: bool

    @property
    def minutes_a_seed(self) -> float | None:
        return None if self.seconds is None else self.seconds * self.epochs / 60

    @property
    def hours_left(self) -> float | None:
        """CPU hours its remaining seeds need (``None``: seeds left but no measured epoch to count them by)."""
        remaining = self.item.seeds - self.done
        if not remaining:
            return 0.0
        return None if self.minutes_a_seed is None else self.minutes_a_seed * remaining / 60

    def display(self) -> dict:
        hours = self.hours_left
        return {"configuration": self.item.label, "seeds": self.item.seeds, "done": self.done,
                "s/epoch": "-" if self.seconds is None else f"{self.seconds:.1f}",
                "epochs a run": f"{self.epochs:.1f}{self.mark}",
                "min a seed": "-" if self.minutes_a_seed is None else f"{self.minutes_a_seed:.0f}",
                "hours left": "-" if not self.on_cpu else "?" if hours is None else f"{hours:.2f}",
                "where": "CPU" if self.on_cpu else "over budget"}


def plan_table(items: list[Item], times: dict, results: Path) -> list[PlanRow]:
    """One row per configuration. Seconds an epoch: the median of its finished CPU runs in the layout it trains
    in, else the measured figure in ``times`` (:func:`measured_seconds`), else its CPU runs' in the other layout. Epochs a run: its finished runs' mean; else the mean of the finished
    runs under the same stopping rule (maximum epochs, patience, what is selected), marked "(est.)"; else the
    recipe's maximum, marked "(max)"."""
    finished = {id(item): _finished(item, results) for item in items}
    by_rule: dict[tuple, list[int]] = {}
    for item in items:
        by_rule.setdefault(_stopping_rule(item), []).extend(r.epochs_run for r in finished[id(item)])
    rows = []
    for item in items:
        done = finished[id(item)]
        on_this_cpu = [r for r in done if r.device == "cpu"]  # never a GPU run's seconds
        alike = [r.median_epoch_seconds for r in on_this_cpu  # in the layout its remaining seeds train in
                 if r.config.get("channels_last", False) == item.channels_last]
        seconds = (statistics.median(alike) if alike else measured_seconds(item, times)
                   or (statistics.median(r.median_epoch_seconds for r in on_this_cpu) if on_this_cpu else None))
        similar = by_rule[_stopping_rule(item)]
        if done:
            epochs, mark = statistics.fmean(r.epochs_run for r in done), ""
        elif similar and _stopping_rule(item)[1] is not None:  # runs that stop early: as their kin stopped
            epochs, mark = statistics.fmean(similar), " (est.)"
        else:
            epochs, mark = item.config().epochs, " (max)"
        per_seed = None if seconds is None else seconds * epochs / 60
        rows.append(PlanRow(item, len(done), seconds, epochs, mark, on_cpu(item, per_seed)))
    return rows


def plan_rows(items: list[Item], times: dict, results: Path) -> list[dict]:
    """:func:`plan_table` as PLAN.md shows it."""
    return [row.display() for row in plan_table(items, times, results)]


@dataclass(frozen=True)
class OtherWork:
    """A piece of the runner's work that is not a configuration: how many, how many done, minutes each and
    the hours left (``None``: not estimated yet)."""

    what: str
    count: int
    done: int
    minutes_each: float | None
    hours_left: float | None

    def display(self) -> dict:
        return {"work": self.what, "count": self.count, "done": self.done,
                "min each": "-" if self.minutes_each is None else f"{self.minutes_each:.0f}",
                "hours left": "?" if self.hours_left is None else f"{self.hours_left:.2f}"}


def other_work(rows: list[PlanRow], results: Path) -> list[OtherWork]:
    """The runner's work besides the configurations: the collapse checks (each collapsed ablation run trained
    again for ``CONTINUED_EPOCHS`` epochs at its own median epoch) and the Optuna study (``TUNING_TRIALS``
    trials, each at most an ablation run: the mean over the ablation's configurations, as pruned trials stop
    sooner; then its best configuration on ``TUNING_SEEDS`` seeds)."""
    from .collapse import CONTINUED_EPOCHS, load_collapses
    from .hyperparameters import collapsed, load_ablation

    ablation_csv = results / "ablation" / "ablation.csv"
    collapses = [r for r in load_ablation(ablation_csv) if collapsed(r)] if ablation_csv.exists() else []
    checked = {(c.factor, c.value, c.seed) for c in load_collapses(results / "ablation")}
    unchecked = [r for r in collapses if (r.factor, r.value, r.seed) not in checked]
    check_minutes = sum(r.seconds_per_epoch * CONTINUED_EPOCHS for r in unchecked) / 60
    per_run = [row.minutes_a_seed for row in rows if row.item.runs_dir == "ablation" and row.minutes_a_seed is not None]
    run_minutes = statistics.fmean(per_run) if per_run else None
    trials, tuned = _tuning_done(results)
    hours = lambda left: None if run_minutes is None else run_minutes * max(left, 0) / 60
    return [OtherWork("collapse checks (the collapsed runs so far)", len(collapses), len(collapses) - len(unchecked),
                      check_minutes / len(unchecked) if unchecked else None, check_minutes / 60),
            OtherWork("Optuna trials (at most an ablation run each)", TUNING_TRIALS, trials, run_minutes,
                      hours(TUNING_TRIALS - trials)),
            OtherWork("Optuna's best configuration, seeds", TUNING_SEEDS, tuned, run_minutes, hours(TUNING_SEEDS - tuned))]


def _tuning_done(results: Path) -> tuple[int, int]:
    """``(finished trials, tuned seeds)`` of the Optuna study in ``<results>/hpo``."""
    from .hyperparameters import MODEL, finished_trials

    storage = results / "hpo" / "optuna.db"
    if not storage.exists():
        return 0, 0
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials = finished_trials(optuna.load_study(study_name=MODEL, storage=f"sqlite:///{storage}"))
    tuned = Item(MODEL, TUNING_SEEDS, tag="tuned", runs_dir="hpo")
    return trials, len(_finished(tuned, results))


def hours_spent(items: list[Item], results: Path) -> tuple[float, float]:
    """CPU hours the finished runs of ``items`` took: ``(by their clocks, at their median epoch)``. The clocks
    count every pause of the runner (tests and CI beside it); epochs run times the median epoch does not."""
    runs = [r for item in items for r in _finished(item, results) if r.device == "cpu"]
    clock = sum(r.train_seconds for r in runs)
    undisturbed = sum(r.median_epoch_seconds * r.epochs_run for r in runs)
    return clock / 3600, undisturbed / 3600


def paths_section(times: dict, items: list[Item]) -> list[str]:
    """PLAN.md's table of the large models' paths: seconds an epoch and training GFLOP/s on each, the path
    the runner takes marked."""
    timings = path_timings(times)
    if not timings:
        return []
    taken = {item.model: path_of(item) for item in items}
    paths = times["paths"]
    rows = [{"model": t.model, "path": t.path + (" (the runner's)" if taken.get(t.model) == t.path else ""),
             "s/epoch": f"{t.epoch_seconds:.0f}", "of which validation": f"{t.val_seconds:.0f}",
             "training GFLOP/s": f"{t.gflops:.0f}"} for t in timings]
    return ["## The large models' paths", "",
            f"Measured by `python -m mnistlib plan --measure-paths` on {paths['device_name']}, torch {paths['torch']}, "
            f"commit `{paths['commit'][:12]}`, {paths['date'][:10]}, with the study's runner paused ({PATH_STEPS} "
            "training steps a path after a warm-up epoch, scaled to 55,000 images, plus one validation pass). "
            "GFLOP/s: the forward and backward FLOPs of an epoch counted by `torch.utils.flop_counter`, over the "
            "training seconds. Beside a second process that also spreads its work over both cores (the runner "
            "beside a test), each runs three to four times slower: the runs' own epochs in the table above count "
            "such hours.", "", markdown_table(rows), ""]


def write_plan(results: str | Path = RESULTS, measure_now: bool = False, log=print) -> Path:
    """(Re)write ``<results>/full/PLAN.md``; ``measure_now``: time the epochs first (minutes)."""
    results = Path(results)
    items = cpu_study()
    times_path = results / "full" / "epoch_times.json"
    times = json.loads(times_path.read_text()) if times_path.exists() else {"after": {}, "before": {}}
    if measure_now:
        from .provenance import provenance

        times = {**measure(items, log), **provenance(torch.device("cpu")),
                 **({"paths": times["paths"]} if "paths" in times else {})}
        write_json(times, times_path)
    table = plan_table(items, times, results)
    cpu_rows = [r for r in table if r.on_cpu]
    left = sum(r.hours_left for r in cpu_rows if r.hours_left is not None)
    unmeasured = [r.item.label for r in cpu_rows if r.hours_left is None]
    others = other_work(table, results)
    other_hours = sum(w.hours_left for w in others if w.hours_left is not None)
    spent = hours_spent(items, results)
    before = [{"configuration": k, "plain s/epoch": f"{v:.1f}", "fast s/epoch": f"{times['after'][k]:.1f}",
               "speed-up": f"{v / times['after'][k]:.1f}x"} for k, v in times["before"].items()]
    text = ["# The CPU study's plan (issue 13)", "",
            f"Epoch times measured by `python -m mnistlib plan --measure` on {times.get('device_name', '?')}, "
            f"torch {times.get('torch', '?')}, commit `{times.get('commit', '?')[:12]}`, {times.get('date', '?')[:10]}; "
            "the large models' by `plan --measure-paths` (below). The table is rewritten by `python -m mnistlib "
            "plan` as runs finish. s/epoch: the finished CPU "
            "runs' median epoch where a configuration has any, else the measured figure. Epochs a run: the finished "
            "runs' mean; else, for a recipe that stops early, the mean of the finished runs under the same "
            "stopping rule (est.); else the recipe's maximum (max).", "",
            f"**{sum(r.done for r in cpu_rows)} of {sum(r.item.seeds for r in cpu_rows)} CPU runs done; about "
            f"{left:.1f} CPU hours left"
            + (f", besides {', '.join(unmeasured)} (not measured yet: `plan --measure-paths`)" if unmeasured else "")
            + ("; then the collapse checks and the Optuna study, not estimated until an ablation run has finished"
               if any(w.hours_left is None for w in others) else
               f"; then at most {other_hours:.1f} for the collapse checks and the Optuna study (below)")
            + f".** Spent so far: {spent[1]:.1f} CPU hours at each run's median epoch "
            f"({spent[0]:.1f} by the runs' own clocks, which count the runner's pauses).", "",
            "## Before and after the fast path", "",
            "Plain: eager PyTorch (GECCO: torch_geometric's message passing over the published edges); fast: "
            "`torch.compile` (GECCO: the published graph's closed form, the same function). "
            + times.get("note", ""), "",
            markdown_table(before) if before else "*(not measured yet)*", "",
            "## Runs", "",
            "A cut-off run resumes from its checkpoint, which git does not keep (`*.pt`): it resumes on the "
            "machine that started it, and on a new machine it starts again from its first epoch. A seed whose "
            "minutes (min a seed) exceed what the runner gets of one machine finishes only where one machine "
            "stays that long.", "",
            markdown_table([r.display() for r in table]), "",
            "## The runner's other work", "",
            "After the runs above, in the runner's order: the collapse study trains each collapsed ablation run "
            "again without early stopping; the Optuna study adds trials until "
            f"{TUNING_TRIALS} have finished (completed or pruned), then trains its best configuration on "
            f"{TUNING_SEEDS} seeds. Each trial is counted at an ablation run's mean cost: pruned trials stop "
            "sooner.", "", markdown_table([w.display() for w in others]), "", *paths_section(times, items)]
    path = results / "full" / "PLAN.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text("\n".join(text), path)
    return path
