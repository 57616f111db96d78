"""`python -m assignments demo`: the kit's main job on the bundled fixtures, end to end.

1. release/ is current and leak-free; 2. every source notebook (the reference solution) runs and
passes its tests; 3. a reference submission and an untouched release are autograded by nbgrader
in a scratch course (the reference must get every autograded point, the release none; written
answers wait for manual grading); 4. feedback and a CSV export are generated.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from assignments import paths
from assignments.grading import Course, assignment_names, format_scores
from assignments.notebooks import (execute_notebook, fill_solutions, question_results,
                                   read_notebook)
from assignments.release import release_differences


def run_demo(workdir: str | Path | None = None) -> bool:
    """Run the four steps, printing what happens; True when every promise held."""
    names = assignment_names()
    ok = True
    print(f"1. release/ against a fresh nbgrader generate_assignment ({', '.join(names)})")
    for name in names:
        differences = release_differences(name)
        ok &= not differences
        print(f"   {name}: " + ("up to date, no leaks" if not differences else "; ".join(differences)))

    print("2. reference notebooks (source/) executed on the available data")
    for notebook in sorted(paths.SOURCE_DIR.glob("*/*.ipynb")):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as scratch:  # files the notebook writes stay out of source/
            results = question_results(execute_notebook(read_notebook(notebook), scratch))
        failed = [r.grade_id for r in results if not r.passed]
        ok &= not failed
        print(f"   {notebook.relative_to(paths.REPO_ROOT)}: {len(results) - len(failed)}/{len(results)} "
              f"questions pass in {time.perf_counter() - start:.1f} s" + (f", FAILED {failed}" if failed else ""))

    with tempfile.TemporaryDirectory() as scratch:
        course = Course.scratch(workdir or scratch, names)
        print(f"3. nbgrader autograde of a reference and an empty submission in {course.root}")
        for name in names:
            _submit(course, name)
            course.autograde(name)
            course.feedback(name)
        rows = course.scores()
        print(format_scores(rows))
        for row in rows:
            if row.student == "reference" and not row.full_autograded_marks:
                ok = False
                print(f"   UNEXPECTED: the reference lost autograded marks on {row.assignment}")
            if row.student == "empty" and row.score != 0:
                ok = False
                print(f"   UNEXPECTED: the empty submission scored {row.score:g} on {row.assignment}")
        csv_path = course.export(course.root / "grades.csv")
        print(f"4. feedback in {course.root / 'feedback'}; grades exported to {csv_path}")
    print("demo: all good" if ok else "demo: FAILED (see above)")
    return ok


def _submit(course: Course, assignment: str) -> None:
    """submitted/reference: the release with the source solutions; submitted/empty: the release."""
    for released in sorted((paths.RELEASE_DIR / assignment).glob("*.ipynb")):
        source = read_notebook(paths.SOURCE_DIR / assignment / released.name)
        for student in ("reference", "empty"):
            folder = course.root / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            if student == "empty":
                shutil.copy(released, folder / released.name)
            else:
                nbformat.write(fill_solutions(read_notebook(released), source), folder / released.name)
