"""The study's summary and its readers: one row per (dataset, configuration) with its statistics
(``summary.csv``, ``summary.md``), the paired comparison with the paper CNN, and the functions that read a
study folder back (its run records, its summary) for the book and the command line."""
from __future__ import annotations

import csv
import dataclasses
import statistics
import typing
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..data.locate import load_arrays
from ..models import get_model_info
from ..training.atomic_files import write_text
from .claims import (ablation_beside, claim_rows, claim_verdict, headline, params_verdict, pending_models,
                     short_verdict, untested)
from .configuration import REFERENCE, Configuration
from .record import RunRecord
from .report import markdown_table, mean_std, write_csv
from .stats import bootstrap_difference, decode_predictions, mcnemar, t_interval


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
            "min–max %": "-" if self.seeds < 2 else f"{self.low:.2f}–{self.high:.2f}",  # one seed: no range
            "95% t-interval %": "-" if self.t_low is None else f"{self.t_low:.2f}–{self.t_high:.2f}",
            "accuracy verdict": self.verdict, "verdict": short_verdict(self.verdict), "reported params": dash(self.reported_params, ","),
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


@lru_cache(maxsize=None)
def test_labels(dataset: str) -> np.ndarray:
    """The test labels of ``dataset`` (found as :func:`mnistlib.data.locate` finds the files)."""
    return load_arrays(dataset)["test_labels"]


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
    from .device_comparison import compare_devices

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


def is_study_run(record: RunRecord, profile: str) -> bool:
    """A finished, tested run of a study configuration (not an ablation variant) under ``profile``."""
    return record.profile == profile and record.tested and not record.model_kwargs and record.tag == record.recipe


def read_runs(runs_dir: str | Path, refused: list[str] | None = None) -> list[RunRecord]:
    """The result JSONs in ``runs_dir``, in file-name order. A file that is not a run record (cut off, edited
    by hand) raises a ``ValueError`` naming it; given a list ``refused``, its reason is added there instead
    and the other records are read."""
    records = []
    for path in sorted(Path(runs_dir).glob("*.json")):
        try:
            records.append(RunRecord.read(path))
        except ValueError as error:
            if refused is None:
                raise
            refused.append(str(error))
    return records


def refusal(refused: list[str], summarised: int) -> str:
    """The one line that ends a summary written without some records."""
    return (f"{len(refused)} record(s) refused, the summary covers the other {summarised} run(s): "
            f"{'; '.join(refused)}; restore the file from git (git checkout -- <file>) or delete it to train "
            "that run again")


def load_records(folder: str | Path) -> list[RunRecord]:
    """The runs of a study folder (``<folder>/runs/*.json``) that its summary covers."""
    records = read_runs(Path(folder) / "runs")
    profiles = {r.profile for r in records}
    return [r for r in records if any(is_study_run(r, p) for p in profiles)]


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
