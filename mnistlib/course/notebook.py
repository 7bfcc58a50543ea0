"""Small helpers for the course's notebooks: device setup, output folders, computed Markdown."""
from __future__ import annotations

import inspect
import os
from pathlib import Path

import torch

from ..training.device import device_name, resolve_device

GPU_HINT = ("No GPU found: running on the CPU (the 'quick' profile is sized for it). For a GPU: on Colab, "
            "Runtime > Change runtime type > T4 GPU; on Kaggle, Settings > Accelerator > GPU.")


def setup(device: str | None = None) -> torch.device:
    """Pick the device (CUDA when present), say which, and how to get a GPU when there is none."""
    dev = resolve_device(device)
    print(f"device: {device_name(dev)}, torch {torch.__version__}")
    if dev.type == "cpu":
        print(GPU_HINT)
    return dev


def start_chapter(profile: str, device: str | None = None) -> Path:
    """A chapter's setup in one call: say which device it runs on (and how to get a GPU), say which profile,
    and return the folder of its training runs (:func:`runs_dir`)."""
    setup(device)
    md(f"Profile **{profile}**" + (": a smoke run for the tests; its figures are not results."
                                   if profile == "smoke" else "."))
    return runs_dir(profile)


DEMO_IMAGES = 10_000  # the quick book's live runs train on this many images: they show, the study measures


def demo(profile: str) -> dict:
    """Config overrides for a chapter's live demonstration: under ``quick``, a 10,000-image subset (a loss
    curve that moves in seconds); ``smoke`` has its own tiny subset, and ``full`` trains what it says."""
    return {"train_subset": DEMO_IMAGES} if profile == "quick" else {}


def runs_dir(profile: str) -> Path:
    """Where the book's training runs go: ``$MNIST_COURSE_RUNS/<profile>`` (default ``runs/book``)."""
    return Path(os.environ.get("MNIST_COURSE_RUNS", "runs/book")) / profile


def find_results(*parts: str) -> Path | None:
    """The committed file ``results/<parts...>`` of the repository, looked for from the working directory
    upwards (a notebook runs in ``notebooks/``, papermill in the root); ``None`` when it does not exist."""
    for folder in (Path.cwd(), *Path.cwd().parents):
        candidate = folder.joinpath("results", *parts)
        if candidate.exists():
            return candidate
    return None


def md(text: str) -> None:
    """Display ``text`` as Markdown: prose whose numbers the code computed."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def include_markdown(path: str | Path, shift: int = 2) -> None:
    """Display a Markdown file (a committed summary) with its headings ``shift`` levels deeper, so that it
    sits under the page's own headings."""
    lines = Path(path).read_text().splitlines()
    md("\n".join("#" * shift + line if line.startswith("#") else line for line in lines))


def show_source(obj) -> None:
    """Display the source code of a library function, so that the lesson's code is on the page."""
    md("```python\n" + inspect.getsource(obj).rstrip() + "\n```")


def table(rows: list[dict], columns: list[str] | None = None) -> None:
    """Display rows of dicts as a Markdown table (``columns``: a subset, in order; default all)."""
    if not rows:
        md("*(nothing to show)*")
        return
    from ..study.report import markdown_table

    md(markdown_table(rows, columns))
