"""assignments.notebooks: reading, loading definitions, filling solutions, reading results."""
import json
import math

import numpy as np

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from assignments import paths
from assignments.notebooks import (NotebookError, fill_solutions, has_code, load_definitions,
                                   question_results, read_notebook)
from tests.builders import graded_test_cell


def write(tmp_path, *cells, name="nb.ipynb"):
    path = tmp_path / name
    nbformat.write(new_notebook(cells=list(cells)), path)
    return path


def test_load_definitions_keeps_defs_imports_and_constants_but_runs_nothing_else(tmp_path):
    path = write(tmp_path,
                 new_markdown_cell("# title"),
                 new_code_cell("%load_ext autoreload\nimport math\nSCALE = 6\nTWICE = 2 * SCALE\nPI, E = math.pi, math.e\n"
                               "open('side_effect.txt', 'w').write('x')\ndata = list(range(3))"),
                 new_code_cell("def area(r):\n    return math.pi * r ** 2 * SCALE\n\n"
                               "class Box:\n    size = 1\n\nraise RuntimeError('training cell')"))
    module = load_definitions(path)
    assert module.area(1.0) == pytest.approx(6 * 3.141592653589793)
    assert module.Box.size == 1
    assert not hasattr(module, "data") and not hasattr(module, "TWICE")
    assert (module.PI, module.E) == (math.pi, math.e)
    assert not (tmp_path / "side_effect.txt").exists()


def test_a_cell_that_is_not_python_names_the_cell(tmp_path):
    path = write(tmp_path, new_code_cell("x = 1"), new_code_cell("def f(:\n  pass"))
    with pytest.raises(NotebookError, match=r"cell 1 .* is not valid Python"):
        load_definitions(path)


@pytest.mark.parametrize("content, expected", [
    (None, "no such notebook file"),
    ("{not json", "is not a valid Jupyter notebook"),
    (json.dumps({"cells": "nope", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}),
     "is not a valid Jupyter notebook"),
])
def test_bad_notebook_files_get_a_clear_error(tmp_path, content, expected):
    path = tmp_path / "bad.ipynb"
    if content is not None:
        path.write_text(content)
    with pytest.raises(NotebookError, match=expected):
        read_notebook(path)


def test_fill_solutions_puts_the_reference_into_the_answer_cells_only():
    source = read_notebook(paths.SOURCE_DIR / "01_softmax/01_softmax.ipynb")
    release = read_notebook(paths.RELEASE_DIR / "01_softmax/01_softmax.ipynb")
    filled = fill_solutions(release, source)
    changed = [i for i, (a, b) in enumerate(zip(release.cells, filled.cells)) if a.source != b.source]
    answers = [c.metadata.nbgrader.grade_id for c in source.cells if c.metadata.nbgrader.get("solution")]
    assert [filled.cells[i].metadata.nbgrader.grade_id for i in changed] == answers
    assert "np.max(z, axis=1, keepdims=True)" in filled.cells[changed[0]].source
    assert "NotImplementedError" in release.cells[changed[0]].source  # the original is untouched
    assert "a_momentum" in answers and "YOUR ANSWER HERE" not in filled.cells[changed[-1]].source


def test_question_results_score_a_test_cell_by_its_errors_only():
    nb = new_notebook(cells=[
        graded_test_cell("ok", 2, outputs=[new_output("stream", name="stderr",
                                                      text="RuntimeWarning: overflow")]),
        graded_test_cell("bad", 3, outputs=[new_output("error", ename="AssertionError",
                                                       evalue="wrong sign", traceback=[])]),
        new_code_cell("not graded", outputs=[new_output("error", ename="E", evalue="", traceback=[])]),
    ])
    results = question_results(nb)
    assert [(r.grade_id, r.points, r.max_points, r.passed) for r in results] == [
        ("ok", 2, 2, True), ("bad", 0, 3, False)]
    assert results[1].message == "AssertionError: wrong sign"


def test_reference_solutions_of_an_earlier_assignment_are_loaded_once():
    from assignments.previous import reference_solutions

    previous = reference_solutions("01_softmax")
    assert previous is reference_solutions("01_softmax")
    assert previous.softmax(np.array([[0.0, 0.0]])).tolist() == [[0.5, 0.5]]
    with pytest.raises(NotebookError, match="99_missing.ipynb is missing"):
        reference_solutions("99_missing")
    from assignments.previous import softmax as by_topic

    assert by_topic is previous
    with pytest.raises(ImportError):
        from assignments.previous import no_such_topic  # noqa: F401


@pytest.mark.parametrize("source, expected", [
    ('"""Held-out accuracy (4 points)."""', False),
    ('"""Docstring."""\n# a comment\n', False),
    ("", False),
    ('"""Docstring."""\nassert x == 1', True),
    ("%time f()", True),
    ("def broken(:", True),
])
def test_has_code_tells_cells_with_only_docstrings_and_comments(source, expected):
    assert has_code(source) is expected
