"""The sources' claims, judged: every figure a source reports (its accuracy, a per-digit figure, an epoch, its
parameter count) beside what the study measured, with a verdict that says whether it reproduced.

An average is judged against the 95% t-interval of the mean over seeds, a best figure against the best seed,
an epoch against the seeds' range; one seed gives a figure and no verdict (:func:`claim_verdict`).
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Callable

import numpy as np

from ..models import SOURCES, Claim, get_model_info, list_models
from .record import RunRecord
from .report import mean_std_text
from .stats import t_interval


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
NO_VERDICT = "no verdict"  # a figure the runs cannot judge (Claim.no_verdict says why)


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


def short_verdict(verdict: str) -> str:
    """A verdict of :func:`interval_verdict` without the measurement it repeats, for a table whose other
    columns show it: ``"exceeded: 99.61 (95% CI 99.52–99.7), 0.07 points above the claim"`` -> ``"exceeded:
    0.07 points above the claim"``, ``"reproduced: ..."`` -> ``"reproduced"``; any other text unchanged."""
    kind, _, rest = verdict.partition(": ")
    if kind == "reproduced":
        return kind
    if kind in ("exceeded", "not reproduced") and rest.endswith(" the claim") and ", " in rest:
        return f"{kind}: {rest.rsplit(', ', 1)[1]}"
    return verdict


def _measured(claim: Claim, values: list[float]) -> str:
    if claim.statistic == "each":
        return " / ".join(f"{v:g}" for v in values)
    return mean_std_text(values, 4 if claim.quantity == "test loss" else 2)


def claim_rows(records: list[RunRecord], labels: dict[str, np.ndarray] | None = None,
               pending: dict[str, str] | None = None, ablation: list | None = None) -> list[dict]:
    """Every figure the sources report (their claims and parameter counts), what the study measured, and the
    verdict, one row each. ``pending``: models without runs and why (``"the CPU study has not
    reached it yet (...)"``), given a row per claim that says so. ``ablation``: the ablation's runs, for the claim it measures
    (:func:`decay_gain`). ``labels`` is accepted for symmetry with the summary."""
    by_model: dict[str, list[RunRecord]] = defaultdict(list)
    for r in records:
        if r.dataset == "mnist" and r.recipe is None:
            by_model[r.model].append(r)
    rows = []
    for model in list(by_model) + [m for m in (pending or {}) if m not in by_model]:
        info, runs = get_model_info(model), sorted(by_model.get(model, []), key=lambda r: r.seed)
        for claim in info.claims:
            row = {"model": model, "source": claim.source, "claim": claim.quantity, "reported": f"{claim.value:g}",
                   "where": claim.where, "note": claim.note}
            if not runs:
                row.update(measured="-", verdict=f"pending: {pending[model]}")
            elif claim.no_verdict:
                values = CLAIM_MEASURES[claim.quantity](runs)
                row.update(measured=_measured(claim, values), verdict=f"{NO_VERDICT}: {claim.no_verdict}")
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
            source = params_source(info)
            rows.append({"model": model, "source": source, "claim": "parameters",
                         "reported": f"{info.reported_params:,}",
                         "where": "INT305 report, Table II" if source == "INT305 report" else info.source,
                         "note": "", "measured": f"{counted:,}",
                         "verdict": params_verdict(info.reported_params, counted)})
    return rows


def params_source(info) -> str:
    """The work that reports a model's parameter count (a key of :data:`~mnistlib.models.SOURCES`): the INT305
    report for the models it compares, else the model's own paper."""
    if "INT305" in info.source:
        return "INT305 report"
    return next(name for name in SOURCES if info.source.startswith(name))


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
