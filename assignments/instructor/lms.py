"""Notebooks uploaded to an LMS: `nbgrader zip_collect` of Moodle's or Canvas's download of all
submissions, and a grades CSV that the LMS gradebook imports.

The download layouts (one zip of every student's files):
- Moodle, "Download all submissions": `Jane Smith_1001_assignsubmission_file_/01_softmax.ipynb`
  (folders per student) or `Jane Smith_1001_assignsubmission_file_01_softmax.ipynb` (flat);
  the student id is Moodle's participant number.
- Canvas, "Download Submissions": `smithjane_1001_5001_01_softmax.ipynb`, `smithjane_LATE_1001_
  5002_01_softmax-1.ipynb` for a late resubmission (Canvas numbers re-uploaded files `-1`, `-2`);
  the student id is Canvas's user id.

A `-N` re-upload suffix is dropped, so a resubmitted `01_softmax-1.ipynb` or `cifar10_model-1.npz`
lands under its own name; model files (`.npz`, assignment 05) are collected next to the notebook.
A notebook under another name (`Untitled.ipynb`) is collected as it is, and autograde grades it
as the assignment's notebook (see `assignments.instructor.submission`). Lateness stays with the LMS, which
knows when each file was uploaded (file names carry no time).
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

from assignments.instructor.grading import Course, GradingError

_FILE = r"(?P<file_id>[^/]+?)(?:-\d+)?\.(?:ipynb|npz)$"
LAYOUTS = {
    "moodle": r".*/[^/]*_(?P<student_id>\d+)_assignsubmission_file_/?" + _FILE,
    "canvas": r".*/[^/_]+_(?:LATE_)?(?P<student_id>\d+)_\d+_" + _FILE,
}
"""nbgrader's `FileNameCollectorPlugin.named_regexp` for each LMS, matched on the extracted path."""

COLLECTED_EXTENSIONS = (".ipynb", ".npz")


def collect_uploads(course: Course, assignment: str, archive: str | Path, lms: str) -> list[str]:
    """`nbgrader zip_collect` of an LMS download into `submitted/<student id>/<assignment>/`.

    Inputs:
    - archive: the zip the LMS gave; it is copied to `downloaded/<assignment>/archive/`.
    - lms: "moodle" or "canvas" (the file-name layout, see LAYOUTS).

    Returns:
    - the ids of the students whose files were collected. A student's earlier collected files of
      this assignment are replaced. Raises GradingError for an unknown LMS or a missing archive.
    """
    archive = Path(archive)
    if lms not in LAYOUTS:
        raise GradingError(f"unknown LMS {lms!r}: expected one of {', '.join(LAYOUTS)}")
    if not archive.is_file():
        raise GradingError(f"{archive}: no such file (expected the zip of all submissions the LMS gives)")
    downloaded = course.root / "downloaded" / assignment / "archive"
    downloaded.mkdir(parents=True, exist_ok=True)
    shutil.copy(archive, downloaded / archive.name)
    course.nbgrader("zip_collect", assignment, "--force",
                    f"--FileNameCollectorPlugin.named_regexp={LAYOUTS[lms]}",
                    *(f"--FileNameCollectorPlugin.valid_ext={ext}" for ext in COLLECTED_EXTENSIONS))
    return course.students(assignment)


def write_lms_grades(course: Course, csv_path: str | Path) -> Path:
    """A grades CSV for an LMS gradebook import: `student_id`, the points of each assignment
    (empty when the student has no graded submission of it) and `total`, one row per student.

    Points are nbgrader's scores (manual grades included, after any late penalty). Returns the path.
    """
    scores = course.scores()
    assignments = sorted({s.assignment for s in scores})
    points = {(s.student, s.assignment): s.score for s in scores}
    csv_path = Path(csv_path).resolve()
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", *assignments, "total"])
        for student in sorted({s.student for s in scores}):
            row = [points.get((student, a)) for a in assignments]
            writer.writerow([student, *("" if p is None else f"{p:g}" for p in row),
                             f"{sum(p for p in row if p is not None):g}"])
    return csv_path
