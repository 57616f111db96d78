"""A scratch course full of correct submissions, shared by the grading benchmarks."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

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


def seconds_to_grade(assignment: str, count: int, grade: Callable[[Course], None]) -> float:
    """Seconds that `grade(course)` takes on a fresh `reference_course` of `count` submissions;
    every submission must then have full autograded marks."""
    with tempfile.TemporaryDirectory() as scratch:
        course = reference_course(scratch, assignment, count)
        start = time.perf_counter()
        grade(course)
        elapsed = time.perf_counter() - start
        scores = course.scores()
        assert len(scores) == count and all(s.full_autograded_marks for s in scores), \
            "a correct submission lost marks"
    return elapsed
