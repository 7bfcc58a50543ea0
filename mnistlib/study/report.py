"""Tabulating result records: one row per model, measured mean ± std over seeds beside the source's claims."""
from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .record import RunRecord


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarise(records: list[RunRecord]) -> list[dict]:
    """Group run records by model (and tag); accuracies in percent."""
    by_model: dict[str, list[RunRecord]] = defaultdict(list)
    for r in records:
        by_model[r.model + (f" ({r.tag})" if r.tag else "")].append(r)
    rows = []
    for model, runs in by_model.items():
        first = runs[0]
        test_mean, test_std = mean_std([100 * r.test_accuracy for r in runs])
        val_mean, _ = mean_std([100 * r.val_accuracy for r in runs])
        reported_acc, reported_params = first.reported_accuracy, first.reported_params
        rows.append({
            "model": model,
            "seeds": len(runs),
            "params": f"{first.params:,}",
            "reported params": "-" if reported_params is None else f"{reported_params:,}",
            "reported test %": "-" if reported_acc is None else f"{reported_acc:.2f}",
            "measured test %": f"{test_mean:.2f} ± {test_std:.2f}" if len(runs) > 1 else f"{test_mean:.2f}",
            "val %": f"{val_mean:.2f}",
            "best epoch": "/".join(str(r.best_epoch) for r in runs),
            "s/epoch": f"{statistics.fmean(r.seconds_per_epoch for r in runs):.1f}",
            "device": first.device_name,
            "torch": first.torch,
            "commit": first.commit[:12],
            "date": first.date[:10],
        })
    return rows


def markdown_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """Rows of dicts as a Markdown table (columns: those of the first row unless given)."""
    columns = columns or list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write_csv(rows: list[dict], path: str | Path, columns: list[str] | None = None) -> Path:
    """Rows of dicts as CSV: ``columns`` (default: those of the first row), other keys left out."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, columns or list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_summary(rows: list[dict], out: Path, profile: str) -> Path:
    """Write ``summary.csv`` and ``summary.md`` into ``out``; returns the Markdown path."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out / "summary.csv")
    path = out / "summary.md"
    path.write_text(f"# Comparison, profile `{profile}`\n\n{markdown_table(rows)}\n")
    return path
