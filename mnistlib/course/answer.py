"""The course's answer, for the book's first page: every claim of the two sources beside what the committed
study measured, with the verdict and the chapter that shows it, and accuracy against parameters.

``write_answer`` is called by the build before rendering; ``book/intro.md`` includes the Markdown it writes
(``book/_generated/answer.md``). Everything comes from ``results/full``; nothing is trained.
"""
from __future__ import annotations

from pathlib import Path

from ..models import get_model_info
from ..study.report import markdown_table
from ..study import NO_VERDICT, STUDY_OUT, DECAY_GAIN, ablation_beside, claim_rows, error_points, load_records, pending_models
from ..training.atomic_files import write_text
from ..data import REPOSITORY_ROOT as ROOT

# where each model's verdicts are discussed
CHAPTERS = {"shao_cnn": "03_paper_cnn", "gecco": "05_gecco", "gecco_enhanced": "05_gecco",
            "gecco_complete": "05_gecco", "gecco_dropout": "05_gecco", "gecco_dropout_attention": "05_gecco"}
CLAIM_CHAPTERS = {DECAY_GAIN: "04_hyperparameters"}  # a claim measured away from its model's chapter
DEFAULT_CHAPTER = "06_comparison"


def chapter_link(model: str, claim: str = "") -> str:
    """A MyST reference from ``book/`` to the chapter that discusses ``model``'s ``claim``, shown as the
    chapter's number (its title would not wrap in a table's narrow column)."""
    chapter = CLAIM_CHAPTERS.get(claim) or CHAPTERS.get(model, DEFAULT_CHAPTER)
    return f"{{doc}}`{int(chapter.split('_')[0])} <../notebooks/{chapter}>`"


def answer_rows(records, ablation: list | None = None) -> list[dict]:
    """One row per claim of the sources: source, claim, reported, measured, verdict, chapter. ``ablation``:
    the committed ablation's runs, for the claim it measures."""
    rows = []
    for row in claim_rows(records, pending=pending_models(records), ablation=ablation):
        rows.append({"source, model": f"{row['source']}, `{row['model']}`", "claim": row["claim"],
                     "reported": row["reported"], "measured": row["measured"],
                     "verdict": row["verdict"], "chapter": chapter_link(row["model"], row["claim"])})
    return rows


def pending_points(records) -> list[dict]:
    """Models without a committed run, placed by their source's figures (drawn hollow, "(pending)")."""
    from ..models import count_params, get_model

    points = []
    for model in pending_models(records):
        info = get_model_info(model)
        if info.reported_accuracy is not None:
            counted = count_params(get_model(model))
            points.append({"model": model, "params": counted, "error": None,
                           "reported_params": info.reported_params or counted,
                           "reported_error": 100 - info.reported_accuracy})
    return points


def answer_sentences(records, claims: list[dict]) -> list[str]:
    """The first page's answer in three sentences, every figure computed from the committed ``records`` and
    the ``claims`` rows (:func:`claim_rows`)."""
    import statistics

    def figure(values: list[float]) -> str:
        n = len(values)
        return (f"{values[0]:.2f}% (one seed)" if n == 1 else
                f"{statistics.fmean(values):.2f} ± {statistics.stdev(values):.2f}% ({n} seeds)")

    accuracy = [c for c in claims if c["claim"] == "test accuracy %"
                and not c["verdict"].startswith(("pending", NO_VERDICT))]
    held = [c for c in accuracy if c["verdict"].startswith(("reproduced", "exceeded"))]
    pending = sorted({c["model"] for c in claims if c["verdict"].startswith("pending")})
    first = (f"Of the {len(accuracy)} test accuracies the two sources report for models the course has trained, "
             f"{len(held)} hold on the course's own runs and {len(accuracy) - len(held)} do not"
             + (f" (the claims of {', '.join(f'`{m}`' for m in pending)} are pending)." if pending else "."))
    runs = lambda recipe: [100 * r.test_accuracy for r in records
                           if r.model == "shao_cnn" and r.recipe == recipe and r.dataset == "mnist"]
    paper, improved = runs(None), runs("improved")
    claimed = get_model_info("shao_cnn").reported_accuracy
    second = (f"Shao et al.'s CNN, claimed at {claimed:.2f}%, measures {figure(paper)} under its own recipe; "
              f"the same network reaches {figure(improved)} with the course's improved recipe."
              if paper and improved else "Shao et al.'s CNN is pending in the committed study.")
    gaps = [(float(c["reported"]) - float(c["measured"].split(" ")[0]), c) for c in accuracy]
    gap, worst = max(gaps, key=lambda g: g[0], default=(0.0, None))
    measured = [100 * r.test_accuracy for r in records if worst and r.model == worst["model"]
                and r.recipe is None and r.dataset == "mnist"]
    third = ("" if worst is None or gap <= 0 else
             f"The largest shortfall is `{worst['model']}`'s: {float(worst['reported']):.2f}% reported "
             f"({worst['where']}), {figure(measured)} measured, {gap:.1f} points below.")
    return [first, second] + ([third] if third else [])


def write_answer(folder: Path, root: Path = ROOT) -> Path:
    """Write ``answer.md`` (and its figure) into ``folder``; returns the Markdown's path."""
    from . import plots

    folder.mkdir(parents=True, exist_ok=True)
    study = root / STUDY_OUT
    records = load_records(study) if (study / "runs").is_dir() else []
    text = ["## The answer, as measured", ""]
    if not records:
        text.append("No study result is committed yet: every claim below is pending "
                    "(`python -m mnistlib reproduce` writes `results/full`).")
    devices = sorted({r.device_name for r in records})
    points = error_points(records) + pending_points(records)
    if points:
        figure = plots.reported_vs_measured(points)
        figure.savefig(folder / "reported_vs_measured.png", dpi=110, bbox_inches="tight")
        text += ["```{figure} _generated/reported_vs_measured.png", f":alt: {figure.alt_text}", "",
                 "Every model and recipe of the committed study: measured test error (mean over seeds, with the "
                 "95% interval of that mean) beside its source's figure, on a logarithmic axis.", "```", ""]
    ablation = ablation_beside(study)
    if records:
        text += [" ".join(answer_sentences(records, claim_rows(records, pending=pending_models(records),
                                                                ablation=ablation))), ""]
    text += [f"Every figure the two sources report, judged on the committed study (`results/full`: "
             f"{len(records)} runs on {', '.join(devices) or 'no device yet'}; mean ± standard deviation over seeds, "
             "n given; no verdict from one seed). A pending row says what is missing and the command that runs it.",
             "", markdown_table(answer_rows(records, ablation)), ""]
    return write_text("\n".join(text), folder / "answer.md")
