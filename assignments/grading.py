"""Thin, checked wrappers over the real nbgrader commands, for one course directory.

A course directory holds `nbgrader_config.py`, `source/`, `release/`, `submitted/<student>/<assignment>/`
and, after grading, `autograded/`, `feedback/` and `gradebook.db`: nbgrader's own layout, so an
instructor can mix these commands with nbgrader's and formgrader.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from assignments import paths
from assignments.leaks import find_leaks, hidden_test_lines

class GradingError(Exception):
    """An nbgrader command failed, or its result broke a promise of the kit (e.g. a leak)."""


@dataclass(frozen=True)
class SubmissionScore:
    """One student's grade on one assignment, with the score of every graded cell.

    `pending` names the cells still waiting for a person's grade (written answers); their
    score counts as 0 until then, as in nbgrader's own totals.
    """

    student: str
    assignment: str
    score: float
    max_score: float
    questions: dict[str, tuple[float, float]]
    pending: frozenset[str] = frozenset()

    @property
    def full_autograded_marks(self) -> bool:
        """True when every automatically graded question has all its points."""
        return all(score == maximum for name, (score, maximum) in self.questions.items()
                   if name not in self.pending)


class Course:
    """An nbgrader course directory, and the nbgrader commands run in it."""

    def __init__(self, root: str | Path = paths.REPO_ROOT):
        self.root = Path(root).resolve()
        if not (self.root / "nbgrader_config.py").is_file():
            raise GradingError(f"{self.root} is not a course directory: it has no nbgrader_config.py")

    @classmethod
    def scratch(cls, directory: str | Path, assignments: list[str] | None = None) -> "Course":
        """A new course in `directory` with the kit's config and source of `assignments` (all)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy(paths.REPO_ROOT / "nbgrader_config.py", directory)
        for name in assignments or assignment_names():
            shutil.copytree(paths.SOURCE_DIR / name, directory / "source" / name, dirs_exist_ok=True)
        return cls(directory)

    def nbgrader(self, *args: str) -> str:
        """Run `nbgrader ARGS` in the course; return its log, raise GradingError when it fails."""
        env = dict(os.environ)
        # nbgrader runs `alembic` and kernels by name: they live beside this interpreter.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=self.root, env=env,
                              capture_output=True, text=True)
        log = done.stdout + done.stderr
        if done.returncode != 0 or "[ERROR]" in log or "| ERROR]" in log:
            raise GradingError(f"nbgrader {' '.join(args)} failed in {self.root}:\n{log[-4000:]}")
        return log

    def generate(self, assignment: str, release_dir: str | Path | None = None) -> Path:
        """`nbgrader generate_assignment`: write the student version and record the graded cells.

        Returns the folder the student notebooks were written to; raises GradingError when any
        solution or hidden-test text reached them.
        """
        release_root = Path(release_dir) if release_dir else self.root / "release"
        self.nbgrader("generate_assignment", assignment, "--force",
                      f"--CourseDirectory.release_directory={release_root}")
        leaks = find_leaks(self.root / "source" / assignment, release_root / assignment)
        if leaks:
            raise GradingError("solution or hidden-test text reached the release:\n" + "\n".join(leaks))
        return release_root / assignment

    def autograde(self, assignment: str, student: str = "*") -> None:
        """`nbgrader autograde` of `submitted/<student>/<assignment>` (a glob; every student by default).

        The gradebook is brought up to date with the source first, so grading works in a fresh
        course directory too; the course's release/ is left as it is.
        """
        with tempfile.TemporaryDirectory() as scratch_release:
            self.generate(assignment, release_dir=scratch_release)
        self.nbgrader("autograde", assignment, "--force", f"--student={student}")

    def feedback(self, assignment: str, student: str = "*") -> Path:
        """`nbgrader generate_feedback`, then prove no hidden test text reached the HTML."""
        self.nbgrader("generate_feedback", assignment, "--force", f"--student={student}")
        hidden = hidden_test_lines(self.root / "source" / assignment)
        for html in (self.root / "feedback").glob(f"{student}/{assignment}/*.html"):
            text = html.read_text(encoding="utf-8")
            shown = [line for line in hidden if line in text]
            if shown or "BEGIN HIDDEN TESTS" in text:
                html.unlink()
                raise GradingError(f"{html} showed hidden test code ({shown[:3]}); it was deleted")
        return self.root / "feedback"

    def export(self, csv_path: str | Path) -> Path:
        """`nbgrader export` of every grade to a CSV file."""
        csv_path = Path(csv_path).resolve()
        self.nbgrader("export", f"--to={csv_path}")
        return csv_path

    def scores(self, assignment: str | None = None) -> list[SubmissionScore]:
        """Every graded submission in the gradebook (of `assignment`, or of all)."""
        from nbgrader.api import Gradebook

        rows = []
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            for a in gradebook.assignments:
                if assignment and a.name != assignment:
                    continue
                for submission in gradebook.assignment_submissions(a.name):
                    grades = [grade for notebook in submission.notebooks for grade in notebook.grades]
                    rows.append(SubmissionScore(
                        submission.student_id, a.name, submission.score, submission.max_score,
                        {grade.name: (grade.score, grade.max_score) for grade in grades},
                        frozenset(grade.name for grade in grades if grade.needs_manual_grade)))
        return sorted(rows, key=lambda r: (r.assignment, r.student))


def assignment_names() -> list[str]:
    """The kit's assignments: the folders of source/, in order."""
    return sorted(p.name for p in paths.SOURCE_DIR.iterdir() if p.is_dir() and not p.name.startswith("."))


def format_scores(rows: list[SubmissionScore]) -> str:
    """A plain-text grade table per assignment: one line per submission, one column per question
    ("?/2": waiting for manual grading)."""
    if not rows:
        return "(no graded submissions)"
    tables = []
    for assignment in dict.fromkeys(r.assignment for r in rows):
        group = [r for r in rows if r.assignment == assignment]
        questions = list(dict.fromkeys(q for r in group for q in r.questions))
        table = [["student", *questions, "total"]] + [
            [r.student, *(_cell(r, q) for q in questions), f"{r.score:g}/{r.max_score:g}"] for r in group]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        tables.append(f"{assignment}\n" + "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table))
    return "\n\n".join(tables)


def _cell(row: SubmissionScore, question: str) -> str:
    if question not in row.questions:
        return "-"
    score, maximum = row.questions[question]
    return f"{'?' if question in row.pending else f'{score:g}'}/{maximum:g}"
