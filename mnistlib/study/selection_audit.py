"""What choosing the epoch on the test set adds: an audit, never a verdict.

Two of the sources' codes report a figure read off the test set during training: GECCO's ``train.py``
evaluates the first 64 test images after every epoch and keeps checkpoints by epoch number, and SpinalNet's
VGG script prints the best test accuracy over the epochs (it even redraws its learning rate whenever the
test accuracy fails to improve). The course selects on its validation split and touches the test set once.

The audit measures the difference on the course's own runs. Each audited run trains exactly as the study's
(validation selects the epoch and stops early) and, beside it, records the test accuracy after every epoch
(``watch_accuracy``; :func:`mnistlib.training.loop.fit`'s ``watch``). From one run:

- ``selected``: the test accuracy of the validation-selected epoch (the study's figure);
- ``best``: the best test accuracy over the epochs (what a test-selected report would print);
- ``last``: the test accuracy of the last epoch (what a script without any selection keeps).

``best - selected`` is what test selection adds. These runs live in their own folder
(``results/selection_audit``) under the tag ``test-audit``; no summary or verdict reads them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from .configuration import AUDIT_OUT, AUDITED_SEEDS
from .record import RunRecord
from .report import markdown_table, mean_std_text, write_csv
from .run import train_run

TAG = "test-audit"


@dataclass(frozen=True)
class AuditedRun:
    """One audited run: accuracies are percent; epochs count from 1."""

    model: str
    seed: int
    selected_epoch: int
    selected: float
    best_epoch: int
    best: float
    last_epoch: int
    last: float

    @property
    def gain(self) -> float:
        """Points that choosing the epoch on the test set adds over choosing it on validation."""
        return self.best - self.selected

    @classmethod
    def of(cls, record: RunRecord) -> AuditedRun:
        """The audit of one finished run that watched the test set (``watch_accuracy`` in every epoch)."""
        watched = [(h["epoch"], 100 * h["watch_accuracy"]) for h in record.history if "watch_accuracy" in h]
        if len(watched) != len(record.history) or not watched:
            raise ValueError(f"{record.model} seed {record.seed}: the run did not watch the test set every epoch "
                             f"(train it with watch_test=True)")
        best_epoch, best = max(watched, key=lambda pair: pair[1])  # the first epoch of the best figure
        return cls(record.model, record.seed, record.best_epoch, 100 * record.test_accuracy, best_epoch, best,
                   watched[-1][0], watched[-1][1])


def audit_selection(seeds: dict[str, int] | None = None, out: str | Path = AUDIT_OUT, *, profile: str = "full",
                    device=None, compile: bool = False, log=print) -> list[AuditedRun]:
    """Train (or read back) each audited model's runs under ``profile`` with the test set watched, and write
    ``<out>/audit.csv`` and ``<out>/audit.md`` after each run. ``seeds``: model -> seeds (default
    :data:`~mnistlib.study.configuration.AUDITED_SEEDS`)."""
    from .lock import results_lock

    out = Path(out)
    audited = []
    with results_lock(out):
        for model, count in (seeds or AUDITED_SEEDS).items():
            for seed in range(count):
                record = train_run(model, profile, out=out / "runs", reuse=True, seed=seed, device=device,
                                   quiet=True, log=None, tag=TAG, watch_test=True, compile=compile or None)
                audited.append(AuditedRun.of(record))
                write_audit(audited, out)
                if log:
                    run = audited[-1]
                    log(f"{model} seed {seed}: validation-selected {run.selected:.2f}% (epoch {run.selected_epoch}), "
                        f"best test {run.best:.2f}% (epoch {run.best_epoch}), last {run.last:.2f}%")
    return audited


def audit_table(audited: list[AuditedRun]) -> list[dict]:
    """Per model: runs, the three figures (mean ± std over seeds) and what test selection adds."""
    rows = []
    for model in dict.fromkeys(run.model for run in audited):
        runs = [run for run in audited if run.model == model]
        figure = lambda attribute: mean_std_text([getattr(run, attribute) for run in runs])
        rows.append({"model": model, "runs": len(runs), "validation-selected test %": figure("selected"),
                     "best test epoch's %": figure("best"), "last epoch's %": figure("last"),
                     "test selection adds (points)": mean_std_text([run.gain for run in runs]),
                     "largest gain (points)": f"{max(run.gain for run in runs):.2f}"})
    return rows


def write_audit(audited: list[AuditedRun], out: str | Path) -> Path:
    """``audit.csv`` (one row per run) and ``audit.md`` (the per-model table); returns the Markdown's path."""
    from ..training.atomic_files import write_text

    out = Path(out)
    write_csv([{**dataclasses.asdict(run), "gain": run.gain} for run in audited], out / "audit.csv")
    text = ["# What choosing the epoch on the test set adds", "",
            "Measured by `python -m mnistlib audit-selection`: each run selects its epoch on the validation split, as "
            "the study does, and also records its test accuracy after every epoch. This is an audit: no verdict "
            "uses these runs.", "", markdown_table(audit_table(audited)), ""]
    return write_text("\n".join(text), out / "audit.md")


def load_audit(out: str | Path = AUDIT_OUT) -> list[AuditedRun]:
    """The committed audit's runs (``[]`` when there is none)."""
    import csv

    path = Path(out) / "audit.csv"
    if not path.exists():
        return []
    kind = lambda name: str if name == "model" else int if name == "seed" or name.endswith("epoch") else float
    with open(path, newline="") as fh:
        return [AuditedRun(**{f.name: kind(f.name)(row[f.name]) for f in dataclasses.fields(AuditedRun)})
                for row in csv.DictReader(fh)]
