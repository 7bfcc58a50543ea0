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

import os
from dataclasses import dataclass, field
from pathlib import Path

from .record import RunRecord
from .run import train_run

MODEL = "shao_cnn"
DEFAULT_STORAGE_DIR = Path("results") / "hpo"

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
                 log=print, compile: bool = False) -> list[dict]:
    """Train every variant with ``seeds`` seeds (finished runs are read back, interrupted ones resume);
    returns one :func:`ablation_row` per run. ``compile``: train through ``torch.compile`` (the CPU's fast path)."""
    records = []
    for variant in ablation_variants(factors):
        for seed in range(seeds):
            record = train_run(MODEL, profile, out=out, reuse=True, seed=seed, device=device, quiet=True,
                               log=None, model_kwargs=variant.model_kwargs, tag=variant.tag,
                               compile=compile or None, **variant.overrides)
            records.append(ablation_row(variant.factor, variant.value, record))
            if log:
                log(f"{variant.tag:24s} seed {seed}: val {100 * record.val_accuracy:.2f}% "
                    f"test {100 * record.test_accuracy:.2f}%")
    return records


ABLATION_COLUMNS = ("factor", "value", "seed", "val_accuracy", "test_accuracy", "best_epoch", "epochs_run",
                    "seconds_per_epoch", "device_name", "torch", "commit", "date")


def ablation_row(factor: str, value, record: RunRecord) -> dict:
    """The row of ``ablation.csv`` for one run: its factor and value, then :data:`ABLATION_COLUMNS`."""
    return {"factor": factor, "value": value, **{c: getattr(record, c) for c in ABLATION_COLUMNS[2:]}}


def write_ablation_csv(records: list[dict], path: str | Path) -> Path:
    """One row per run (factor, value, seed, accuracies, provenance): what the book's chapter reads."""
    from .report import write_csv

    return write_csv(records, path, ABLATION_COLUMNS)


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


def tune(profile: str, trials: int, *, storage: str | None = None, study_name: str = "shao_cnn",
         out: str | Path = DEFAULT_STORAGE_DIR, device=None, log=print):
    """Add ``trials`` trials to the Optuna study ``study_name`` (created on first use) and return it.

    Each trial trains with :func:`~mnistlib.study.run.train_run` on the validation split only (the test set is
    not touched), reports the validation accuracy after every epoch, and is pruned when it falls below
    the median of earlier trials at the same epoch.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = storage or default_storage(out)
    study = optuna.create_study(study_name=study_name, storage=storage, load_if_exists=True, direction="maximize",
                                sampler=optuna.samplers.TPESampler(), pruner=optuna.pruners.MedianPruner(
                                    n_startup_trials=3, n_warmup_steps=1))

    def objective(trial):
        model_kwargs, overrides = settings(suggest(trial))
        trial.set_user_attr("pid", os.getpid())

        def report(record):
            trial.report(record["val_accuracy"], record["epoch"])
            if trial.should_prune():
                raise optuna.TrialPruned()

        record = train_run(MODEL, profile, out=Path(out) / "trials", overwrite=True, device=device, quiet=True,
                           log=None, model_kwargs=model_kwargs, tag=f"{study_name}-trial{trial.number}",
                           evaluate_test=False, on_epoch_end=report, **overrides)
        if log:
            log(f"trial {trial.number}: val {100 * record.val_accuracy:.2f}% with {trial.params}")
        return record.val_accuracy

    study.optimize(objective, n_trials=trials)
    return study


def load_ablation(path: str | Path) -> list[dict]:
    """Rows of an ``ablation.csv`` with numbers parsed."""
    import csv

    rows = list(csv.DictReader(open(path)))
    for row in rows:
        for key in ("val_accuracy", "test_accuracy", "seconds_per_epoch"):
            row[key] = float(row[key])
        row["seed"] = int(row["seed"])
    return rows


def _by_variant(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["factor"], str(row["value"])), []).append(row)
    return groups


def ablation_table(rows: list[dict]) -> list[dict]:
    """Mean ± std over seeds of validation and test accuracy (percent) for every variant."""
    from .report import mean_std

    table = []
    for (factor, value), runs in _by_variant(rows).items():
        val, val_sd = mean_std([100 * r["val_accuracy"] for r in runs])
        test, test_sd = mean_std([100 * r["test_accuracy"] for r in runs])
        table.append({"factor": factor, "value": value, "seeds": len(runs), "val %": f"{val:.2f} ± {val_sd:.2f}",
                      "test %": f"{test:.2f} ± {test_sd:.2f}"})
    return table


def verdicts(rows: list[dict]) -> list[str]:
    """For each factor measured, whether the paper's value is supported: it is when its mean validation
    accuracy is the best, or within one standard deviation (over seeds) of the best value's."""
    from .report import mean_std

    groups = _by_variant(rows)
    paper = groups.get(("paper", "paper"))
    if not paper:
        return []
    lines = []
    for factor in FACTORS:
        options = {value: runs for (f, value), runs in groups.items() if f == factor}
        if not options:
            continue
        options[str(PAPER[factor])] = paper
        stats = {value: mean_std([100 * r["val_accuracy"] for r in runs]) for value, runs in options.items()}
        best = max(stats, key=lambda v: stats[v][0])
        mine = stats[str(PAPER[factor])]
        supported = best == str(PAPER[factor]) or stats[best][0] - mine[0] <= max(stats[best][1], mine[1])
        lines.append(f"- **{factor}**: the paper's {PAPER[factor]} gives {mine[0]:.2f}% on validation; the best "
                     f"value measured is {best} ({stats[best][0]:.2f}%): "
                     f"{'supported' if supported else 'not supported'}.")
    return lines


def decay_effect(rows: list[dict]) -> float | None:
    """Test accuracy with the paper's decay minus without decay, in points (the paper claims +2.9)."""
    from .report import mean_std

    groups = _by_variant(rows)
    if ("decay", "none") not in groups or ("paper", "paper") not in groups:
        return None
    with_decay = mean_std([100 * r["test_accuracy"] for r in groups[("paper", "paper")]])[0]
    without = mean_std([100 * r["test_accuracy"] for r in groups[("decay", "none")]])[0]
    return with_decay - without


def retrain_best(study, profile: str, seeds: int, out: str | Path, device=None, log=print) -> list[dict]:
    """Train the study's best configuration with seeds ``0..seeds-1``, this time evaluating the test set
    once per run, and write ``<out>/best.csv`` (the chapter sets it beside the paper's claim)."""
    model_kwargs, overrides = settings({**PAPER, **study.best_params})
    records = []
    for seed in range(seeds):
        record = train_run(MODEL, profile, out=out, resume=True, seed=seed, device=device, quiet=True, log=None,
                           model_kwargs=model_kwargs, tag="tuned", **overrides)
        records.append(ablation_row("tuned", str(study.best_params), record))
        if log:
            log(f"tuned configuration, seed {seed}: val {100 * record.val_accuracy:.2f}% "
                f"test {100 * record.test_accuracy:.2f}%")
    write_ablation_csv(records, Path(out) / "best.csv")
    return records
