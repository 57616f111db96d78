"""`python -m assignments check`: a student's own run of a notebook's tests, visible or hidden.

Unlike `nbgrader validate`, the result is a per-question table and an exit status that says
whether everything passed. The student's notebook file is never modified.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from assignments import paths
from assignments.grading import Course, GradingError
from assignments.notebooks import QuestionResult, execute_notebook, question_results, read_notebook
from assignments.sandbox import sandbox_problem


def check_notebook(path: str | Path, hidden: bool = False,
                   assignment: str | None = None) -> list[QuestionResult]:
    """Run a notebook's test cells and return one result per graded question.

    Inputs:
    - path: the student's notebook, e.g. release/01_softmax/01_softmax.ipynb.
    - hidden: also run the hidden tests, through the real nbgrader autograde in a scratch course
      (needs the kit's source/ notebooks); the kernel is jailed as in grading where bubblewrap
      runs, and not jailed elsewhere (macOS, say).
    - assignment: the assignment it belongs to (default: the notebook's folder name).
    """
    path = Path(path).resolve()
    nb = read_notebook(path)
    if not hidden:
        return question_results(execute_notebook(nb, working_dir=path.parent))
    assignment = assignment or path.parent.name
    source = paths.SOURCE_DIR / assignment
    if not source.is_dir():
        raise GradingError(f"no assignment {assignment!r} in {paths.SOURCE_DIR}; pass --assignment")
    name = _source_notebook_name(source, path.name)
    with tempfile.TemporaryDirectory() as scratch:
        course = Course.scratch(scratch, [assignment])
        if sandbox_problem():  # grade unjailed where jails cannot run: it is the student's own notebook
            with open(course.root / "nbgrader_config.py", "a", encoding="utf-8") as config:
                config.write("\nc.IsolatedExecute.jail = False\n")
        submitted = course.root / "submitted" / "self" / assignment
        submitted.mkdir(parents=True)
        shutil.copy(path, submitted / name)
        course.autograde(assignment, "self")
        return question_results(read_notebook(course.root / "autograded" / "self" / assignment / name))


def _source_notebook_name(source: Path, submitted_name: str) -> str:
    """The source notebook a submitted file stands for (a renamed copy of a one-notebook assignment)."""
    names = sorted(p.name for p in source.glob("*.ipynb"))
    if submitted_name in names:
        return submitted_name
    if len(names) == 1:
        return names[0]
    raise GradingError(f"{submitted_name} is none of the assignment's notebooks {names}")


def format_results(results: list[QuestionResult]) -> str:
    """A per-question table with totals, then the message of every failed question."""
    width = max([len("question"), *(len(r.grade_id) for r in results)])
    lines = [f"{'question'.ljust(width)}  points  result"]
    for r in results:
        lines.append(f"{r.grade_id.ljust(width)}  {f'{r.points:g}/{r.max_points:g}'.ljust(6)}  "
                     f"{'passed' if r.passed else 'FAILED'}")
    total, maximum = sum(r.points for r in results), sum(r.max_points for r in results)
    lines.append(f"{'total'.ljust(width)}  {total:g}/{maximum:g}")
    for r in results:
        if not r.passed:
            lines += ["", f"{r.grade_id}:", *("  " + line for line in r.message.splitlines())]
    return "\n".join(lines)
