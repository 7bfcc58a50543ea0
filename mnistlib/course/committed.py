"""What the book reads instead of training: the committed study (``results/full``), its run records, its
summary and the weights-only state dicts of its seed-0 runs.

A chapter shows the study's verdicts from these files and trains live only what it demonstrates (a short run
whose loss curve moves). Where the study has not run a configuration yet, these functions return nothing and
the chapter says "pending".
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from ..data import load_data
from ..models import get_model, get_model_info
from ..study.hyperparameters import AblationRun
from ..study.record import RunRecord
from ..study import StudyRow, load_records, read_summary, registry
from ..study.run import normalization
from ..training.device import resolve_device
from .notebook import find_results

STUDY = "full"  # the committed study the book reads: results/full
GPU_STUDY = "gpu"  # the GPU's runs of configurations the CPU study also has: results/gpu


def study_folder() -> Path | None:
    """``results/full`` when its summary is committed, else ``None``."""
    summary = find_results(STUDY, "summary.csv")
    return None if summary is None else summary.parent


def study_records() -> list[RunRecord]:
    """Every run the committed study's summary covers (``[]`` when nothing is committed)."""
    folder = study_folder()
    return [] if folder is None else load_records(folder)


def study_rows() -> list[StudyRow]:
    """The committed ``summary.csv``, one row per (dataset, configuration)."""
    folder = study_folder()
    return [] if folder is None else read_summary(folder / "summary.csv")


def study_claims(records: list[RunRecord], pending: bool = False) -> list[dict]:
    """The sources' figures judged on ``records`` (:func:`mnistlib.study.claims.claim_rows`), the decay
    claim on the committed ablation; ``pending``: a row for each model without runs, saying why."""
    from ..study import ablation_beside, claim_rows, pending_models

    folder = study_folder()
    return claim_rows(records, pending=pending_models(records) if pending else None,
                      ablation=ablation_beside(folder) if folder is not None else None)


def device_comparison() -> list:
    """The CPU study's configurations that a GPU also trained, compared (:func:`mnistlib.study.device_comparison.compare_devices`);
    ``[]`` while ``results/gpu`` is not committed."""
    from ..study.device_comparison import compare_devices

    gpu = find_results(GPU_STUDY, "summary.csv")
    return [] if gpu is None else compare_devices(study_rows(), read_summary(gpu))


def mixed_devices() -> list:
    """The committed study's configurations whose seeds ran on more than one kind of device, each judged
    against its seed spread (:class:`mnistlib.study.MixedDevices`)."""
    from ..study import mixed_devices as mixed

    return mixed(study_records())


def study_runs(model: str, recipe: str | None = None, dataset: str = "mnist") -> list[RunRecord]:
    """The committed runs of one configuration, by seed (``[]`` while it is pending)."""
    runs = [r for r in study_records() if r.model == model and r.recipe == recipe and r.dataset == dataset]
    return sorted(runs, key=lambda r: r.seed)


def committed_model(record: RunRecord, device=None):
    """The trained network of a committed run, from its weights-only state dict, with the test data as the
    run saw it (its normalisation and split): ``(model in eval mode, data)``, or ``None`` when the run has no
    committed weights (seeds other than 0, models over 2 MB). The weights are resolved by name in the study's
    registry (:mod:`mnistlib.study.weights`), which refuses a file that changed since it was committed."""
    folder = study_folder()
    name = Path(record.checkpoint).stem
    weights = None if folder is None else registry(folder).get(name)
    if weights is None:
        return None
    dev = resolve_device(device)
    model = weights.build(dev)
    info = get_model_info(record.model)
    data = load_data(record.dataset, device=dev, normalize=normalization(info, record.dataset),
                     split_seed=record.data.get("split_seed", 0))
    return model, data


def describe(runs: list[RunRecord]) -> str:
    """"5 seeds on <device>, torch <version>": where committed figures come from, in a few words."""
    if not runs:
        return "no committed run"
    devices = sorted({r.device_name for r in runs})
    return (f"{len(runs)} seed{'s' if len(runs) != 1 else ''} on {', '.join(devices)}, torch {runs[0].torch}, "
            f"{runs[0].date[:10]}")


@dataclass(frozen=True)
class BatchNormCheck:
    """A committed run's selected weights on the validation split, ``(loss, accuracy)`` evaluated with the
    running batch-norm statistics that training left (``running``) and with statistics recomputed over the
    training images at the same weights (``recomputed``, :func:`~mnistlib.training.evaluate.with_batch_statistics`)."""

    record: RunRecord
    running: tuple[float, float]
    recomputed: tuple[float, float]

    def setting(self) -> str:
        """The recipe's numbers behind the lag, read from the run: steps an epoch, the early stop's patience,
        and how fast the running averages forget (each step keeps ``1 - momentum`` of the old value)."""
        r = self.record
        model = get_model(r.model, **r.model_kwargs)
        momentum = next(m.momentum for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))
        steps = -(-r.data["train"] // r.config["batch_size"])
        return (f"Under this recipe an epoch is {steps} steps (batch {r.config['batch_size']:,} of "
                f"{r.data['train']:,} training images), the early stop waits {r.config['patience']} epochs without a "
                f"lower validation loss, and each step keeps {1 - momentum:.2f} of every running average: it forgets "
                f"over about {1 / momentum:.0f} steps, {1 / momentum / steps:.1f} epochs.")

    def display(self) -> dict[str, str]:
        """One row of the chapter's table."""
        r = self.record
        return {"dataset": r.dataset, "seed": str(r.seed), "epochs run": str(r.epochs_run),
                "selected epoch": str(r.best_epoch),
                "val % (running statistics)": f"{100 * self.running[1]:.2f}",
                "val % (recomputed)": f"{100 * self.recomputed[1]:.2f}",
                "val loss (running → recomputed)": f"{self.running[0]:.4f} → {self.recomputed[0]:.4f}"}


# Under the smoke profile (whose figures are not results) the chapters' live measurements of committed networks
# read the first images of a split only: the batch-norm check's training images, the batch audit's test images.
SMOKE_TRAIN_IMAGES, SMOKE_TEST_IMAGES = 5000, 2000


def batch_norm_check(record: RunRecord, device=None, profile: str = "full") -> BatchNormCheck | None:
    """:class:`BatchNormCheck` of a committed run (``None`` when its weights are not committed). The statistics
    are recomputed over every training image (the first :data:`SMOKE_TRAIN_IMAGES` under the smoke profile)."""
    from ..training.evaluate import loss_and_accuracy, with_batch_statistics

    found = committed_model(record, device)
    if found is None:
        return None
    model, data = found
    train = data.train.head(SMOKE_TRAIN_IMAGES) if profile == "smoke" else data.train
    return BatchNormCheck(record, loss_and_accuracy(model, data.val),
                          loss_and_accuracy(with_batch_statistics(model, train), data.val))


def batch_norm_checks(model: str = "shao_cnn", recipe: str | None = None,
                      datasets: tuple[str, ...] = ("mnist", "fashion_mnist"),
                      profile: str = "full") -> tuple[list[BatchNormCheck], list[str]]:
    """:func:`batch_norm_check` of each dataset's committed seed 0 of one configuration, and a line for each
    dataset that could not be checked (no committed run or weights, or its files are not on this machine)."""
    from ..data import DataError

    checks, missing = [], []
    for dataset in datasets:
        runs = study_runs(model, recipe, dataset)
        try:
            check = batch_norm_check(runs[0], profile=profile) if runs else None
        except DataError as exc:
            missing.append(f"{dataset}: {exc}")
            continue
        if check is None:
            missing.append(f"{dataset}: pending (no committed seed-0 weights yet)")
        else:
            checks.append(check)
    return checks, missing


def trained_model(record: RunRecord, device=None):
    """``(model, data)`` of any run: a committed run's weights when they are committed, else the checkpoint
    its record names (a run this build trained)."""
    from ..study.run import load_trained

    found = committed_model(record, device)
    if found is not None:
        return found
    _, model, data, _ = load_trained(record.checkpoint, device=device)
    return model.eval(), data


def tuned_against_recipes(tuned: list[AblationRun]) -> list[dict]:
    """The Optuna study's best configuration (its retrained seeds) beside both committed recipes of the same network and the paper's claim: one row each, test accuracy as
    mean ± std with n."""
    from ..study.report import mean_std_text

    rows = [{"configuration": "Shao et al., as reported", "test %": f"{get_model_info('shao_cnn').reported_accuracy:.2f}"}]
    for label, recipe in (("paper recipe (this study)", None), ("improved recipe (this study)", "improved")):
        runs = study_runs("shao_cnn", recipe)
        rows.append({"configuration": label,
                     "test %": mean_std_text([100 * r.test_accuracy for r in runs]) if runs else "pending"})
    rows.append({"configuration": "Optuna's best configuration",
                 "test %": mean_std_text([100 * r.test_accuracy for r in tuned]) if tuned else "pending"})
    return rows


@dataclass(frozen=True)
class Rerun:
    """One seed trained twice under the same recipe: a run of the committed study (``first``) and the
    ablation's run of the paper's configuration with the same seed (``again``), later and on another commit;
    either may have been cut off and resumed from its checkpoint (``resumed_from_epoch``)."""

    first: RunRecord
    again: RunRecord

    @property
    def same_machine(self) -> bool:
        return (self.first.device_name, self.first.torch) == (self.again.device_name, self.again.torch)

    @property
    def differing_predictions(self) -> int:
        """How many test images the two runs classify differently (0: the same network, image for image)."""
        return sum(a != b for a, b in zip(self.first.test_predictions, self.again.test_predictions))

    @property
    def identical(self) -> bool:
        """The same predictions and the same test loss, to the last bit: the same network."""
        return self.differing_predictions == 0 and self.first.test_loss == self.again.test_loss

    def row(self) -> dict[str, str]:
        def when(r: RunRecord) -> str:
            resumed = f", resumed after epoch {r.resumed_from_epoch}" if r.resumed_from_epoch else ""
            return f"`{r.commit[:7]}` {r.date[:16].replace('T', ' ')}{resumed}"

        return {"seed": str(self.first.seed), "study run": when(self.first), "ablation run": when(self.again),
                "test %": f"{100 * self.first.test_accuracy:.2f} / {100 * self.again.test_accuracy:.2f}",
                "test loss": f"{self.first.test_loss:.6f} / {self.again.test_loss:.6f}",
                "test images classified differently": str(self.differing_predictions)}


def paper_reruns() -> list[Rerun]:
    """The committed seeds that the study and the ablation both trained under the paper's recipe (the
    ablation's ``paper`` configuration is the study's ``shao_cnn``), by seed; ``[]`` while either is pending."""
    folder = find_results("ablation")
    if folder is None:
        return []
    first = {r.seed: r for r in study_runs("shao_cnn")}
    again = [RunRecord.read(p) for p in sorted(folder.glob("shao_cnn-paper-full-seed*.json"))]
    return sorted((Rerun(first[r.seed], r) for r in again if r.tested and r.seed in first),
                  key=lambda rerun: rerun.first.seed)


def reruns_sentence(reruns: list[Rerun]) -> str:
    """Chapter 4's verdict on :func:`paper_reruns`: whether every seed trained twice gave the same network."""
    if not reruns:
        return "Pending: the ablation's `paper` runs are not committed yet."
    same = sum(r.identical for r in reruns)
    if same < len(reruns):
        return (f"Only {same} of {len(reruns)} seeds trained twice gave the same network; the others differ as "
                "the table shows.")
    return (f"**{same} of {len(reruns)}** seeds trained twice gave the same network: the same test loss to the "
            "last digit and the same prediction for every test image. A seed's figure belongs to the seed (its "
            "initial weights, data order and dropout masks), not to the run: on this CPU, the spread between "
            "seeds is all the variation there is.")


def batch_audits(networks: list[tuple[str, RunRecord]], profile: str, device=None):
    """Chapter 5's batch-dependence audit of each ``(label, record)``: read from the committed
    ``results/full/batch_audit.json`` where it measured these very weights (:mod:`mnistlib.study.batch_audit`),
    else measured here (on the first :data:`SMOKE_TEST_IMAGES` test images under the smoke profile). Returns
    ``(accuracy by batch size per label, the table's rows, the labels read from the committed file)``."""
    from ..study import load_batch_audits
    from ..training import batch_dependence_audit

    folder = study_folder()
    committed = load_batch_audits(folder) if folder is not None else {}
    audits, rows, read = {}, [], []
    for label, record in networks:
        audit = committed.get(label) if record.profile == "full" else None
        if audit is None:
            model, data = trained_model(record, device)
            test = data.test.head(SMOKE_TEST_IMAGES) if profile == "smoke" else data.test
            audit = batch_dependence_audit(model, test)
        else:
            read.append(label)
        audits[label] = audit.accuracy_by_batch_size
        rows.append({"model": f"{label} ({record.profile})",
                     **{f"B={b:,}": f"{100 * a:.2f}" for b, a in audit.accuracy_by_batch_size.items()},
                     "changed predictions": f"{audit.changed_count:,} ({100 * audit.changed_fraction:.2f}%)"})
    return audits, rows, read
