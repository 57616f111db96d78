"""A scratch course full of correct submissions, shared by the grading benchmarks."""
from __future__ import annotations

from pathlib import Path

import nbformat

from assignments import paths
from assignments.instructor.grading import Course
from assignments.notebooks import fill_solutions, read_notebook


def reference_course(directory: str | Path, assignment: str, count: int, db_url: str | None = None) -> Course:
    """A new course in `directory` (its gradebook at `db_url`, default SQLite in the course) whose
    `count` students each submitted the released `assignment` with the reference answers filled in
    (student000, student001, ...)."""
    notebook = f"{assignment}.ipynb"
    submission = fill_solutions(read_notebook(paths.RELEASE_DIR / assignment / notebook),
                                read_notebook(paths.SOURCE_DIR / assignment / notebook))
    course = Course.scratch(directory, [assignment])
    for i in range(count):
        folder = course.root / "submitted" / f"student{i:03d}" / assignment
        folder.mkdir(parents=True)
        nbformat.write(submission, folder / notebook)
    return Course(course.root, db_url)
