"""Tables for people: mean ± std, Markdown tables, CSV files, the short summary of a set of rows.

The study's own report (every configuration with its statistics and verdicts) is
:func:`mnistlib.study.summary.write_study`; these are the plain pieces it and the other commands share."""
from __future__ import annotations

import csv
import io
import statistics
from pathlib import Path

from ..training.atomic_files import write_text


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def mean_std_text(values: list[float], digits: int = 2, unit: str = "") -> str:
    """``"98.94 ± 0.09 (n=5)"`` (with ``unit="%"``: ``"98.94 ± 0.09% (n=5)"``): mean ± sample std with the
    number of seeds; one seed is one figure, ``"98.94 (one seed)"``, never ``± 0.00``."""
    mean, std = mean_std(values)
    return f"{mean:.{digits}f} ± {std:.{digits}f}{unit} (n={len(values)})" if len(values) > 1 else \
        f"{mean:.{digits}f}{unit} (one seed)"


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
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, columns or list(rows[0]), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return write_text(buffer.getvalue(), path)


def write_summary(rows: list[dict], out: Path, profile: str) -> Path:
    """Write ``summary.csv`` and ``summary.md`` into ``out``; returns the Markdown path."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out / "summary.csv")
    path = out / "summary.md"
    write_text(f"# Summary, profile `{profile}`\n\n{markdown_table(rows)}\n", path)
    return path
