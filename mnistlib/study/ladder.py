"""How far the paper's 354,138 parameters go: a ladder of recipes for the same network, rung by rung (issue 33).

1. the paper's recipe and 2. the course's improved recipe are the CPU study's runs (``results/full``);
3. the improved recipe trained twice as long, validated and kept as an exponential moving average of its
   weights (:data:`LONG_EMA`), trained here;
4. rung 3's networks with test-time augmentation: the probabilities of a few fixed views of each image
   averaged (:data:`mnistlib.data.TTA_POLICIES`), the policy chosen on the validation split;
5. the ensemble of rung 4's five seeds: their probabilities averaged. Its members are fixed in advance (all
   five seeds); as one number, its interval is a bootstrap over the test images.

Rungs 4 and 5 need each run's outputs, which a run record does not keep: after training, each rung-3 run's
validation and test probabilities under every policy are computed once (:class:`RunOutputs`, a local cache in
``outputs/<run>.npz``, never committed), and what the ladder reads of them is committed as text in
``predictions.json`` (:class:`LadderPredictions`): each run's predicted class per image, split and policy, and
the predictions of the averages of the first k runs' probabilities (k = 1 .. seeds). Every choice (the policy)
is made on validation; the test set only reports.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .configuration import LADDER_MODEL as MODEL, LADDER_OUT, LADDER_SEEDS, LADDER_TAG as TAG, LONG_EMA, STUDY_OUT
from .record import RunRecord
from .report import markdown_table, mean_std_text, write_csv
from .reproduce import export_weights
from .run import load_trained, train_run
from .stats import bootstrap_accuracy, bootstrap_difference, decode_predictions, encode_predictions, mcnemar, t_interval
from .summary import _correctness, load_records, read_runs, test_labels
from .weights import write_index



@dataclass(frozen=True)
class Anchor:
    """A public figure for a small MNIST CNN that the ladder is drawn against (not a claim the course judges)."""

    label: str
    accuracy: float
    where: str


ANCHORS = (
    Anchor("a single CNN (cdeotte)", 99.65, "cdeotte/MNIST-CNN-99.75, the mean of single networks"),
    Anchor("an ensemble of 15 CNNs (cdeotte)", 99.74, "cdeotte/MNIST-CNN-99.75, the ensemble's mean"),
    Anchor("a vote of 3 CNNs (An et al. 2020)", 99.87, "ansh941/MnistSimpleCNN, the best majority vote"),
)
GOALS = {"single": 99.65, "ensemble": 99.75}  # issue 33's goals, percent


@dataclass(frozen=True)
class Rung:
    """One rung: ``key`` names it in the tables, ``label`` in the book; ``change`` says what it adds."""

    key: str
    label: str
    change: str


RUNGS = (
    Rung("paper", "1. paper recipe", "Shao et al.'s recipe: Adam 1e-3, batch 1,000, early stopping (patience 2)"),
    Rung("improved", "2. improved recipe", "augmentation, AdamW, one-cycle schedule, label smoothing, 30 epochs"),
    Rung("long_ema", "3. longer, weight average", "60 epochs; the network kept is an exponential moving average "
                                                  "of the weights (decay 0.999 a step)"),
    Rung("tta", "4. test-time augmentation", "rung 3, each image's probabilities averaged over fixed views "
                                             "(the policy chosen on validation)"),
    Rung("ensemble", "5. ensemble of 5 seeds", "rung 4's five networks, their probabilities averaged"),
)


@dataclass(frozen=True)
class RunOutputs:
    """One run's softmax probabilities, ``(images, 10)`` float16 arrays per split and test-time policy, and
    the seconds each policy's pass over validation and test took."""

    probabilities: dict[str, np.ndarray]  # "val/none", "test/shifts", ...
    seconds: dict[str, float]  # policy -> seconds for both splits

    def of(self, split: str, policy: str) -> np.ndarray:
        return self.probabilities[f"{split}/{policy}"].astype(np.float32)

    def write(self, path: str | Path) -> Path:
        from ..training.atomic_files import write_atomic

        arrays = {k.replace("/", "__"): v for k, v in self.probabilities.items()}
        arrays.update({f"seconds__{k}": np.array(v) for k, v in self.seconds.items()})
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return write_atomic(path, lambda fh: fh.write(buffer.getvalue()))

    @classmethod
    def read(cls, path: str | Path) -> "RunOutputs":
        with np.load(path) as arrays:
            probabilities = {k.replace("__", "/"): arrays[k] for k in arrays.files if not k.startswith("seconds__")}
            seconds = {k.split("__", 1)[1]: float(arrays[k]) for k in arrays.files if k.startswith("seconds__")}
        return cls(probabilities, seconds)


def compute_outputs(checkpoint: str | Path, device=None) -> RunOutputs:
    """The probabilities of a finished run's network (its checkpoint holds the selected weights) on the
    validation and test splits under every test-time policy."""
    from ..data import TTA_POLICIES
    from ..training import probabilities

    _, model, data, _ = load_trained(checkpoint, device=device)
    arrays, seconds = {}, {}
    for policy in TTA_POLICIES:
        start = time.perf_counter()
        for split in ("val", "test"):
            arrays[f"{split}/{policy}"] = probabilities(model, getattr(data, split), tta=policy).cpu().numpy().astype(np.float16)
        seconds[policy] = time.perf_counter() - start
    return RunOutputs(arrays, seconds)


def outputs_path(out: str | Path, record: RunRecord) -> Path:
    return Path(out) / "outputs" / f"{record.name}.npz"


PREDICTIONS = "predictions.json"


@dataclass(frozen=True)
class LadderPredictions:
    """What the ladder keeps of rung 3's outputs (committed, ``predictions.json``), keys ``"<split>/<policy>"``:

    - ``runs``: run name -> key -> its predicted classes (:func:`~.stats.encode_predictions`);
    - ``seconds``: run name -> policy -> the seconds that policy's pass over both splits took;
    - ``ensembles``: key -> the predictions of the average of the first k runs' probabilities, k = 1 .. runs
      (runs by seed)."""

    runs: dict[str, dict[str, str]]
    seconds: dict[str, dict[str, float]]
    ensembles: dict[str, list[str]]

    def of(self, run: str, split: str, policy: str) -> np.ndarray:
        return decode_predictions(self.runs[run][f"{split}/{policy}"])

    def ensemble(self, split: str, policy: str, k: int) -> np.ndarray:
        """The predictions of the first ``k`` runs' averaged probabilities."""
        return decode_predictions(self.ensembles[f"{split}/{policy}"][k - 1])

    def ensemble_accuracy(self, split: str, policy: str, labels: np.ndarray) -> list[float]:
        """Accuracy (percent) of the average of the first k runs' probabilities, for k = 1 .. runs."""
        return [100 * float((decode_predictions(p) == labels).mean()) for p in self.ensembles[f"{split}/{policy}"]]

    @classmethod
    def from_outputs(cls, outputs: dict[str, RunOutputs]) -> "LadderPredictions":
        """From every run's outputs (run name -> outputs, in seed order)."""
        keys = list(next(iter(outputs.values())).probabilities) if outputs else []
        runs = {name: {k: encode_predictions(o.probabilities[k].argmax(1)) for k in keys} for name, o in outputs.items()}
        ensembles = {}
        for key in keys:
            total = np.zeros(next(iter(outputs.values())).probabilities[key].shape, dtype=np.float64)
            ensembles[key] = []
            for o in outputs.values():
                total += o.probabilities[key].astype(np.float32)
                ensembles[key].append(encode_predictions(total.argmax(1)))
        return cls(runs, {name: dict(o.seconds) for name, o in outputs.items()}, ensembles)

    def write(self, path: str | Path) -> Path:
        from ..training.atomic_files import write_json

        return write_json({"runs": self.runs, "seconds": self.seconds, "ensembles": self.ensembles}, path)

    @classmethod
    def read(cls, path: str | Path) -> "LadderPredictions":
        import json

        stored = json.loads(Path(path).read_text())
        return cls(stored["runs"], stored["seconds"], stored["ensembles"])


def write_predictions(out: str | Path = LADDER_OUT) -> LadderPredictions | None:
    """``predictions.json`` from the local outputs of rung 3's finished runs, when every one has them (a fresh
    clone has none: the committed file stays as it is); returns what is then committed (None: nothing yet)."""
    out = Path(out)
    runs = _finished_runs(out)
    if runs and all(outputs_path(out, r).exists() for r in runs):
        LadderPredictions.from_outputs({r.name: RunOutputs.read(outputs_path(out, r)) for r in runs}).write(
            out / PREDICTIONS)
    return load_predictions(out)


def load_predictions(out: str | Path = LADDER_OUT) -> LadderPredictions | None:
    """The committed predictions of rung 3's runs (None before any has finished)."""
    path = Path(out) / PREDICTIONS
    return LadderPredictions.read(path) if path.exists() else None


def _store_outputs(out: Path, record: RunRecord, device=None) -> None:
    """Rung 3's outputs of one run, computed from its checkpoint once (``outputs/<run>.npz``). A fresh clone
    has neither the checkpoint nor the outputs (both ignored): the committed ``predictions.json`` then holds
    what the ladder needs of the run, and nothing is computed."""
    path, checkpoint = outputs_path(out, record), out / "runs" / f"{record.name}.pt"
    if path.exists():
        return
    if checkpoint.exists():
        compute_outputs(checkpoint, device).write(path)
        return
    committed = load_predictions(out)
    if committed is None or record.name not in committed.runs:
        raise FileNotFoundError(
            f"{record.name}: its record is here but neither its checkpoint ({checkpoint}) nor its predictions in "
            f"{out / PREDICTIONS}: delete {out / 'runs' / (record.name + '.json')} so that the ladder trains it again")


def run_ladder(seeds: int = LADDER_SEEDS, out: str | Path = LADDER_OUT, *, profile: str = "full", device=None,
               compile: bool = False, study: str | Path = STUDY_OUT, log=print) -> list[dict]:
    """Train (or read back) rung 3's ``seeds`` runs, store each one's outputs, write the ladder's tables
    (``ladder.csv``, ``summary.md``) after each; returns the rows. Only the ``full`` profile trains rung 3's
    60 epochs; a shorter profile keeps its own epochs (a test's ladder)."""
    from .lock import results_lock

    out = Path(out)
    overrides = LONG_EMA if profile in ("full", "source") else {"ema": LONG_EMA["ema"]}
    with results_lock(out):
        for seed in range(seeds):
            record = train_run(MODEL, profile, out=out / "runs", reuse=True, seed=seed, device=device, quiet=True,
                               log=None, recipe="improved", tag=TAG, compile=compile or None, **overrides)
            _store_outputs(out, record, device)
            if export_weights(record, out / "runs"):  # seed 0's weights, for the draw page should it win
                write_index(out)
            if log:
                log(f"rung 3 seed {seed}: val {100 * record.val_accuracy:.2f}% test {100 * record.test_accuracy:.2f}% "
                    f"({record.train_seconds / 60:.1f} min)")
            rows = write_ladder(out, study)
    return rows


@dataclass(frozen=True)
class RungResult:
    """What one rung measured: per-seed test correctness ``(seeds, N)`` (one row for the ensemble), per-seed
    validation accuracy (percent), CPU minutes per seed, and a note (the chosen policy)."""

    rung: Rung
    correct: np.ndarray
    val: list[float]
    minutes: float
    note: str = ""

    @property
    def test(self) -> list[float]:
        return [100 * float(c.mean()) for c in self.correct]


def _minutes(records: list[RunRecord]) -> float:
    """CPU minutes of training per seed: the median epoch's seconds times the epochs run (a runner paused or
    sharing the CPU for a while stretches a few epochs, which a sum of the epochs would count)."""
    return float(np.mean([r.median_epoch_seconds * r.epochs_run for r in records])) / 60


def measure(out: str | Path = LADDER_OUT, study: str | Path = STUDY_OUT) -> list[RungResult]:
    """Every rung with finished runs, in order (a rung whose runs are missing ends the ladder there)."""
    from ..data import TTA_POLICIES

    labels = test_labels("mnist")
    by_key = {r.key: r for r in RUNGS}
    committed = [r for r in load_records(study) if r.model == MODEL and r.dataset == "mnist"]
    results = []
    for key, recipe in (("paper", None), ("improved", "improved")):
        runs = sorted((r for r in committed if r.recipe == recipe), key=lambda r: r.seed)
        if not runs:
            return results
        results.append(RungResult(by_key[key], _correctness(runs, labels), [100 * r.val_accuracy for r in runs],
                                  _minutes(runs)))
    runs, predictions = finished_predictions(out)
    if not runs:
        return results
    results.append(RungResult(by_key["long_ema"], _correctness(runs, labels), [100 * r.val_accuracy for r in runs],
                              _minutes(runs)))
    val_labels = validation_labels()
    val_accuracy = {p: [100 * float((predictions.of(r.name, "val", p) == val_labels).mean()) for r in runs]
                    for p in TTA_POLICIES}
    policy = max(TTA_POLICIES, key=lambda p: (np.mean(val_accuracy[p]), p == "none"))  # a tie keeps no TTA
    tta_minutes = _minutes(runs) + float(np.mean([predictions.seconds[r.name][policy] for r in runs])) / 60
    results.append(RungResult(by_key["tta"], np.stack([predictions.of(r.name, "test", policy) == labels for r in runs]),
                              val_accuracy[policy], tta_minutes,
                              f"policy {policy!r}, chosen on validation (" + ", ".join(
                                  f"{p} {np.mean(v):.2f}%" for p, v in val_accuracy.items()) + ")"))
    if len(runs) >= LADDER_SEEDS:
        k = len(runs)
        results.append(RungResult(by_key["ensemble"], (predictions.ensemble("test", policy, k) == labels)[None, :],
                                  [100 * float((predictions.ensemble("val", policy, k) == val_labels).mean())],
                                  k * tta_minutes, f"{k} seeds, policy {policy!r}; its CPU minutes are those of all "
                                  f"{k} networks"))
    return results


def _finished_runs(out: Path) -> list[RunRecord]:
    """Rung 3's finished (tested) runs, by seed."""
    return sorted((r for r in read_runs(Path(out) / "runs") if r.tag == TAG and r.tested), key=lambda r: r.seed)


def finished_predictions(out: str | Path = LADDER_OUT) -> tuple[list[RunRecord], LadderPredictions | None]:
    """Rung 3's finished runs whose predictions are committed, by seed, and those predictions."""
    predictions = load_predictions(out)
    runs = [r for r in _finished_runs(Path(out)) if predictions is not None and r.name in predictions.runs]
    return runs, predictions


def validation_labels() -> np.ndarray:
    """The labels of the study's validation split (the fixed 5,000 images every run selects on)."""
    from ..data import load_data

    return load_data("mnist", device="cpu").val.labels.numpy()


def ladder_rows(results: list[RungResult]) -> list[dict]:
    """The ladder's table: per rung the test accuracy (mean ± std over seeds, its 95% interval: a t-interval
    over seeds, or for one network a bootstrap over the test images), the validation accuracy, the paired
    difference to the rung below (bootstrap over the same test images), McNemar against the rung below
    (seed 0 against seed 0) and the CPU minutes per seed."""
    rows = []
    for i, result in enumerate(results):
        test = result.test
        if len(test) > 1:
            _, low, high = t_interval(test)
        else:
            _, low, high = (100 * v for v in bootstrap_accuracy(result.correct))
        single = len(test) > 1 or result.rung.key != "ensemble"
        row = {"rung": result.rung.label, "what it adds": result.rung.change, "seeds": len(test) if single else
               LADDER_SEEDS, "test %": mean_std_text(test) if single else f"{test[0]:.2f} (one ensemble)", "95% interval %": f"{low:.2f}–{high:.2f}",
               "validation %": mean_std_text(result.val) if single else f"{result.val[0]:.2f} (one ensemble)", "Δ vs rung below (points, 95% CI)": "-",
               "McNemar vs rung below": "-", "CPU min per seed": f"{result.minutes:.1f}", "note": result.note}
        if i:
            below = results[i - 1]
            diff, dlow, dhigh = (100 * v for v in bootstrap_difference(result.correct, below.correct))
            row["Δ vs rung below (points, 95% CI)"] = f"{diff:+.2f} ({dlow:+.2f} to {dhigh:+.2f})"
            test_ = mcnemar(result.correct[0], below.correct[0])
            row["McNemar vs rung below"] = f"b={test_.b}, c={test_.c}, p={test_.p:.2g}"
        rows.append(row)
    return rows


def write_ladder(out: str | Path = LADDER_OUT, study: str | Path = STUDY_OUT) -> list[dict]:
    """``ladder.csv`` and ``summary.md`` in ``out`` from the finished rungs; returns the rows."""
    from ..training.atomic_files import write_text

    out = Path(out)
    write_predictions(out)  # what the local outputs add (none on a fresh clone: the committed predictions stay)
    rows = ladder_rows(measure(out, study))
    write_csv(rows, out / "ladder.csv")
    text = ["# The ladder past the paper's claim", "",
            f"Measured by `python -m mnistlib ladder`: the paper's CNN ({MODEL}, the same parameters on every rung), "
            "each rung's epoch selected on the validation split and the test set touched once per network. "
            "Δ is the paired difference of mean test accuracy to the rung below on the same 10,000 test images "
            "(bootstrap); McNemar compares seed 0 with seed 0 (the ensemble with the rung below's seed 0).", "",
            markdown_table(rows) if rows else "No rung has finished runs yet.", ""]
    write_text("\n".join(text), out / "summary.md")
    return rows


@dataclass(frozen=True)
class Gain:
    """What a rung adds over the rung below: the paired difference of mean test accuracy (points) and its 95%
    bootstrap interval; it ``pays`` when the whole interval lies above zero."""

    difference: float
    low: float
    high: float

    @property
    def pays(self) -> bool:
        return self.low > 0


@dataclass(frozen=True)
class LadderRow:
    """One row of the committed ladder (``ladder.csv``): ``text`` holds its columns as the table shows them, the
    other fields the same figures as numbers (percent; ``gain`` is ``None`` on the first rung)."""

    text: dict[str, str]
    rung: Rung
    test: float
    interval: tuple[float, float]
    validation: float
    gain: Gain | None
    minutes: float
    note: str

    @classmethod
    def from_text(cls, text: dict[str, str]) -> "LadderRow":
        """Parse a row as :func:`ladder_rows` writes it ("99.58 ± 0.01 (n=5)", "+0.03 (-0.01 to +0.08)")."""
        rungs = {r.label: r for r in RUNGS}
        if text.get("rung") not in rungs:
            raise ValueError(f"ladder.csv: unknown rung {text.get('rung')!r}: expected one of {', '.join(rungs)}")
        low, high = (float(v) for v in text["95% interval %"].split("–"))
        delta = text["Δ vs rung below (points, 95% CI)"]
        gain = None
        if delta != "-":
            difference, interval = delta.split(" (")
            gain = Gain(float(difference), *(float(v) for v in interval.rstrip(")").split(" to ")))
        return cls(dict(text), rungs[text["rung"]], float(text["test %"].split()[0]), (low, high),
                   float(text["validation %"].split()[0]), gain, float(text["CPU min per seed"]), text["note"])


def load_ladder(out: str | Path = LADDER_OUT) -> list[LadderRow]:
    """The committed ladder's rows (``[]`` when there is none)."""
    import csv

    path = Path(out) / "ladder.csv"
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return [LadderRow.from_text(row) for row in csv.DictReader(fh)]
