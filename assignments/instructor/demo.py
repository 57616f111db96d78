"""`python -m assignments demo`: the kit's main job on the bundled fixtures, end to end.

1. release/ is current and leak-free; 2. for every assignment, a reference submission (the release
with the source solutions filled in, so every reference notebook runs) and an untouched release
are autograded by nbgrader in a demo course (the reference must get every autograded point, the
release none; written answers wait for manual grading), and feedback is generated; 3. the grades
are exported to CSV. The demo course is kept (default `demo-course/` in the kit's folder) to look at.
"""
from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assignments import paths
from assignments.instructor.grading import Course, GradingError, assignment_names, format_scores
from assignments.instructor.release import release_differences
from assignments.jail.sandbox import sandbox_problem

DEFAULT_WORKDIR = paths.REPO_ROOT / "demo-course"
MARKER = ".dlkit-demo-course"  # the demo replaces only a folder that carries its own marker


def run_demo(workdir: str | Path | None = None) -> bool:
    """Run the three steps, printing what happens; True when every promise held.

    Inputs: workdir, the demo course's folder: new, empty, or an earlier demo course, which is
    replaced (default `demo-course/` in the kit's folder).
    Raises GradingError before anything long starts when this machine cannot grade (no jail) or
    when workdir holds other files.
    """
    problem = sandbox_problem()
    if problem:
        raise GradingError(f"this machine cannot grade yet: {problem}. Run `bash setup.sh` as root, which "
                           "installs the system packages grading needs.")
    root = _fresh_folder(Path(workdir) if workdir else DEFAULT_WORKDIR)
    names = assignment_names()
    ok = True
    print(f"1. release/ against a fresh nbgrader generate_assignment ({', '.join(names)})")
    with ThreadPoolExecutor(2) as pool:  # an nbgrader process each, in scratch courses of their own
        checked = list(pool.map(release_differences, names))
    for name, differences in zip(names, checked):
        ok &= not differences
        print(f"   {name}: " + ("up to date, no leaks" if not differences else "; ".join(differences)))

    course = Course.scratch(root, names)
    print(f"2. nbgrader autograde and feedback of a reference and an empty submission, in {course.root}")
    for name in names:
        start = time.perf_counter()
        _submit(course, name)
        course.autograde(name, workers=2)  # the two submissions side by side: much of each is start-up
        course.feedback(name)
        print(f"   {name}: {time.perf_counter() - start:.0f} s")
    rows = course.scores()
    print(format_scores(rows))
    for row in rows:
        if row.student == "reference" and not row.full_autograded_marks:
            ok = False
            print(f"   UNEXPECTED: the reference lost autograded marks on {row.assignment}")
        if row.student == "empty" and row.score != 0:
            ok = False
            print(f"   UNEXPECTED: the empty submission scored {row.score:g} on {row.assignment}")
    csv_path = course.export(course.root / "grades_by_question.csv")
    print(f"3. grades exported to {csv_path}\n   feedback (HTML per student): {course.root / 'feedback'}\n"
          f"   the demo course is kept; formgrader shows it: cd {course.root} && jupyter lab")
    print("demo: all good" if ok else "demo: FAILED (see above)")
    return ok


def _fresh_folder(folder: Path) -> Path:
    """`folder`, empty and marked as a demo course; an earlier demo course there is removed first."""
    if (folder / MARKER).exists():
        shutil.rmtree(folder)
    if folder.exists() and any(folder.iterdir()):
        raise GradingError(f"{folder} is not empty: give --workdir a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).touch()
    return folder


def _submit(course: Course, assignment: str) -> None:
    """submitted/reference: the release with the source solutions; submitted/empty: the release."""
    course.submit_reference(assignment, "reference")
    shutil.copytree(course.root / "release" / assignment, course.root / "submitted" / "empty" / assignment)
