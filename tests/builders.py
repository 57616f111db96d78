"""Submissions built from the release notebooks, and graded cells built from scratch, for tests."""
from __future__ import annotations

import inspect
from typing import Callable

import nbformat

from assignments import paths
from assignments.notebooks import cell_by_grade_id, fill_solutions, read_notebook

SOFTMAX_NB = "01_softmax/01_softmax.ipynb"


def released(notebook: str) -> nbformat.NotebookNode:
    """The release notebook, e.g. "01_softmax/01_softmax.ipynb"."""
    return read_notebook(paths.RELEASE_DIR / notebook)


def correct_submission(notebook: str) -> nbformat.NotebookNode:
    """The release notebook with every answer cell holding the reference solution."""
    return fill_solutions(released(notebook), read_notebook(paths.SOURCE_DIR / notebook))


def with_answer(nb: nbformat.NotebookNode, grade_id: str, function: Callable) -> nbformat.NotebookNode:
    """A copy of `nb` whose answer cell `grade_id` defines `grade_id` as `function`'s code."""
    nb = nbformat.from_dict(nb)
    cell_by_grade_id(nb, grade_id).source = (
        inspect.getsource(function) + f"\n{grade_id} = {function.__name__}\n")
    return nb


def graded_test_cell(grade_id: str, points: float, source: str = "...",
                     outputs: list | None = None) -> nbformat.NotebookNode:
    """A locked nbgrader test cell worth `points`, with `source` and (as if executed) `outputs`."""
    return nbformat.v4.new_code_cell(source, outputs=outputs or [], metadata={"nbgrader": {
        "grade": True, "grade_id": grade_id, "points": points, "solution": False, "locked": True,
        "schema_version": 3}})
