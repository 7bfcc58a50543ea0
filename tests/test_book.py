"""The book builds under the smoke profile: papermill executes every chapter, Jupyter Book renders it with
warnings as errors, and every chapter page carries its executed outputs and figures."""
from __future__ import annotations

import json

import pytest

from mnistlib.course.assets import MATHJAX_VERSION, npm_package
from mnistlib.course.book import chapters

# one worker builds the smoke book and runs every test that reads it (pytest -n: xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("smoke_book")


def test_notebooks_are_committed_without_outputs_and_take_parameters():
    for path in chapters():
        cells = json.loads(path.read_text())["cells"]
        assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code"), path
        assert any("parameters" in c["metadata"].get("tags", []) for c in cells), path
        ids = [c.get("id") for c in cells]
        assert None not in ids and len(set(ids)) == len(ids), f"{path}: every cell needs its own id (nbformat 4.5)"


def test_smoke_book_builds_with_outputs_and_figures(smoke_book):
    html, figures = smoke_book, 0
    for path in chapters():
        page = (html / "notebooks" / f"{path.stem}.html").read_text()
        assert "Profile <strong>smoke</strong>" in page, path.stem
        assert 'class="cell_output' in page, path.stem
        assert "<table" in page and "|---|" not in page, path.stem  # computed tables render as tables
        assert 'class="exercise' in page and "solution" in page, path.stem  # exercises, solutions hidden
        figures += page.count('<img src="data:image/png;base64,')  # the library's figures, with alt text
    assert figures >= 12
    assert (html / "book" / "references.html").exists()
    if npm_package("mathjax", MATHJAX_VERSION, log=None) is not None:  # else the build fell back to the CDN, saying so
        assert (html / "_static" / "mathjax" / "tex-mml-chtml.js").exists()  # formulas without a network


def test_every_chapter_ran_every_cell_without_an_error(smoke_book):
    """The smoke build executes each chapter once (papermill, the smoke profile): the check nbval made, without
    running every chapter a second time. Every code cell ran, in order, and none holds an error output."""
    executed = smoke_book.parents[1] / "source" / "notebooks"
    for path in chapters():
        cells = [c for c in json.loads((executed / path.name).read_text())["cells"] if c["cell_type"] == "code"]
        counts = [c["execution_count"] for c in cells]
        assert None not in counts and counts == sorted(counts), (path.name, counts)
        errors = [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
        assert errors == [], (path.name, [f"{e['ename']}: {e['evalue']}" for e in errors])


def test_the_first_page_opens_with_the_answer(smoke_book):
    page = (smoke_book / "book" / "intro.html").read_text()
    assert page.index("The answer, as measured") < page.index("This course reproduces")
    for claim in ("test accuracy %", "parameters"):
        assert claim in page
    assert "not reproduced" in page and "pending" in page  # the committed verdicts, and what is missing
    assert "03_paper_cnn.html" in page  # each row links to its chapter


def test_a_failing_chapter_is_named_with_its_cell_and_the_others_still_run(tmp_path):
    import nbformat

    from mnistlib.course.book import ChapterFailed, execute_chapters

    (tmp_path / "notebooks").mkdir()
    for name, code in (("01_bad", "profile = 'x'\n"), ("02_good", "profile = 'x'\n")):
        cells = [nbformat.v4.new_code_cell(code, metadata={"tags": ["parameters"]}),
                 nbformat.v4.new_code_cell("1 / 0" if name == "01_bad" else "print('fine')")]
        nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {
            "name": "python3", "display_name": "Python 3", "language": "python"}}), tmp_path / "notebooks" / f"{name}.ipynb")
    with pytest.raises(ChapterFailed, match=r"01_bad.ipynb, cell 2 .*ZeroDivisionError"):
        execute_chapters("smoke", tmp_path / "out", root=tmp_path, log=None, progress=False)
    assert (tmp_path / "out" / "notebooks" / "02_good.ipynb").exists()


def test_find_results_looks_upwards_from_the_working_directory(tmp_path, monkeypatch):
    from mnistlib.course.notebook import find_results

    (tmp_path / "results" / "full").mkdir(parents=True)
    (tmp_path / "results" / "full" / "summary.csv").write_text("model\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert find_results("full", "summary.csv") == tmp_path / "results" / "full" / "summary.csv"
    assert find_results("hpo", "optuna.db") is None
