"""Every question of every reference notebook states its points (the notebooks' run is checked in
tests/test_student_experience.py)."""
import pytest

from assignments import paths
from assignments.notebooks import grade_cells, read_notebook

NOTEBOOKS = sorted(paths.SOURCE_DIR.glob("*/*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_every_question_states_its_points(notebook):
    for cell in grade_cells(read_notebook(notebook)):
        points = cell.metadata.nbgrader["points"]
        assert f"{points} point" in cell.source.splitlines()[0], cell.metadata.nbgrader["grade_id"]
