"""The course's answer, for the book's first page: every claim of the two sources beside what the committed
study measured, with the verdict and the chapter that shows it, and accuracy against parameters.

``write_answer`` is called by the build before rendering; ``book/intro.md`` includes the Markdown it writes
(``book/_generated/answer.md``). Everything comes from ``results/full``; nothing is trained.
"""
from __future__ import annotations

from pathlib import Path

from ..models import get_model_info
from ..study.report import markdown_table
from ..study.reproduce import DECAY_GAIN, ablation_beside, claim_rows, error_points, load_records, pending_models
from ..training.checkpoint import write_text
from .book import ROOT

# where each model's verdicts are discussed
CHAPTERS = {"shao_cnn": "03_paper_cnn", "gecco": "05_gecco", "gecco_enhanced": "05_gecco",
            "gecco_complete": "05_gecco"}
CLAIM_CHAPTERS = {DECAY_GAIN: "04_hyperparameters"}  # a claim measured away from its model's chapter
DEFAULT_CHAPTER = "06_comparison"


def chapter_link(model: str, claim: str = "") -> str:
    """A MyST reference from ``book/`` to the chapter that discusses ``model``'s ``claim``."""
    return f"{{doc}}`../notebooks/{CLAIM_CHAPTERS.get(claim) or CHAPTERS.get(model, DEFAULT_CHAPTER)}`"


def answer_rows(records, ablation: list | None = None) -> list[dict]:
    """One row per claim of the sources: source, claim, reported, measured, verdict, chapter. ``ablation``:
    the committed ablation's runs, for the claim it measures."""
    rows = []
    for row in claim_rows(records, pending=pending_models(records), ablation=ablation):
        source = get_model_info(row["model"]).source.split(",")[0]
        rows.append({"source, model": f"{source}, `{row['model']}`", "claim": row["claim"],
                     "reported": row["reported"], "measured (mean ± std, n seeds)": row["measured"],
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


def write_answer(folder: Path, root: Path = ROOT) -> Path:
    """Write ``answer.md`` (and its figure) into ``folder``; returns the Markdown's path."""
    from . import plots

    folder.mkdir(parents=True, exist_ok=True)
    study = root / "results" / "full"
    records = load_records(study) if (study / "runs").is_dir() else []
    text = ["## The answer, as measured", ""]
    if not records:
        text.append("No study result is committed yet: every claim below is pending "
                    "(`python -m mnistlib reproduce` writes `results/full`).")
    devices = sorted({r.device_name for r in records})
    text += [f"Every figure the two sources report, judged on the committed study (`results/full`: "
             f"{len(records)} runs on {', '.join(devices) or 'no device yet'}; mean ± standard deviation over seeds, "
             "n given; no verdict from one seed). A pending row says what is missing and the command that runs it.",
             "", markdown_table(answer_rows(records, ablation_beside(study))), ""]
    points = error_points(records) + pending_points(records)
    if points:
        figure = plots.params_vs_error(points)
        figure.savefig(folder / "params_vs_error.png", dpi=110)
        text += ["```{figure} _generated/params_vs_error.png", f":alt: {figure.alt_text}", "",
                 "Accuracy against size: each model's measured test error (filled) and its source's figure "
                 "(hollow), from the committed study.", "```", ""]
    return write_text("\n".join(text), folder / "answer.md")
