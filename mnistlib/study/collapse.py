"""Why some of the ablation's runs collapse: one hypothesis, tested (issue 30).

A collapsed run (:func:`mnistlib.study.hyperparameters.collapsed`) stops in its first epochs, far below its
level's other seeds. The paper's recipe stops after 2 epochs without a lower validation loss (patience 2), and
its batch norm keeps Keras's momentum (``running = 0.99 running + 0.01 batch``), so while the weights still
change fast the running statistics that validation uses lag the ones the weights produce. The hypothesis:
*the network was not broken; its validation score was, for an epoch or two, and early stopping believed it.*

Each collapsed run is trained again here from its record's config, identical but with early stopping off, for
:data:`CONTINUED_EPOCHS` epochs. That one run answers three questions:

- ``retrained``: the validation accuracy at the original selected epoch (equal to the record's: the same run);
- ``batch_statistics``: the same weights with the batch-norm statistics recomputed on the training images at
  those weights (:func:`mnistlib.training.with_batch_statistics`): high when the running statistics lagged;
- ``continued``: the best validation accuracy when the run is not stopped: high when it would have recovered.

Nothing here touches the test set. The checks land in ``<ablation>/collapses.csv``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from .configuration import ABLATION_OUT
from .record import RunRecord

CONTINUED_EPOCHS = 12  # how far a collapsed run is continued without early stopping
FILE = "collapses.csv"


@dataclass(frozen=True)
class CollapseCheck:
    """One collapsed run, tested; accuracies are validation percent."""

    factor: str
    value: str
    seed: int
    stopped_after: int  # epochs the original run trained
    selected_epoch: int
    recorded: float
    retrained: float
    batch_statistics: float
    continued: float
    continued_epoch: int

    @property
    def lagged(self) -> bool:
        """Whether recomputed batch-norm statistics recover at least half of what continuing recovers."""
        return self.batch_statistics - self.recorded >= 0.5 * max(self.continued - self.recorded, 0.0)


class _Enough(Exception):
    """Raised by the epoch callback to end a continued run at :data:`CONTINUED_EPOCHS`."""


def check_collapse(record: RunRecord, factor: str, value: str, device=None, epochs: int = CONTINUED_EPOCHS) -> CollapseCheck:
    """Train ``record``'s run again without early stopping and measure the three figures of the module's doc."""
    from ..data import load_data
    from ..models import get_model_info
    from ..training import TrainConfig, fit, loss_and_accuracy, resolve_device, with_batch_statistics
    from .run import initial_model, normalization

    config = dataclasses.replace(TrainConfig.from_dict(record.config), patience=None)
    dev = resolve_device(device)
    data = load_data(record.dataset, device=dev, normalize=normalization(get_model_info(record.model), record.dataset),
                     split_seed=record.data.get("split_seed", 0), train_subset=config.train_subset,
                     val_subset=config.val_subset)
    model = initial_model(record.model, record.model_kwargs, config.seed)
    seen: dict[str, float] = {}

    def at_epoch_end(history: dict) -> None:
        if history["epoch"] == record.best_epoch:  # the model holds the weights the original run selected
            seen["retrained"] = 100 * history["val_accuracy"]
            fresh = with_batch_statistics(model, data.train)
            seen["batch_statistics"] = 100 * loss_and_accuracy(fresh, data.val)[1]
        if history["epoch"] >= epochs:
            raise _Enough

    result_history: list[dict] = []
    try:
        fit(model, data, config, quiet=True, on_epoch_end=lambda h: (result_history.append(h), at_epoch_end(h)))
    except _Enough:
        pass
    best = max(result_history, key=lambda h: h["val_accuracy"])
    return CollapseCheck(factor, value, record.seed, record.epochs_run, record.best_epoch, 100 * record.val_accuracy,
                         seen["retrained"], seen["batch_statistics"], 100 * best["val_accuracy"], best["epoch"])


def check_collapses(out: str | Path = ABLATION_OUT, device=None, log=print) -> list[CollapseCheck]:
    """Test every collapsed run of the ablation in ``out`` (checks already in ``collapses.csv`` are read
    back); rewrites the file after each."""
    from .hyperparameters import MODEL, ablation_variants, collapsed, load_ablation
    from .lock import results_lock
    from .run import run_name

    out = Path(out)
    tags = {(v.factor, v.value): v.tag for v in ablation_variants()}
    done = {(c.factor, c.value, c.seed): c for c in load_collapses(out)}
    checks = []
    with results_lock(out):
        for run in (r for r in load_ablation(out / "ablation.csv") if collapsed(r) and (r.factor, r.value) in tags):
            key = (run.factor, run.value, run.seed)
            if key not in done:
                name = run_name(MODEL, "full", run.seed, "mnist", tags[(run.factor, run.value)])
                done[key] = check_collapse(RunRecord.read(out / f"{name}.json"), run.factor, run.value, device)
                if log:
                    c = done[key]
                    log(f"{run.factor}={run.value} seed {run.seed}: recorded {c.recorded:.2f}%, retrained "
                        f"{c.retrained:.2f}%, batch statistics {c.batch_statistics:.2f}%, continued {c.continued:.2f}% "
                        f"(epoch {c.continued_epoch})")
            checks.append(done[key])
            write_collapses(checks, out)
    return checks


def write_collapses(checks: list[CollapseCheck], out: str | Path) -> Path:
    from .report import write_csv

    return write_csv([{**dataclasses.asdict(c), "lagged": c.lagged} for c in checks], Path(out) / FILE)


def load_collapses(out: str | Path = ABLATION_OUT) -> list[CollapseCheck]:
    """The committed checks (``[]`` when there are none)."""
    import csv

    path = Path(out) / FILE
    if not path.exists():
        return []
    kinds = {f.name: f.type for f in dataclasses.fields(CollapseCheck)}
    cast = {"str": str, "int": int, "float": float}
    with open(path, newline="") as fh:
        return [CollapseCheck(**{k: cast[kinds[k]](row[k]) for k in kinds}) for row in csv.DictReader(fh)]
