"""Building the book: papermill executes every chapter with one profile, Jupyter Book renders the copies.

The notebooks in ``notebooks/`` are committed without outputs. ``build_book`` copies the book's sources
(``_config.yml``, ``_toc.yml``, ``references.bib``, ``book/``) into ``<out>/source``, executes each
notebook with papermill into ``<out>/source/notebooks/`` (its ``parameters`` cell overridden with the
profile), then runs ``jupyter-book build`` on that folder with warnings as errors. Jupyter Book's own
execution is off (``_config.yml``): nothing runs twice. The executed copies keep the repository's layout,
so the launch buttons open ``notebooks/<chapter>.ipynb`` in the repository.

Before rendering, the build writes the first page's answer (:mod:`mnistlib.course.answer`: the sources'
claims and the study's verdicts, from the committed results) and copies a pinned MathJax into the book's
static files, so that formulas render without a network, and the "draw a digit" page's files
(:mod:`mnistlib.course.demo`).

Progress: papermill's bar counts each chapter's cells. A chapter that fails is named with its cell and
error; the others are still executed and rendered, then the build raises :class:`ChapterFailed`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ..training.config import PROFILES
from ..data import DATASETS

from ..data import REPOSITORY_ROOT as ROOT  # the repository, defined once in data/locate.py
BOOK_FILES = ("_config.yml", "_toc.yml", "references.bib")


def absolute_data_paths() -> None:
    """Make the datasets' environment variables (``MNIST_DATA``...) absolute, resolved from the current
    directory, so that a kernel started in another directory reads the same folder."""
    for spec in DATASETS.values():
        if os.environ.get(spec.env_var):
            os.environ[spec.env_var] = str(Path(os.environ[spec.env_var]).resolve())


def chapters(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9]*.ipynb"))


def check_contents(root: Path = ROOT) -> list[str]:
    """The pages ``_toc.yml`` lists, each checked to exist (``.ipynb`` or ``.md``), and every chapter notebook
    checked to be listed: a ``ValueError`` names a missing page or an unlisted chapter before anything runs."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    pages = [toc["root"]] + [entry["file"] for entry in toc.get("chapters", [])]
    missing = [page for page in pages if not any((root / f"{page}{ext}").exists() for ext in (".ipynb", ".md"))]
    if missing:
        raise ValueError(f"_toc.yml lists {', '.join(missing)}, which {'does' if len(missing) == 1 else 'do'} not "
                         "exist: restore the file or remove its line from _toc.yml")
    unlisted = [p.name for p in chapters(root) if f"notebooks/{p.stem}" not in pages]
    if unlisted:
        raise ValueError(f"{', '.join(unlisted)} {'is' if len(unlisted) == 1 else 'are'} not in _toc.yml: add "
                         f"a line '  - file: notebooks/<name>' for each (the book would leave it out)")
    return pages


class ChapterFailed(RuntimeError):
    """One or more chapters raised: each is named with its cell and error (the rest of the book is built)."""


def execute_chapters(profile: str, out: Path, *, root: Path = ROOT, only: list[str] | None = None,
                     log=print, progress: bool = True, workers: int = 1) -> list[Path]:
    """Execute every chapter (or those whose name contains an entry of ``only``) into ``out/notebooks``,
    each with a progress bar over its cells. Every chapter runs even when one fails; then
    :class:`ChapterFailed` names the failures (chapter, cell, error).

    ``workers``: chapters executed at once, each in its own kernel, in the table of contents' order. With
    more than one, each kernel gets an equal share of the CPU's threads (``OMP_NUM_THREADS``), and the
    progress bars give way to one line per chapter. No two chapters write the same run (a chapter that
    trains names its runs by profile in its own folder, or reads the committed study)."""
    import papermill
    from concurrent.futures import ThreadPoolExecutor
    from papermill.exceptions import PapermillExecutionError

    log = log or (lambda *_: None)
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    env_runs = os.environ.setdefault("MNIST_COURSE_RUNS", str((root / "runs" / "book").resolve()))
    absolute_data_paths()  # the kernels run in the repository's root, not necessarily here
    todo = [nb for nb in chapters(root) if not only or any(key in nb.name for key in only)]
    workers = max(1, min(workers, len(todo) or 1))

    def execute(notebook: Path) -> tuple[Path, str | None]:
        target = out / "notebooks" / notebook.name
        t0 = time.perf_counter()
        log(f"executing {notebook.name} (profile {profile}, runs in {env_runs})")
        try:
            papermill.execute_notebook(str(notebook), str(target), parameters={"profile": profile},
                                       cwd=str(root), kernel_name="python3", progress_bar=progress and workers == 1)
        except PapermillExecutionError as error:
            failure = (f"{notebook.name}, cell {error.cell_index} (execution {error.exec_count}): "
                       f"{error.ename}: {error.evalue}")
            log(f"  FAILED: {failure}")
            return target, failure
        log(f"  {notebook.name} done in {time.perf_counter() - t0:.0f} s")
        return target, None

    threads = {"OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // workers))} if workers > 1 else {}
    saved = {k: os.environ.get(k) for k in threads}
    os.environ.update(threads)  # the kernels inherit it when they start
    try:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(execute, todo))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    failures = [failure for _, failure in results if failure]
    if failures:
        raise ChapterFailed("chapters that failed (their executed copies, with the traceback, are in "
                            f"{out / 'notebooks'}):\n" + "\n".join(f"- {f}" for f in failures))
    return [target for target, failure in results if not failure]


def build_book(profile: str = "quick", out: str | Path = "_build", *, root: Path = ROOT, log=print,
               workers: int = 1) -> Path:
    """Execute the chapters with ``profile`` (``workers`` at once: :func:`execute_chapters`) and render the
    book; returns the HTML folder."""
    log = log or (lambda *_: None)
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    check_contents(root)
    out = Path(out).resolve()
    source = out / "source"
    if source.exists():
        shutil.rmtree(source)
    source.mkdir(parents=True)
    for name in BOOK_FILES:
        shutil.copy(root / name, source / name)
    shutil.copytree(root / "book", source / "book")
    from .answer import write_answer
    from .concepts import write_concepts
    from .assets import vendor_mathjax
    from .demo import prepare_demo

    write_answer(source / "book" / "_generated")
    write_concepts(source / "book" / "_generated", root)
    vendor_mathjax(source, log=log)
    prepare_demo(source, root, log=log)
    failed = None
    try:
        execute_chapters(profile, source, root=root, log=log, workers=workers)
    except ChapterFailed as error:
        failed = error  # render what was built, then say what failed
    executable = Path(sys.executable).with_name("jupyter-book")
    if not executable.exists():
        executable = Path(shutil.which("jupyter-book") or "jupyter-book")
    command = [str(executable), "build", str(source), "--path-output", str(out), "--warningiserror", "--nitpick",
               "--keep-going"]
    log("rendering: " + " ".join(command))
    subprocess.run(command, check=True)
    html = out / "_build" / "html"
    log(f"book written to {html / 'index.html'}")
    if failed is not None:
        raise failed
    return html
