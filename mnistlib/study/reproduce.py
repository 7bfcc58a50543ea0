"""The full study: every model of the registry under its source's recipe, several seeds, one test each.

``python -m mnistlib reproduce --out results/full`` trains, for each dataset asked for, every
*configuration* (a model with its source's ``full`` recipe, plus the course's alternative recipes such as
Shao's ``improved``) with seeds 0..N-1. Each run selects its epoch on the validation split and touches the
test set once; its result JSON lands in ``<out>/runs/``. The study is resumable: a finished run (its JSON
holds a test accuracy) is read back, an interrupted one resumes from its checkpoint.

Then :func:`summarise_study` writes ``<out>/summary.csv`` and ``<out>/summary.md``: per configuration the
reported and measured accuracy (mean ± std, min/max, 95% bootstrap interval over the test images), the
reported and counted parameters, a verdict on each, epochs to best, seconds per epoch, inference speed,
provenance, the command that reruns seed 0, and a paired comparison with the Shao CNN under the paper's
recipe (:mod:`mnistlib.study.stats`: the bootstrap interval of the accuracy difference and McNemar's test).
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import statistics
import typing
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ..training.checkpoint import write_text
from ..training.device import resolve_device
from .provenance import environment
from ..training.config import alternative_recipes
from ..data.locate import load_arrays
from ..models import Claim, get_model_info, list_models
from ..training.evaluate import inference_throughput
from ..training import checkpoint as ckpt
from .lock import results_lock
from .record import RunRecord
from .run import load_trained, run_name, train_run
from .stats import bootstrap_difference, decode_predictions, mcnemar, t_interval
from .report import markdown_table, mean_std, mean_std_text, write_csv

DEFAULT_SEEDS = 5
# The ResNet (ResNet-101 trunk + 2048-wide FC, 46.7M parameters) costs ~34 s an epoch on an H100 under
# its source's recipe: three seeds keep the study inside one GPU session. Override with seed_limits={}.
SEED_LIMITS = {"resnet": 3}


@dataclass(frozen=True)
class Configuration:
    """A model and a recipe (``None``: its source's own, the ``full`` profile)."""

    model: str
    recipe: str | None = None

    @property
    def label(self) -> str:
        return self.model if self.recipe is None else f"{self.model} ({self.recipe})"

    def command(self, profile: str, seed: int = 0, dataset: str = "mnist", cuda_graph: bool = False) -> str:
        """The CLI command that reruns one seed of this configuration."""
        parts = ["python -m mnistlib train", self.model, f"--profile {profile}"]
        parts += [f"--recipe {self.recipe}"] if self.recipe else []
        parts += [f"--dataset {dataset}"] if dataset != "mnist" else []
        parts += ["--cuda-graph"] if cuda_graph else []
        return " ".join(parts + [f"--seed {seed}"])


REFERENCE = Configuration("shao_cnn")  # every configuration is compared with the paper CNN, paper recipe


def study(models: list[str] | None = None) -> list[Configuration]:
    """Every configuration of ``models`` (default: the whole registry), source recipe first."""
    names = models or list_models()
    for name in names:
        get_model_info(name)  # unknown names fail before anything trains
    return [c for name in names for c in [Configuration(name)] + [Configuration(name, r)
                                                                   for r in alternative_recipes(name)]]


def plan(configurations: list[Configuration], seeds: int, datasets: list[str],
         seed_limits: dict[str, int] | None = None) -> list[tuple[str, Configuration, int]]:
    """``(dataset, configuration, seed)`` for every run of the study, in the order they are trained."""
    limits = SEED_LIMITS if seed_limits is None else seed_limits
    return [(dataset, c, seed) for dataset in datasets for c in configurations
            for seed in range(min(seeds, limits.get(c.model, seeds)))]


def reproduce(out: str | Path = "results/full", *, models: list[str] | None = None, seeds: int = DEFAULT_SEEDS,
              datasets: list[str] | None = None, profile: str = "full", device=None, data_root=None,
              seed_limits: dict[str, int] | None = None, cuda_graph: bool = False, compile: bool = False,
              runs: str | Path | None = None, compare_with: str | Path | None = None,
              quiet: bool = False, log=print, train: bool = True, wait: bool = False) -> list[RunRecord]:
    """Run (or read back) the study's runs, then summarise every finished run of ``profile`` in ``out``
    (so that a study run in parts, a few models per call, ends with one summary); returns this call's records.

    A run whose result file exists is read back when it was made with the config the study asks for now,
    and trained again otherwise (a recipe that changed since). ``cuda_graph``: replay each training step
    from a CUDA graph (fp32, deterministic cuDNN, fused Adam: the eager computation up to rounding,
    without its launch overhead; see :mod:`mnistlib.training.cuda_graphs`). ``compile``: train through ``torch.compile``
    (the CPU's fast path; the same computation up to rounding). ``train=False``: only rewrite the summary
    from the runs finished so far (what a study running elsewhere has written). ``runs``: the folder of the run files
    (default ``<out>/runs``); the book shares one with its other chapters so that no run is trained twice.
    ``compare_with``: another study's folder (the CPU study's, for the GPU's runs in ``results/gpu``); the summary
    then says, per configuration in both, whether the device changes the verdict (:mod:`.devices`).
    Training holds ``out``'s lock (:mod:`.lock`): a second runner on the same folder stops at once, naming
    this one, or with ``wait`` waits for it.
    """
    out = Path(out)
    study(models)  # an unknown model fails here, before the lock is asked for
    with results_lock(out, wait=wait) if train else contextlib.nullcontext():
        runs_dir = Path(runs) if runs is not None else out / "runs"
        todo = plan(study(models), seeds, datasets or ["mnist"], seed_limits) if train else []
        if todo:  # the software that trains this call's runs
            write_text(environment(resolve_device(device)), out / "environment.txt")
        records = []
        for i, (dataset, config, seed) in enumerate(todo, 1):
            name = run_name(config.model, profile, seed, dataset, config.recipe)
            counted = (lambda line, i=i: log(f"[{i}/{len(todo)}] {line}")) if log else None
            record = train_run(config.model, profile, out=runs_dir, reuse=True, dataset=dataset, data_root=data_root,
                               recipe=config.recipe, seed=seed, device=device, quiet=quiet, log=counted,
                               measure_throughput=True, cuda_graph=cuda_graph or None, compile=compile or None)
            records.append(_with_throughput(record, runs_dir / f"{name}.json", device))
        finished = [r for r in read_runs(runs_dir) if is_study_run(r, profile)]
        if not finished:
            return records
        for record in finished:
            export_weights(record, runs_dir)
        labels = {d: load_arrays(d, data_root)["test_labels"] if d == "mnist" and data_root else test_labels(d)
                  for d in {r.dataset for r in finished}}
        write_study(finished, out, profile, labels, compare_with)
        return records


WEIGHTS_LIMIT = 2 * 1024 * 1024  # bytes: weights small enough to commit beside the records


def weights_path(runs_dir: Path, record: RunRecord) -> Path:
    """Where the weights-only state dict of a run of the study lives (``<run>.weights.pt``)."""
    return runs_dir / f"{Path(record.checkpoint).stem}.weights.pt"


def export_weights(record: RunRecord, runs_dir: Path) -> Path | None:
    """Seed 0 of each configuration keeps its best weights (a state dict of tensors, under 2 MB) beside its
    record, for the book's chapters to load instead of retraining; larger models and other seeds do not."""
    path, checkpoint = weights_path(runs_dir, record), runs_dir / Path(record.checkpoint).name
    if record.seed != 0 or path.exists() or not checkpoint.exists():
        return None
    state = ckpt.load(checkpoint)["model_state"]
    if sum(t.numel() * t.element_size() for t in state.values()) > WEIGHTS_LIMIT:
        return None
    return ckpt.save_atomic(state, path)


def is_study_run(record: RunRecord, profile: str) -> bool:
    """A finished, tested run of a study configuration (not an ablation variant) under ``profile``."""
    return record.profile == profile and record.tested and not record.model_kwargs and record.tag == record.recipe


def _with_throughput(record: RunRecord, path: Path, device) -> RunRecord:
    """``record`` with its inference speed, measured from its checkpoint when a run trained elsewhere (another
    chapter of the book) did not measure it; unchanged when the checkpoint is not there."""
    checkpoint = Path(record.checkpoint)
    if record.inference_images_per_second is not None or not checkpoint.is_file():
        return record
    _, model, data, _ = load_trained(checkpoint, device=device)
    record = record.replace(inference_images_per_second=inference_throughput(model, data.test,
                                                                             record.eval_batch_size))
    record.write(path)
    return record


# ----------------------------------------------------------------------------------------------- verdicts

# Only these profiles train with the sources' own recipes: a verdict on a claim needs one of them.
TESTING_PROFILES = ("full", "source")


def untested(profile: str) -> str | None:
    """Why runs of ``profile`` cannot confirm or refute a source's training claim (``None`` if they can)."""
    return None if profile in TESTING_PROFILES else f"not tested: the {profile} profile is not the source's recipe"


def headline(model: str) -> Claim | None:
    """The source's headline figure for ``model``: its first average test-accuracy claim."""
    return next((c for c in get_model_info(model).claims
                 if c.quantity == "test accuracy %" and c.statistic == "average"), None)


def params_verdict(reported: int | None, counted: int) -> str:
    """Whether a reported parameter count matches the module's own count."""
    if reported is None:
        return "not reported"
    if counted == reported:
        return "matches exactly"
    relative = counted / reported - 1
    closeness = "close" if abs(relative) <= 0.01 else "differs"
    return f"{closeness}: {counted - reported:+,} ({100 * relative:+.2f}%)"


def _correctness(records: list[RunRecord], labels: np.ndarray) -> np.ndarray:
    """``(seeds, N)`` booleans: which test images each run classified right."""
    return np.stack([decode_predictions(r.test_predictions) == labels for r in records])


def _one(values: list) -> str:
    distinct = list(dict.fromkeys(str(v) for v in values))
    return distinct[0] if len(distinct) == 1 else " / ".join(distinct)


@dataclass(frozen=True)
class StudyRow:
    """One (dataset, configuration) of the study, as numbers: accuracies in percent, the t-interval of the
    mean (``None`` from one seed), Δ against the paper CNN under its recipe with its paired-bootstrap interval,
    McNemar's test on seed 0 (``None`` for the reference itself). ``summary.csv`` holds these fields;
    :meth:`display` formats them for a table."""

    dataset: str
    model: str
    seeds: int
    mean: float
    std: float | None
    low: float
    high: float
    t_low: float | None
    t_high: float | None
    reported: float | None
    verdict: str
    reported_params: int | None
    params: int
    params_verdict: str
    epochs_to_best: float
    seconds_per_epoch: float
    images_per_second: float | None
    delta: float | None
    delta_low: float | None
    delta_high: float | None
    mcnemar_b: int | None
    mcnemar_c: int | None
    mcnemar_p: float | None
    device: str
    torch: str
    commit: str
    date: str
    rerun: str

    def display(self) -> dict[str, str]:
        """The row as the summary's Markdown table shows it."""
        dash = lambda value, fmt: "-" if value is None else format(value, fmt)
        return {
            "dataset": self.dataset, "model": self.model, "seeds": str(self.seeds),
            "reported test %": dash(self.reported, ".2f"),
            "measured test %": f"{self.mean:.2f} ± {self.std:.2f}" if self.std is not None
            else f"{self.mean:.2f} (one seed)",
            "min–max %": f"{self.low:.2f}–{self.high:.2f}",
            "95% t-interval %": "-" if self.t_low is None else f"{self.t_low:.2f}–{self.t_high:.2f}",
            "accuracy verdict": self.verdict, "reported params": dash(self.reported_params, ","),
            "params": f"{self.params:,}", "params verdict": self.params_verdict,
            "epochs to best": f"{self.epochs_to_best:.1f}", "s/epoch": f"{self.seconds_per_epoch:.2f}",
            "inference img/s": dash(self.images_per_second, ",.0f"),
            "Δ vs shao_cnn (points, 95% CI)": "-" if self.delta is None else
            f"{self.delta:+.2f} ({self.delta_low:+.2f} to {self.delta_high:+.2f})",
            "McNemar vs shao_cnn (seed 0)": "-" if self.mcnemar_p is None else
            f"b={self.mcnemar_b}, c={self.mcnemar_c}, p={self.mcnemar_p:.2g}",
            "device": self.device, "torch": self.torch, "commit": self.commit, "date": self.date, "rerun": self.rerun,
        }

    @classmethod
    def from_csv(cls, values: dict[str, str]) -> "StudyRow":
        """A row of ``summary.csv`` back with its types (an empty cell is ``None``)."""
        hints = typing.get_type_hints(cls)

        def parse(name: str, text: str):
            kind = hints[name]
            if text == "" and type(None) in typing.get_args(kind):
                return None
            base = next((t for t in (int, float) if t is kind or t in typing.get_args(kind)), str)
            return base(text)

        return cls(**{f.name: parse(f.name, values[f.name]) for f in dataclasses.fields(cls)})


def read_summary(path: str | Path) -> list[StudyRow]:
    """The rows of a committed ``summary.csv``."""
    with open(path, newline="") as fh:
        return [StudyRow.from_csv(row) for row in csv.DictReader(fh)]


def summarise_study(records: list[RunRecord], labels: dict[str, np.ndarray], profile: str = "full") -> list[StudyRow]:
    """One :class:`StudyRow` per (dataset, configuration). ``labels`` maps a dataset name to its test labels."""
    groups: dict[tuple[str, Configuration], list[RunRecord]] = defaultdict(list)
    for r in records:
        groups[(r.dataset, Configuration(r.model, r.recipe))].append(r)
    rows = []
    for (dataset, config), runs in groups.items():
        runs = sorted(runs, key=lambda r: r.seed)
        accs = [100 * r.test_accuracy for r in runs]
        mean, std = mean_std(accs)
        interval = t_interval(accs)
        info = get_model_info(config.model)
        # the sources report MNIST figures, and the course's own recipes have no reported figure
        claim = headline(config.model) if dataset == "mnist" and config.recipe is None else None
        speeds = [r.inference_images_per_second for r in runs if r.inference_images_per_second is not None]
        rows.append(StudyRow(
            dataset=dataset, model=config.label, seeds=len(runs), mean=mean, std=std if len(runs) > 1 else None,
            low=min(accs), high=max(accs), t_low=None if interval is None else interval[1],
            t_high=None if interval is None else interval[2],
            reported=None if claim is None else claim.value,
            verdict="no figure reported" if claim is None else (untested(profile) or claim_verdict(claim, accs)),
            reported_params=info.reported_params, params=runs[0].params,
            params_verdict=params_verdict(info.reported_params, runs[0].params),
            epochs_to_best=statistics.fmean(r.best_epoch for r in runs),
            seconds_per_epoch=statistics.median(r.median_epoch_seconds for r in runs),
            images_per_second=statistics.fmean(speeds) if speeds else None,
            **_versus_reference(groups.get((dataset, REFERENCE)), runs, labels[dataset], config),
            device=_one(r.device_name for r in runs), torch=_one(r.torch for r in runs),
            commit=_one(r.commit[:12] for r in runs), date=_one(r.date[:10] for r in runs),
            rerun=config.command(profile, runs[0].seed, dataset, bool(runs[0].config.get("cuda_graph")))))
    return rows


def _versus_reference(reference: list[RunRecord] | None, runs: list[RunRecord], labels: np.ndarray,
                      config: Configuration) -> dict:
    """Δ accuracy (points) against the paper CNN with its 95% paired-bootstrap interval, McNemar on seed 0."""
    if not reference or config == REFERENCE:
        return dict(delta=None, delta_low=None, delta_high=None, mcnemar_b=None, mcnemar_c=None, mcnemar_p=None)
    reference = sorted(reference, key=lambda r: r.seed)
    ours, theirs = _correctness(runs, labels), _correctness(reference, labels)
    diff, low, high = (100 * v for v in bootstrap_difference(ours, theirs))
    test = mcnemar(ours[0], theirs[0])
    return dict(delta=diff, delta_low=low, delta_high=high, mcnemar_b=test.b, mcnemar_c=test.c, mcnemar_p=test.p)


# ------------------------------------------------------------------------------------------------- claims

def _per_class(digit: int):
    return lambda runs: [100 * r.test_per_class_accuracy[digit] for r in runs]


# How this study measures each quantity a source reports (``Claim.quantity``): the per-seed values. The gain
# from Shao et al.'s learning-rate decay is measured by the ablation (``python -m mnistlib ablate``, chapter 4):
# :func:`decay_gain`.
CLAIM_MEASURES: dict[str, Callable[[list[RunRecord]], list[float]]] = {
    "test accuracy %": lambda runs: [100 * r.test_accuracy for r in runs],
    "best test accuracy %": lambda runs: [100 * r.test_accuracy for r in runs],
    "validation accuracy %": lambda runs: [100 * r.val_accuracy for r in runs],
    "training accuracy %": lambda runs: [100 * r.best_train_accuracy for r in runs],
    "best validation epoch": lambda runs: [float(r.best_epoch) for r in runs],
    "test loss": lambda runs: [r.test_loss for r in runs],
    **{f"test accuracy of digit {d} %": _per_class(d) for d in range(10)},
}
DECAY_GAIN = "gain from learning-rate decay (points)"


def decay_gain(claim: Claim, ablation: list | None, profile: str, on_cpu: bool = True) -> tuple[str, str]:
    """``(measured, verdict)`` of Shao et al.'s gain from learning-rate decay: test accuracy with the paper's
    decay minus without, over the ablation's runs (:class:`~mnistlib.study.hyperparameters.AblationRun`) under
    ``profile`` on the same kind of device as the study (``on_cpu``), against the claim with the 95% Welch
    interval of that difference. No verdict until both sides have every seed the ablation promises."""
    from .hyperparameters import STUDY_SEEDS, decay_effect, decay_runs

    ablation = [r for r in ablation or [] if r.profile == profile and r.device_name.startswith("cpu") == on_cpu]
    if not ablation:
        return "-", "measured by the ablation (chapter 4)"
    paper, none = decay_runs(ablation)
    if len(paper) < STUDY_SEEDS or len(none) < STUDY_SEEDS:
        return "-", (f"measured by the ablation (chapter 4): {min(len(paper), STUDY_SEEDS) + min(len(none), STUDY_SEEDS)}"
                     f" of {2 * STUDY_SEEDS} runs committed")
    difference, (low, high) = decay_effect(paper + none)
    shown = f"{difference:+.2f} (95% CI {low:+.2f} to {high:+.2f})"
    return f"{difference:+.2f} (n={len(paper)} with, {len(none)} without)", interval_verdict(claim, low, high, shown)


def claim_verdict(claim: Claim, values: list[float]) -> str:
    """Whether ``claim`` reproduced in the per-seed ``values``: an average (or single figure) against the 95%
    t-interval of their mean, a best figure against the best seed, an epoch against the seeds' range. The
    claim counts as its interval ``value ± resolution`` (a whole percent covers half a point each side).
    One seed gives no verdict. Outside the claim, an accuracy above it ``exceeded`` it and a loss below it did
    (the better side); the worse side, and either side of an epoch, did not reproduce it."""
    if claim.statistic == "each":
        low, high, shown = min(values), max(values), f"{min(values):g}–{max(values):g}"
    elif len(values) < 2:
        return f"one seed ({values[0]:.4g}): no verdict"
    elif claim.statistic == "best":
        low = high = max(values)
        shown = f"best seed {high:.2f}"
    else:
        mean, low, high = t_interval(values)
        shown = f"{mean:.4g} (95% CI {low:.4g}–{high:.4g})"
    return interval_verdict(claim, low, high, shown)


def interval_verdict(claim: Claim, low: float, high: float, shown: str) -> str:
    """:func:`claim_verdict` once the measurement is an interval ``[low, high]`` (a single figure: ``low ==
    high``), written as ``shown``. An accuracy or a gain (in points) above the claim exceeded it, a loss below
    it did; the worse side, and either side of an epoch, did not reproduce it."""
    in_points = claim.quantity.endswith("%") or claim.quantity.endswith("(points)")
    unit = " points" if in_points else ""
    better = "above" if in_points else "below" if "loss" in claim.quantity else None
    low_claim, high_claim = claim.value - claim.resolution, claim.value + claim.resolution
    if high >= low_claim and (low <= high_claim or claim.statistic == "best"):  # a best seed above a best: met
        return f"reproduced: {shown}"
    side = "below" if high < low_claim else "above"
    gap = low_claim - high if side == "below" else low - high_claim
    return f"{'exceeded' if side == better else 'not reproduced'}: {shown}, {gap:.2g}{unit} {side} the claim"


def _measured(claim: Claim, values: list[float]) -> str:
    if claim.statistic == "each":
        return " / ".join(f"{v:g}" for v in values)
    return mean_std_text(values, 4 if claim.quantity == "test loss" else 2)


@lru_cache(maxsize=None)
def test_labels(dataset: str) -> np.ndarray:
    """The test labels of ``dataset`` (found as :func:`mnistlib.data.locate` finds the files)."""
    return load_arrays(dataset)["test_labels"]


def claim_rows(records: list[RunRecord], labels: dict[str, np.ndarray] | None = None,
               pending: dict[str, str] | None = None, ablation: list | None = None) -> list[dict]:
    """Every figure the sources report (their claims and parameter counts), what the study measured, and the
    verdict, one row each. ``pending``: models without runs and why (``"needs a GPU, about 40 min a
    seed"``), given a row per claim that says so. ``ablation``: the ablation's runs, for the claim it measures
    (:func:`decay_gain`). ``labels`` is accepted for symmetry with the summary."""
    by_model: dict[str, list[RunRecord]] = defaultdict(list)
    for r in records:
        if r.dataset == "mnist" and r.recipe is None:
            by_model[r.model].append(r)
    rows = []
    for model in list(by_model) + [m for m in (pending or {}) if m not in by_model]:
        info, runs = get_model_info(model), sorted(by_model.get(model, []), key=lambda r: r.seed)
        for claim in info.claims:
            row = {"model": model, "claim": claim.quantity, "reported": f"{claim.value:g}", "where": claim.where, "note": claim.note}
            if not runs:
                row.update(measured="-", verdict=f"pending: {pending[model]}")
            elif claim.quantity == DECAY_GAIN:
                measured, verdict = decay_gain(claim, ablation, runs[0].profile, runs[0].device == "cpu")
                row.update(measured=measured, verdict=verdict)
            else:
                values = CLAIM_MEASURES[claim.quantity](runs)
                row.update(measured=_measured(claim, values),
                           verdict=untested(runs[0].profile) or claim_verdict(claim, values))
            rows.append(row)
        if info.reported_params is not None:
            counted = runs[0].params if runs else info.count_params()
            rows.append({"model": model, "claim": "parameters", "reported": f"{info.reported_params:,}",
                         "where": "INT305 report, Table II" if "INT305" in info.source else info.source,
                         "note": "", "measured": f"{counted:,}",
                         "verdict": params_verdict(info.reported_params, counted)})
    return rows


def pending_models(records: list[RunRecord]) -> dict[str, str]:
    """Every model of the registry without an MNIST run of its source's recipe in ``records``, and why."""
    from .plan import pending_reason

    done = {r.model for r in records if r.dataset == "mnist" and r.recipe is None}
    return {m: pending_reason(m) for m in list_models() if m not in done}


def ablation_beside(out: Path) -> list:
    """The ablation's runs in ``<out>/../ablation/ablation.csv`` (``results/ablation`` beside
    ``results/full``), ``[]`` when there is none."""
    from .hyperparameters import load_ablation

    path = Path(out).parent / "ablation" / "ablation.csv"
    return load_ablation(path) if path.exists() else []


def write_study(records: list[RunRecord], out: Path, profile: str, labels: dict[str, np.ndarray],
                compare_with: str | Path | None = None) -> Path:
    """``summary.csv`` (one row per configuration) and ``summary.md`` (that table, then the claims, and with
    ``compare_with`` the comparison with that study's rows of the same configurations)."""
    rows = summarise_study(records, labels, profile)
    out.mkdir(parents=True, exist_ok=True)
    write_csv([dataclasses.asdict(r) for r in rows], out / "summary.csv")
    shown = [r.display() for r in rows]
    pending = pending_models(records)
    claims = claim_rows(records, labels, pending, ablation_beside(out))
    short = ["dataset", "model", "seeds", "reported test %", "measured test %", "min–max %", "95% t-interval %",
             "accuracy verdict", "reported params", "params", "params verdict", "epochs to best", "s/epoch",
             "inference img/s", "Δ vs shao_cnn (points, 95% CI)", "McNemar vs shao_cnn (seed 0)"]
    provenance = sorted({(r.device_name, r.torch, r.commit[:12]) for r in records})
    text = [f"# The full study, profile `{profile}`", "",
            "Measured by `python -m mnistlib reproduce`; selection on the 5,000-image validation split, one test "
            "evaluation per run. Mean ± sample std over seeds; the 95% t-interval is of that mean (none from one seed, "
            "and no verdict either). s/epoch: the median epoch of the median run (a first epoch also compiles). Δ (with its paired-bootstrap interval over the test images) and McNemar "
            "compare each configuration with `shao_cnn` under the paper's recipe on the same test images.", "",
            markdown_table(shown, short), "",
            "## Pending", "",
            *([f"- `{model}`: {reason}" for model, reason in pending.items()] or ["*(none: every model has runs)*"]),
            "", "## The sources' figures", "",
            markdown_table(claims) if claims else "*(no run of a source's recipe on MNIST)*", "",
            "## Provenance and reruns", "",
            *[f"- {device}, torch {torch_version}, commit `{commit}`" for device, torch_version, commit in provenance],
            "", markdown_table(shown, ["dataset", "model", "date", "rerun"]), ""]
    if compare_with is not None:
        text += device_section(rows, Path(compare_with))
    path = out / "summary.md"
    write_text("\n".join(text), path)
    return path


def device_section(rows: list[StudyRow], other: Path) -> list[str]:
    """The summary's lines comparing ``rows`` with the same configurations in the study at ``other``."""
    from .devices import compare_devices

    if not (other / "summary.csv").exists():
        raise FileNotFoundError(f"no summary.csv in {other}: compare with a study folder that has one "
                                f"(python -m mnistlib reproduce --summary-only --out {other})")
    comparisons = compare_devices(read_summary(other / "summary.csv"), rows)
    changed = [c.model for c in comparisons if not c.same_verdict]
    answer = (f"yes, for {', '.join(changed)}" if changed else "no") if comparisons else "nothing to compare yet"
    return ["## Does the device change the verdict?", "",
            f"These runs against the same configurations in `{other.parent.name}/{other.name}`. The seeds are numbered alike, but the runs "
            f"share neither their batch order (each device draws it with its own generator) nor, under different "
            f"torch versions, always their initial weights; the difference's interval is Welch's, for two "
            f"independent sets of seeds. Answer: **{answer}**.", "",
            markdown_table([c.display() for c in comparisons]) if comparisons else "", ""]


# ------------------------------------------------------------------------------------- for the book's pages

def read_runs(runs_dir: str | Path) -> list[RunRecord]:
    """The result JSONs in ``runs_dir``, in file-name order."""
    return [RunRecord.read(p) for p in sorted(Path(runs_dir).glob("*.json"))]


def load_records(folder: str | Path) -> list[RunRecord]:
    """The runs of a study folder (``<folder>/runs/*.json``) that its summary covers."""
    records = read_runs(Path(folder) / "runs")
    profiles = {r.profile for r in records}
    return [r for r in records if any(is_study_run(r, p) for p in profiles)]


def params_table(models: list[str] | None = None) -> list[dict]:
    """Every model's counted parameters beside its source's figure, with the verdict."""
    from ..models import count_params, get_model

    rows = []
    for name in models or list_models():
        info, counted = get_model_info(name), count_params(get_model(name))
        rows.append({"model": name, "counted": f"{counted:,}",
                     "reported": "-" if info.reported_params is None else f"{info.reported_params:,}",
                     "verdict": params_verdict(info.reported_params, counted)})
    return rows


def error_points(records: list[RunRecord]) -> list[dict]:
    """Points for :func:`mnistlib.course.plots.params_vs_error` and :func:`~mnistlib.course.plots.reported_vs_measured`:
    per MNIST configuration (a source's recipe, or the course's, labelled ``model (recipe)``), its measured
    mean test error (percent), the 95% t-interval of that mean (``None`` from one seed), the seeds, the
    parameters, and its source's reported error (source recipes only)."""
    by_config: dict[tuple[str, str | None], list[RunRecord]] = defaultdict(list)
    for r in records:
        if r.dataset == "mnist":
            by_config[(r.model, r.recipe)].append(r)
    points = []
    for (model, recipe), runs in by_config.items():
        info = get_model_info(model)
        errors = [100 - 100 * r.test_accuracy for r in runs]
        interval = t_interval(errors)
        reported = None if recipe is not None or info.reported_accuracy is None else 100 - info.reported_accuracy
        points.append({"model": model if recipe is None else f"{model} ({recipe})", "params": runs[0].params,
                       "error": statistics.fmean(errors), "seeds": len(runs),
                       "error_interval": None if interval is None else (interval[1], interval[2]),
                       "reported_params": (info.reported_params or runs[0].params) if reported is not None else None,
                       "reported_error": reported})
    return points
