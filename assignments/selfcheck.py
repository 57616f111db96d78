"""`python -m assignments check`: a student's own run of a notebook's tests, visible or hidden.

Unlike `nbgrader validate`, the result is a per-question table and an exit status that says
whether everything passed. The student's notebook file is never modified. When a hidden check
recognises a mistake of the catalogue (`grader_tests/mutants/`), the grading record of the
autograded notebook names it; the table then names the mistake and a list of hints under it says
how to fix each one.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from assignments import paths
from assignments.notebooks import (QuestionResult, execute_notebook, grade_cells, has_code, nbgrader_meta,
                                   question_results, read_notebook)

HIDDEN_ONLY = "checked by hidden tests only: run `python -m assignments check --hidden` to grade it"
NOT_ANSWERED = ("not answered yet: the function it tests (or one that function uses) still raises "
                "NotImplementedError; fill in its YOUR CODE HERE part")


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
        hidden_only = {nbgrader_meta(c)["grade_id"] for c in grade_cells(nb) if not has_code(c.source)}
        return [replace(r, points=0.0, checked=False, message=HIDDEN_ONLY) if r.grade_id in hidden_only
                else r for r in question_results(execute_notebook(nb, working_dir=path.parent))]
    # The grading side: the kit has it, the student distribution does not (cli refuses --hidden there).
    from assignments.instructor.grading import Course
    from assignments.instructor.submission import STATUS_KEY
    from assignments.jail.sandbox import sandbox_problem

    source = _assignment_source(assignment, path)
    assignment = source.name
    name = _source_notebook_name(source, path.name)
    _check_belongs(nb, path.name, source / name)
    with tempfile.TemporaryDirectory() as scratch:
        course = Course.scratch(scratch, [assignment])
        if sandbox_problem():  # grade unjailed where jails cannot run: it is the student's own notebook
            with open(course.root / "nbgrader_config.py", "a", encoding="utf-8") as config:
                config.write("\nc.IsolatedExecute.jail = False\n")
        submitted = course.root / "submitted" / "self" / assignment
        submitted.mkdir(parents=True)
        shutil.copy(path, submitted / name)
        course.autograde(assignment, "self")
        graded = read_notebook(course.root / "autograded" / "self" / assignment / name)
    mistakes = graded.metadata.get(STATUS_KEY, {}).get("mistakes", {})
    return [replace(r, mistakes=tuple(mistakes.get(r.grade_id, ()))) for r in question_results(graded)]


def _assignment_source(assignment: str | None, path: Path) -> Path:
    """The source folder of `assignment` (default: the notebook's folder name); GradingError if none."""
    from assignments.instructor.grading import GradingError, assignment_names

    source = paths.SOURCE_DIR / (assignment or path.parent.name)
    if source.is_dir():
        return source
    known = ", ".join(assignment_names())
    if assignment:
        raise GradingError(f"no assignment {assignment!r} in {paths.SOURCE_DIR}; the assignments are: {known}")
    raise GradingError(f"{path} is in the folder {path.parent.name!r}, which is no assignment; pass "
                       f"--assignment with one of: {known}")


def _check_belongs(nb, submitted_name: str, source_notebook: Path) -> None:
    """GradingError when the notebook has graded cells but none of `source_notebook`'s (another
    assignment's notebook), naming the assignment it does belong to where one matches."""
    from assignments.instructor.grading import GradingError, assignment_names

    def ids(notebook) -> set:  # answer and test cells (prose cells such as "setup" recur in every assignment)
        return {nbgrader_meta(c)["grade_id"] for c in notebook.cells
                if nbgrader_meta(c).get("grade") or nbgrader_meta(c).get("solution")}

    own = ids(nb)
    if not own or own & ids(read_notebook(source_notebook)):
        return
    assignment = source_notebook.parent.name
    message = f"{submitted_name} is not a notebook of {assignment}: none of its graded cells belong to it"
    matches = [name for name in assignment_names() if name != assignment and any(
        own & ids(read_notebook(other)) for other in (paths.SOURCE_DIR / name).glob("*.ipynb"))]
    if matches:
        message += f". It looks like {matches[0]}: pass --assignment {matches[0]}"
    raise GradingError(message)


def _source_notebook_name(source: Path, submitted_name: str) -> str:
    """The source notebook a submitted file stands for (a renamed copy of a one-notebook assignment)."""
    from assignments.instructor.grading import GradingError

    names = sorted(p.name for p in source.glob("*.ipynb"))
    if submitted_name in names:
        return submitted_name
    if len(names) == 1:
        return names[0]
    raise GradingError(f"{submitted_name} is none of the assignment's notebooks {names}")


def format_results(results: list[QuestionResult]) -> str:
    """A per-question table with totals, hints for the known mistakes, then every failure message."""
    width = max([len("question"), *(len(r.grade_id) for r in results)])
    lines = [f"{'question'.ljust(width)}  points  result"]
    mistakes = {r.grade_id: r.mistakes for r in results if not r.passed}
    for r in results:
        outcome = ("hidden only" if not r.checked else "passed" if r.passed else
                   "FAILED  not answered yet" if _not_answered(r) else "FAILED")
        row = f"{r.grade_id.ljust(width)}  {f'{r.points:g}/{r.max_points:g}'.ljust(6)}  {outcome}"
        if mistakes.get(r.grade_id):
            row += "  looks like: " + "; ".join(m["name"] for m in mistakes[r.grade_id])
        lines.append(row)
    total, maximum = sum(r.points for r in results), sum(r.max_points for r in results)
    lines.append(f"{'total'.ljust(width)}  {total:g}/{maximum:g}")
    if any(mistakes.values()):
        lines += ["", "Hints for the known mistakes recognised:"]
        lines += [f"  {grade_id}: {m['name']}. Hint: {m['hint']}"
                  for grade_id, found in mistakes.items() for m in found]
    for r in results:
        if not r.passed:
            message = NOT_ANSWERED if _not_answered(r) else r.message
            lines += ["", f"{r.grade_id}:", *("  " + line for line in message.splitlines())]
    return "\n".join(lines)


def _not_answered(result: QuestionResult) -> bool:
    """The test failed only because a function is still the released stub (a bare NotImplementedError)."""
    return result.message.strip() in ("NotImplementedError:", "NotImplementedError")
