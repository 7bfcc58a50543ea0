"""The book builds under the smoke profile: papermill executes every chapter, Jupyter Book renders it with
warnings as errors, and every chapter page carries its executed outputs and figures."""
from __future__ import annotations

import json

from mnistlib.course.book import build_book, chapters


def test_notebooks_are_committed_without_outputs_and_take_parameters():
    for path in chapters():
        cells = json.loads(path.read_text())["cells"]
        assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code"), path
        assert any("parameters" in c["metadata"].get("tags", []) for c in cells), path


def test_smoke_book_builds_with_outputs_and_figures(tmp_path):
    html = build_book("smoke", tmp_path / "build", log=None)
    for path in chapters():
        page = (html / "notebooks" / f"{path.stem}.html").read_text()
        assert "Profile <strong>smoke</strong>" in page, path.stem
        assert 'class="cell_output' in page, path.stem
        assert "<table" in page and "|---|" not in page, path.stem  # computed tables render as tables
    assert len(list((html / "_images").glob("*.png"))) >= 9
    assert (html / "book" / "references.html").exists()


def test_find_results_looks_upwards_from_the_working_directory(tmp_path, monkeypatch):
    from mnistlib.course.notebook import find_results

    (tmp_path / "results" / "full").mkdir(parents=True)
    (tmp_path / "results" / "full" / "summary.csv").write_text("model\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert find_results("full", "summary.csv") == tmp_path / "results" / "full" / "summary.csv"
    assert find_results("hpo", "optuna.db") is None
