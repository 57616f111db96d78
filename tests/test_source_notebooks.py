"""Every reference notebook runs end to end on the bundled data and passes all its tests."""
import pytest

from assignments import paths
from assignments.notebooks import grade_cells, question_results, read_notebook

NOTEBOOKS = sorted(paths.SOURCE_DIR.glob("*/*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_reference_notebook_runs_and_passes_every_question(notebook, audited_reference):
    executed = audited_reference(notebook.parent.name)  # in a scratch folder, run once per session
    failed = [(r.grade_id, r.message) for r in question_results(executed) if not r.passed]
    assert failed == []
    errors = [(cell.metadata.get("nbgrader", {}).get("grade_id"), output.ename, output.evalue)
              for cell in executed.cells for output in cell.get("outputs", [])
              if output.output_type == "error"]
    assert errors == [], "cells outside the tests raised"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_every_question_states_its_points(notebook):
    for cell in grade_cells(read_notebook(notebook)):
        points = cell.metadata.nbgrader["points"]
        assert f"{points} point" in cell.source.splitlines()[0], cell.metadata.nbgrader["grade_id"]
