"""The chapters teach in a fixed shape (issue 29): the first idea comes straight after the parameters and the
folded install cell, every exercise has a solution hidden until opened, and every solution checks its own
answer, so that a wrong solution fails the smoke build of the book."""
from __future__ import annotations

import json
import re

import pytest

from mnistlib.course.book import chapters
from mnistlib.course.launch import INSTALL_TAG

CHAPTERS = chapters()
WRAPPED = ("01_convolution", "02_cross_entropy")  # the rewritten chapters: code fits the page's width
WIDTH = 100  # characters of a code line the book shows without cutting it off


def cells(path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def text(cell) -> str:
    return "".join(cell["source"])


def exercises(path) -> list[tuple[str, list[dict]]]:
    """``(label, the cells of its solution)`` for every exercise of a chapter."""
    found, inside, label = [], None, None
    for cell in cells(path):
        source = text(cell)
        if match := re.search(r"```\{solution-start\} (\S+)", source):
            label, inside = match.group(1), []
            assert ":class: dropdown" in source, f"{path.name}: the solution of {label} is not folded"
        elif "```{solution-end}" in source:
            found.append((label, inside))
            inside = None
        elif inside is not None:
            inside.append(cell)
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_first_idea_comes_right_after_the_parameters_and_the_folded_install_cell(path):
    notebook = cells(path)
    first_idea = next(i for i, c in enumerate(notebook) if c["cell_type"] == "markdown" and "\n## " in "\n" + text(c))
    before = notebook[1:first_idea]  # after the title
    assert [c["cell_type"] for c in before] == ["code", "code"], [text(c)[:40] for c in before]
    assert "parameters" in before[0]["metadata"].get("tags", [])
    assert INSTALL_TAG in before[1]["metadata"].get("tags", []) and "git" in text(before[1])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_hidden_solution_that_asserts_its_answer(path):
    labels = re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", "\n".join(text(c) for c in cells(path)))
    solutions = dict(exercises(path))
    assert len(labels) >= 2, f"{path.name}: {len(labels)} exercises"
    assert set(labels) == set(solutions), f"{path.name}: exercises without a solution: {set(labels) - set(solutions)}"
    for label, solution in solutions.items():
        code = "\n".join(text(c) for c in solution if c["cell_type"] == "code")
        assert re.search(r"^\s*assert ", code, re.M), f"{path.name}: the solution of {label} checks nothing"


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.stem in WRAPPED], ids=lambda p: p.stem)
def test_code_lines_fit_the_page(path):
    shown = [c for c in cells(path) if c["cell_type"] == "code" and INSTALL_TAG not in c["metadata"].get("tags", [])]
    long = [line for c in shown for line in text(c).splitlines() if len(line) > WIDTH]
    assert long == [], f"{path.name}: {len(long)} code lines longer than {WIDTH} characters"


def test_a_solution_without_an_assert_is_caught(tmp_path):
    notebook = {"cells": [
        {"cell_type": "markdown", "source": ["```{solution-start} ex-x\n", ":class: dropdown\n", "```"]},
        {"cell_type": "code", "source": ["print(1 + 1)"]},
        {"cell_type": "markdown", "source": ["```{solution-end}\n", "```"]}]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook))
    (label, solution), = exercises(path)
    assert label == "ex-x" and not re.search(r"^\s*assert ", text(solution[0]), re.M)


@pytest.mark.parametrize("concept", __import__("mnistlib.course.concepts", fromlist=["CONCEPTS"]).CONCEPTS,
                         ids=lambda c: c.name[:40])
def test_every_concept_is_explained_shown_and_practised_where_the_map_says(concept):
    from mnistlib.course.book import ROOT

    notebook = cells(ROOT / "notebooks" / f"{concept.chapter}.ipynb")
    headings = [line.lstrip("#").strip() for c in notebook if c["cell_type"] == "markdown"
                for line in text(c).splitlines() if line.startswith("#")]
    assert concept.section in headings, f"{concept.chapter}: no section {concept.section!r}"
    code = "\n".join(text(c) for c in notebook if c["cell_type"] == "code")
    assert concept.shown_by.split(".")[-1] + "(" in code, f"{concept.chapter} never calls {concept.shown_by}"
    if concept.exercise:
        assert f":label: {concept.exercise}" in "\n".join(text(c) for c in notebook), concept.exercise


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_code_cell_grows_past_twenty_lines(path):
    """Notebooks teach, the library computes: a longer cell belongs in ``mnistlib``."""
    long = [text(c)[:40] for c in cells(path) if c["cell_type"] == "code" and len(text(c).splitlines()) > 20]
    assert long == [], f"{path.name}: cells longer than 20 lines: {long}"
