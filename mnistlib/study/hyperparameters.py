"""The hyperparameter study that Shao et al.'s title promises (section 2.2), done on validation data.

Two ways over one search space, both on ``shao_cnn``:

- :func:`ablation_variants`: starting from the paper's configuration, change one hyperparameter at a time
  (batch size, kernel sizes of layers 2-3, batch norm, activation, learning rate, its decay, dropout,
  stride-2 convolutions vs max-pooling). Each variant is an ordinary training run, selected on validation.
- :func:`tune`: an Optuna study (TPE sampler, median pruner on the validation accuracy of each epoch) over
  the same space. Its storage is any URL Optuna accepts: a SQLite file by default; a journal file or a
  PostgreSQL database lets several workers or machines add trials to one study.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from .configuration import ABLATION_SEEDS, TUNING_OUT
from .record import RunRecord
from .run import train_run

MODEL = "shao_cnn"
DEFAULT_STORAGE_DIR = TUNING_OUT

# factor -> (where it goes, the values tried); the paper's choice is marked in PAPER.
FACTORS: dict[str, tuple[str, list]] = {
    "batch_size": ("config", [32, 64, 128, 256, 512, 1000, 2048, 4096]),
    "kernel": ("model", [3, 5, 6, 7]),  # layers 2 and 3 together
    "batch_norm": ("model", [True, False]),
    "activation": ("model", ["relu", "gelu", "sigmoid", "tanh"]),
    "lr": ("config", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]),
    "decay": ("config", [0.9, 0.95, 0.99, "none"]),  # per-epoch factor of the exponential schedule
    "dropout": ("model", [0.0, 0.2, 0.4, 0.6]),
    "downsample": ("model", ["stride", "maxpool"]),
}
STUDY_SEEDS = ABLATION_SEEDS  # seeds per variant of the committed ablation (results/ablation)
PAPER = {"batch_size": 1000, "kernel": 6, "batch_norm": True, "activation": "relu", "lr": 1e-3, "decay": 0.99,
         "dropout": 0.4, "downsample": "stride"}


@dataclass(frozen=True)
class Variant:
    """One configuration: builder arguments, config overrides and the tag naming its runs."""

    factor: str
    value: object
    model_kwargs: dict = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)

    @property
    def tag(self) -> str:
        return "paper" if self.factor == "paper" else f"{self.factor}={self.value}"


def settings(values: dict) -> tuple[dict, dict]:
    """``(model_kwargs, config overrides)`` for a full assignment of :data:`FACTORS`."""
    model_kwargs = {"kernel2": values["kernel"], "kernel3": values["kernel"], "batch_norm": values["batch_norm"],
                    "activation": values["activation"], "dropout": values["dropout"],
                    "downsample": values["downsample"]}
    decay = values["decay"]
    overrides = {"batch_size": values["batch_size"], "lr": values["lr"],
                 "schedule": "none" if decay == "none" else "exponential",
                 "gamma": 0.99 if decay == "none" else float(decay)}
    return model_kwargs, overrides


def ablation_variants(factors: list[str] | None = None) -> list[Variant]:
    """The paper's configuration, then every other value of each factor, one factor at a time."""
    unknown = set(factors or []) - set(FACTORS)
    if unknown:
        raise ValueError(f"unknown factor(s) {', '.join(sorted(unknown))}: choose from {', '.join(FACTORS)}")
    variants = [Variant("paper", "paper", *settings(PAPER))]
    for name in factors or FACTORS:
        for value in FACTORS[name][1]:
            if value != PAPER[name]:
                variants.append(Variant(name, value, *settings({**PAPER, name: value})))
    return variants


def run_ablation(profile: str, seeds: int, out: str | Path, factors: list[str] | None = None, device=None,
                 log=print, compile: bool = False, wait: bool = False, **overrides) -> list[AblationRun]:
    """Train every variant with ``seeds`` seeds, seed by seed (finished runs are read back, interrupted ones
    resume); returns one :class:`AblationRun` per run and rewrites ``<out>/ablation.csv`` after each, so that a
    long study's finished runs are readable (and committable) before it ends: the rows the file held before and
    this call has not reached yet stay in it (a study extended to more seeds never shows fewer runs). ``compile``: train through
    ``torch.compile`` (the CPU's fast path). ``overrides`` change the config of every variant (a live
    demonstration on a subset: ``train_subset=10_000``). It holds ``out``'s lock (:mod:`.lock`; ``wait``: wait
    for another runner on the same folder instead of stopping)."""
    from ..training.atomic_files import write_text
    from ..training.device import resolve_device
    from .lock import results_lock
    from .provenance import environment

    with results_lock(out, wait=wait):
        write_text(environment(resolve_device(device)), Path(out) / "environment.txt")
        csv = Path(out) / "ablation.csv"
        earlier = load_ablation(csv) if csv.exists() else []  # kept until this call reaches them again
        records = []
        for seed in range(seeds):  # seed by seed: every value of a factor gets its next seed before any its next
            for variant in ablation_variants(factors):
                record = train_run(MODEL, profile, out=out, reuse=True, seed=seed, device=device, quiet=True,
                                   log=None, model_kwargs=variant.model_kwargs, tag=variant.tag,
                                   compile=compile or None, **{**variant.overrides, **overrides})
                records.append(AblationRun.of(variant.factor, variant.value, record))
                reached = {(r.factor, r.value, r.seed) for r in records}
                write_ablation_csv(records + [r for r in earlier if (r.factor, r.value, r.seed) not in reached], csv)
                if log:
                    log(f"{variant.tag:24s} seed {seed}: val {100 * record.val_accuracy:.2f}% "
                        f"test {100 * record.test_accuracy:.2f}%")
        return records


# The INT305 report's changes to GECCO, one at a time (chapter 5): each step is a registered model with the
# report's recipe, so that the CPU study trains it like any other (label, model).
GECCO_VARIANTS = [
    ("GECCO (published)", "gecco"),
    ("+ extra dropout", "gecco_dropout"),
    ("+ feature attention", "gecco_dropout_attention"),
    ("+ L2 1e-4 (Enhanced GECCO)", "gecco_enhanced"),
    ("GECCO, complete graph", "gecco_complete"),
]


def gecco_ablation(profile: str, seeds: int, out: str | Path, device=None,
                   committed=None) -> tuple[list[dict], dict[str, RunRecord]]:
    """Each of :data:`GECCO_VARIANTS` with ``seeds`` seeds; returns the table rows (where the figures come
    from, parameters, weight decay, best epoch, test accuracy mean ± std) and each variant's seed 0.

    ``committed(model)`` returns the study's finished runs of a model's own recipe (``[]`` if none): a variant
    the study has finished is read from them; the others train under ``profile`` (finished runs are read
    back)."""
    from .report import mean_std_text

    rows, first = [], {}
    for label, name in GECCO_VARIANTS:
        runs = committed(name) if committed is not None else []
        if not runs:
            runs = [train_run(name, profile, out=out, resume=True, seed=s, device=device, log=None)
                    for s in range(seeds)]
        first[label] = runs[0]
        rows.append({"variant": label, "from": f"{runs[0].profile} profile, {len(runs)} seeds",
                     "parameters": f"{runs[0].params:,}", "weight decay": runs[0].config["weight_decay"],
                     "best epoch": runs[0].best_epoch,
                     "test accuracy %": mean_std_text([100 * r.test_accuracy for r in runs])})
    return rows, first


@dataclass(frozen=True)
class AblationRun:
    """One run of the ablation (or of the tuned configuration): a row of ``ablation.csv``, the file the
    book's chapter 4 reads. Accuracies are fractions; ``value`` is the factor's value as written."""

    factor: str
    value: str
    seed: int
    val_accuracy: float
    test_accuracy: float
    best_epoch: int
    epochs_run: int
    seconds_per_epoch: float
    device_name: str
    torch: str
    commit: str
    date: str
    profile: str

    @classmethod
    def of(cls, factor: str, value, record: RunRecord) -> AblationRun:
        """The row of one finished run of ``factor`` = ``value``."""
        values = {f.name: getattr(record, f.name) for f in dataclasses.fields(cls)[2:]}
        return cls(factor, str(value), **{**values, "seconds_per_epoch": record.median_epoch_seconds})

    @classmethod
    def from_csv_row(cls, row: dict[str, str]) -> AblationRun:
        """Parse one row of ``ablation.csv``; a missing column is an error that names the file's problem."""
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in row]
        if missing:
            raise ValueError(f"an ablation.csv row lacks {', '.join(missing)}: rewrite the file with "
                             f"`python -m mnistlib ablate` (it reads finished runs back)")
        types = {"seed": int, "best_epoch": int, "epochs_run": int, "val_accuracy": float, "test_accuracy": float,
                 "seconds_per_epoch": float}
        return cls(**{f.name: types.get(f.name, str)(row[f.name]) for f in dataclasses.fields(cls)})


def write_ablation_csv(runs: list[AblationRun], path: str | Path) -> Path:
    """One row per run (factor, value, seed, accuracies, provenance): what the book's chapter reads."""
    from .report import write_csv

    return write_csv([dataclasses.asdict(run) for run in runs], path, [f.name for f in dataclasses.fields(AblationRun)])


def suggest(trial) -> dict:
    """One assignment of :data:`FACTORS` drawn by an Optuna ``trial`` (learning rate and dropout continuous)."""
    values = {name: trial.suggest_categorical(name, values) for name, (_, values) in FACTORS.items()
              if name not in ("lr", "dropout")}
    values["lr"] = trial.suggest_float("lr", 1e-4, 1e-2, log=True)
    values["dropout"] = trial.suggest_float("dropout", 0.0, 0.6)
    return values


def default_storage(out: str | Path = DEFAULT_STORAGE_DIR) -> str:
    Path(out).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(out) / 'optuna.db'}"


def finished_trials(study) -> int:
    """Trials that ran to their end: completed or pruned (not failed, not still running or cut off)."""
    import optuna

    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return sum(t.state in done for t in study.trials)


def tune(profile: str, trials: int, *, storage: str | None = None, study_name: str = "shao_cnn",
         out: str | Path = DEFAULT_STORAGE_DIR, device=None, until: int | None = None, cuda_graph: bool = False,
         compile: bool = False, sampler_seed: int | None = None, log=print):
    """Add ``trials`` trials to the Optuna study ``study_name`` (created on first use) and return it; with
    ``until``, add as many as the study lacks to have ``until`` finished trials (:func:`finished_trials`), so
    that one command continues a study cut off in an earlier session. ``cuda_graph``: train each trial
    through the CUDA-graph replay; ``compile``: through ``torch.compile`` (the CPU's fast path); both change
    the execution only, not the computation. ``sampler_seed``: seed TPE's sampler with it plus the number of
    trials the study holds, so that a session proposes the same trials from the same history (and a later
    session does not draw its first ones again); leave it unset when several workers share the study, or
    workers seeded alike propose the same trials.

    Each trial trains with :func:`~mnistlib.study.run.train_run` on the validation split only (the test set is
    not touched), reports the validation accuracy after every epoch, and is pruned when it falls below
    the median of earlier trials at the same epoch.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = storage or default_storage(out)
    study = optuna.create_study(study_name=study_name, storage=storage, load_if_exists=True, direction="maximize",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))
    study.sampler = optuna.samplers.TPESampler(seed=None if sampler_seed is None else sampler_seed + len(study.trials))

    def objective(trial):
        model_kwargs, overrides = settings(suggest(trial))
        trial.set_user_attr("pid", os.getpid())

        def report(record):
            trial.report(record["val_accuracy"], record["epoch"])
            if trial.should_prune():
                raise optuna.TrialPruned()

        record = train_run(MODEL, profile, out=Path(out) / "trials", overwrite=True, device=device, quiet=True,
                           log=None, model_kwargs=model_kwargs, tag=f"{study_name}-trial{trial.number}",
                           evaluate_test=False, on_epoch_end=report, cuda_graph=cuda_graph or None,
                           compile=compile or None, **overrides)
        if log:
            log(f"trial {trial.number}: val {100 * record.val_accuracy:.2f}% with {trial.params}")
        return record.val_accuracy

    if until is not None:
        trials = max(0, until - finished_trials(study))
    if trials:
        study.optimize(objective, n_trials=trials)
    return study


def load_ablation(path: str | Path) -> list[AblationRun]:
    """The runs of an ``ablation.csv``."""
    import csv

    with open(path, newline="") as fh:
        return [AblationRun.from_csv_row(row) for row in csv.DictReader(fh)]


def _by_variant(runs: list[AblationRun]) -> dict[tuple[str, str], list[AblationRun]]:
    groups: dict[tuple[str, str], list[AblationRun]] = {}
    for run in runs:
        groups.setdefault((run.factor, run.value), []).append(run)
    return groups


@dataclass(frozen=True)
class Level:
    """One value of one factor (the paper's value included): its seeds' mean accuracy (percent) and the
    95% t-interval of that mean (``None`` from one seed)."""

    factor: str
    value: str
    seeds: int
    val: float
    val_interval: tuple[float, float] | None
    test: float
    test_interval: tuple[float, float] | None
    paper: bool
    val_runs: tuple[float, ...] = ()  # each seed's validation accuracy (percent), by seed
    collapsed_runs: tuple[bool, ...] = ()  # whether each seed's run stopped in its first epochs (:func:`collapsed`)

    @property
    def collapses(self) -> int:
        return sum(self.collapsed_runs)

    @property
    def median(self) -> float:
        """The median validation accuracy over the seeds (percent): the centre the rank test compares."""
        import statistics

        return statistics.median(self.val_runs)


COLLAPSE_EPOCHS = 5  # a run that stops by this epoch stopped in its first epochs (paper: best epoch 8 or later)


def collapsed(run: AblationRun) -> bool:
    """Whether a run stopped in its first epochs: early stopping (patience 2) ended it by epoch
    :data:`COLLAPSE_EPOCHS`, so its best epoch is the third or earlier; such runs end far below their level's
    others (chapter 4 shows each one)."""
    return run.epochs_run <= COLLAPSE_EPOCHS


def _level(factor: str, value: str, runs: list[AblationRun], paper: bool) -> Level:
    from .stats import t_interval

    runs = sorted(runs, key=lambda r: r.seed)
    val = [100 * r.val_accuracy for r in runs]
    test = [100 * r.test_accuracy for r in runs]
    interval = lambda values: None if (t := t_interval(values)) is None else (t[1], t[2])
    return Level(factor, value, len(runs), sum(val) / len(val), interval(val), sum(test) / len(test),
                 interval(test), paper, tuple(val), tuple(collapsed(r) for r in runs))


def levels(runs: list[AblationRun]) -> dict[str, list[Level]]:
    """Per factor measured, its levels: the paper's value (the ``paper`` runs) first, then the others."""
    groups = _by_variant(runs)
    paper = groups.get(("paper", "paper"), [])
    found: dict[str, list[Level]] = {}
    for factor in FACTORS:
        others = [(value, runs) for (f, value), runs in groups.items() if f == factor]
        if others:
            found[factor] = ([_level(factor, str(PAPER[factor]), paper, True)] if paper else []) + \
                            [_level(factor, value, runs, False) for value, runs in others]
    return found


def ablation_table(runs: list[AblationRun]) -> list[dict]:
    """Every level of every factor: seeds, runs that collapsed (:func:`collapsed`), the median validation
    accuracy (what the verdicts' rank test compares), mean validation and test accuracy with their 95%
    t-intervals."""
    shown = lambda mean, iv: f"{mean:.2f}" + ("" if iv is None else f" ({iv[0]:.2f}–{iv[1]:.2f})")
    table = []
    for factor, found in levels(runs).items():
        for level in found:
            table.append({"factor": factor, "value": level.value + (" (paper)" if level.paper else ""),
                          "seeds": level.seeds, "collapsed": level.collapses, "median val %": f"{level.median:.2f}",
                          "val % (95% CI)": shown(level.val, level.val_interval),
                          "test % (95% CI)": shown(level.test, level.test_interval)})
    return table


def provenance_line(runs: list[AblationRun]) -> str:
    """Where the committed ablation's runs come from: how many of the planned, on which devices and torch
    versions, from how many commits, over which dates (a study that several machines added to names them all)."""
    distinct = lambda values: list(dict.fromkeys(values))
    dates = sorted(r.date[:10] for r in runs)
    span = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    commits = distinct(r.commit for r in runs)
    devices = " and ".join(distinct(r.device_name for r in runs))
    return (f"{len(runs)} of {len(ablation_variants()) * STUDY_SEEDS} runs on {devices}, "
            f"torch {', '.join(distinct(r.torch for r in runs))}, "
            + (f"commit `{commits[0][:12]}`" if len(commits) == 1 else f"{len(commits)} commits") + f", {span}")


def steps_to_selection(runs: list[AblationRun]) -> list[dict]:
    """Per batch size of the ablation (the paper's 1,000 from its ``paper`` runs), smallest first: the optimiser
    steps in an epoch of the study's training images, each seed's selected epoch, and the median number of
    steps to it. An epoch is not a fixed amount of training: at batch 32 it is 1,719 steps, at 4,096 it is 14."""
    import statistics

    from ..data import TRAIN_SIZE, VAL_SIZE

    groups = _by_variant(runs)
    sizes = {int(value): group for (factor, value), group in groups.items() if factor == "batch_size"}
    if sizes and ("paper", "paper") in groups:
        sizes[PAPER["batch_size"]] = groups[("paper", "paper")]
    table = []
    for size, group in sorted(sizes.items()):
        per_epoch = -(-(TRAIN_SIZE - VAL_SIZE) // size)
        epochs = [r.best_epoch for r in sorted(group, key=lambda r: r.seed)]
        table.append({"batch size": f"{size}" + (" (paper)" if size == PAPER["batch_size"] else ""),
                      "steps an epoch": f"{per_epoch:,}", "selected epoch (each seed)": ", ".join(map(str, epochs)),
                      "median steps to it": f"{int(statistics.median(epochs) * per_epoch):,}"})
    return table


ALPHA = 0.05  # the level of every test below


def factor_verdict(found: list[Level]) -> str:
    """Whether a factor matters, by how much, and whether the paper's value of it is the best, on validation
    accuracy.

    Does it matter: a Kruskal-Wallis test over all its values (:func:`~.stats.kruskal_wallis_p`, by
    permutation). By how much: each other value's median difference from the paper's value, in points; a
    value marked "separated" also differs from the paper's in its own exact rank-sum test
    (:func:`~.stats.rank_sum_p`), Holm-corrected over the factor's values. Ranks, because a run that collapses
    (stops in its first epochs, :func:`collapsed`) is an outlier that would swamp a mean and its t-interval;
    exact or permutation p-values, because five seeds are too few for a large-sample approximation. No
    verdict from one seed, without the paper's runs, while some of the factor's values (:data:`FACTORS`) are
    unmeasured, or while some have fewer seeds than the others (it would change as the study runs).
    """
    from math import comb

    from .stats import holm, kruskal_wallis_p, rank_sum_p

    paper = next((level for level in found if level.paper), None)
    if paper is None:
        return "no verdict: the paper's configuration was not run"
    tried = FACTORS[paper.factor][1]
    if len(found) < len(tried):
        return f"no verdict yet: {len(found)} of its {len(tried)} values measured"
    most = max(level.seeds for level in found)
    lagging = [f"{level.value} has {level.seeds} of {most} seeds" for level in found if level.seeds < most]
    if lagging:
        return f"no verdict yet: {', '.join(lagging)}"
    if most < 2:
        return "no verdict: one seed per value gives no test"
    others = sorted((level for level in found if not level.paper), key=lambda level: level.median - paper.median)
    floor = 2 / comb(2 * most, most)  # two values: the smallest p an exact rank test can give with these seeds
    if len(found) == 2 and floor >= ALPHA:
        return (f"no verdict: with {most} seeds a two-valued factor cannot reach p < {ALPHA} (the smallest "
                f"possible p is {floor:.2f}); {others[0].value} {others[0].median - paper.median:+.2f} points "
                f"from the paper's {paper.value} (medians)")
    p_factor = kruskal_wallis_p([level.val_runs for level in found])
    separated = holm([rank_sum_p(level.val_runs, paper.val_runs) for level in others], ALPHA)
    shown = ", ".join(f"{level.value} {level.median - paper.median:+.2f}" + (" (separated)" if apart else "")
                      for level, apart in zip(others, separated))
    medians = f"median difference from the paper's {paper.value} ({paper.median:.2f}%), in points: {shown}"
    if p_factor >= ALPHA:
        return f"no difference detected at {most} seeds (rank test over its values, p = {p_factor:.2g}); {medians}"
    beaten = [level.value for level, apart in zip(others, separated) if apart and level.median > paper.median]
    verdict = f"the paper's {paper.value} is beaten by {', '.join(beaten)}" if beaten else \
        f"no value separated above the paper's {paper.value}"
    return f"matters (rank test over its values, p = {p_factor:.2g}); {verdict}; {medians}"


def verdicts(runs: list[AblationRun], profile: str | None = None) -> list[str]:
    """One line per factor measured: :func:`factor_verdict`, or none at all for runs outside the paper's
    recipe (``profile`` other than ``full``/``source``: they neither confirm nor refute it)."""
    if profile is not None and profile not in ("full", "source"):
        return [f"- *No verdicts: the {profile} profile is not the paper's recipe.*"]
    return [f"- **{factor}**: {factor_verdict(found)}." for factor, found in levels(runs).items()]


def decay_runs(runs: list[AblationRun]) -> tuple[list[AblationRun], list[AblationRun]]:
    """The runs with the paper's decay (its ``paper`` configuration) and without any (``decay=none``)."""
    groups = _by_variant(runs)
    return groups.get(("paper", "paper"), []), groups.get(("decay", "none"), [])


def decay_effect(runs: list[AblationRun]) -> tuple[float, tuple[float, float] | None] | None:
    """Test accuracy with the paper's decay minus without decay, in points (the paper claims +2.9), and the
    95% Welch interval of that difference (``None`` from one seed on either side)."""
    from .report import mean_std
    from .stats import welch_interval

    paper, none = decay_runs(runs)
    if not paper or not none:
        return None
    sample = lambda group: (*mean_std([100 * r.test_accuracy for r in group]), len(group))
    with_decay, without = sample(paper), sample(none)
    interval = welch_interval(without, with_decay)
    return with_decay[0] - without[0], None if interval is None else interval[1:]


def decay_sentence(runs: list[AblationRun]) -> str | None:
    """The paper's claimed gain from learning-rate decay beside the measured one (``None`` until both the
    paper's runs and the no-decay runs exist)."""
    from ..models import get_model_info

    effect = decay_effect(runs)
    if effect is None:
        return None
    diff, interval = effect
    claimed = get_model_info(MODEL).claim("gain from learning-rate decay (points)").value
    return (f"The paper credits learning-rate decay with **+{claimed}** points of test accuracy; here decay 0.99 "
            f"vs none gives **{diff:+.2f}** points"
            + ("" if interval is None else f" (95% CI {interval[0]:+.2f} to {interval[1]:+.2f})") + ".")


def write_ablation_summary(runs: list[AblationRun], out: str | Path, profile: str) -> Path:
    """``<out>/summary.csv`` (each level of each factor) and ``<out>/summary.md`` (the same table, how many of
    the planned runs it holds, each factor's verdict and the decay effect); returns the Markdown path."""
    from ..training.atomic_files import write_text
    from .report import markdown_table, write_csv

    out = Path(out)
    table = ablation_table(runs)
    planned = len(ablation_variants()) * STUDY_SEEDS
    lines = [f"# Shao et al.'s hyperparameters, one at a time (profile `{profile}`)", "",
             f"{len(runs)} runs ({planned} planned: {len(ablation_variants())} configurations, {STUDY_SEEDS} "
             "seeds each). Each run is selected on the validation split and tested once; a level's figures are "
             "its seeds' mean with the 95% t-interval of that mean.", ""]
    if table:
        write_csv(table, out / "summary.csv")
        lines += [markdown_table(table), "", "## Verdicts (validation accuracy)", "", *verdicts(runs, profile)]
    sentence = decay_sentence(runs)
    lines += ["", sentence] if sentence else []
    return write_text("\n".join(lines) + "\n", out / "summary.md")


def tuning_summary(storage: str | Path, study_name: str = MODEL) -> tuple[str, list[dict]]:
    """``(headline, importances)`` of an Optuna study: how many trials finished, the best validation accuracy
    and its configuration; each hyperparameter's importance (Optuna's fANOVA), largest first. ``storage``: a
    storage URL or the path of a SQLite file."""
    import optuna

    url = storage if "://" in str(storage) else f"sqlite:///{storage}"
    study = optuna.load_study(study_name=study_name, storage=url)
    states = [t.state for t in study.trials]
    completed, pruned = states.count(optuna.trial.TrialState.COMPLETE), states.count(optuna.trial.TrialState.PRUNED)
    if not completed:
        return f"{len(study.trials)} trials, none completed yet.", []
    headline = (f"{len(study.trials)} trials ({completed} completed, {pruned} stopped early by the median pruner); "
                f"best validation accuracy {100 * study.best_value:.2f}% with `{study.best_params}`.")
    importances = optuna.importance.get_param_importances(study) if completed > 1 else {}
    return headline, [{"hyperparameter": name, "importance": f"{value:.3f}"} for name, value in importances.items()]


def importances_beside_ablation(importances: list[dict], runs: list[AblationRun]) -> list[dict]:
    """Optuna's importance of each factor (rows of :func:`tuning_summary`) beside what the one-at-a-time
    ablation measured of it: the value whose median validation accuracy lies furthest from the paper's value's
    (in points) and how many of the factor's other values' runs collapsed. The two answer different questions:
    fANOVA spreads the variance of the trials' accuracy over the factors, across the whole space TPE explored;
    the ablation moves one factor away from the paper's configuration."""
    found = levels(runs)
    table = []
    for row in importances:
        paper = next((level for level in found.get(row["hyperparameter"], []) if level.paper), None)
        others = [level for level in found.get(row["hyperparameter"], []) if not level.paper]
        far = max(others, key=lambda level: abs(level.median - paper.median)) if paper and others else None
        table.append({**row, "ablation: furthest value (median, points from the paper's)":
                      f"{far.value}: {far.median - paper.median:+.2f}" if far else "-",
                      "ablation: collapsed runs": sum(level.collapses for level in others) if others else "-"})
    return table


def retrain_best(study, profile: str, seeds: int, out: str | Path, device=None, cuda_graph: bool = False,
                 compile: bool = False, log=print) -> list[AblationRun]:
    """Train the study's best configuration with seeds ``0..seeds-1``, this time evaluating the test set
    once per run, and write ``<out>/best.csv`` (the chapter sets it beside the paper's claim). A seed whose
    run finished (its record is there, of the same configuration) is read back, not trained again."""
    model_kwargs, overrides = settings({**PAPER, **study.best_params})
    records = []
    for seed in range(seeds):
        record = train_run(MODEL, profile, out=out, reuse=True, seed=seed, device=device, quiet=True, log=None,
                           model_kwargs=model_kwargs, tag="tuned", cuda_graph=cuda_graph or None,
                           compile=compile or None, **overrides)
        records.append(AblationRun.of("tuned", str(study.best_params), record))
        if log:
            log(f"tuned configuration, seed {seed}: val {100 * record.val_accuracy:.2f}% "
                f"test {100 * record.test_accuracy:.2f}%")
    write_ablation_csv(records, Path(out) / "best.csv")
    return records
