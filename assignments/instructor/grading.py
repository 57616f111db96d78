"""Thin, checked wrappers over the real nbgrader commands, for one course directory.

A course directory holds `nbgrader_config.py`, `source/`, `release/`, `submitted/<student>/<assignment>/`
and, after grading, `autograded/`, `feedback/` and `gradebook.db`: nbgrader's own layout, so an
instructor can mix these commands with nbgrader's and formgrader. Grading also records each
submission's outcome in `grading_status/<assignment>/<student>.json` (see assignments.instructor.submission).
"""
from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import nbformat

from assignments import paths
from assignments.instructor.course_locks import course_lock
from assignments.instructor.grading_environment import GradingEnvironment, remove_course_token, write_course_token
from assignments.instructor.leaks import find_leaks, unsafe_feedback_files
from assignments.notebooks import fill_solutions, read_notebook
from assignments.instructor.submission import (DB_URL_VARIABLE, DEFAULT_TIME_LIMIT, NOT_GRADED,
                                    STATUS_DIR, SubmissionOutcome, grade_submission, read_outcome, run_nbgrader,
                                    status_summary, write_outcome)

UNRECORDED = SubmissionOutcome("", "", "unknown", "no grading record in grading_status/ (graded by nbgrader "
                               "itself, or on a worker that did not share the course directory)")


GRADEBOOK_SYNC_DIR = Path(STATUS_DIR) / ".gradebook"  # what the last gradebook update recorded, per assignment


def _digest(*texts: str) -> str:
    """SHA-256 of the texts, each ended by a NUL."""
    return hashlib.sha256("".join(text + "\0" for text in texts).encode("utf-8")).hexdigest()


class GradingError(Exception):
    """An nbgrader command failed, or its result broke a promise of the kit (e.g. a leak)."""


@dataclass(frozen=True)
class SubmissionScore:
    """One student's grade on one assignment, with the score of every graded cell.

    `pending` names the cells still waiting for a person's grade (written answers); their
    score counts as 0 until then, as in nbgrader's own totals. `status` and `detail` say how
    grading went (see assignments.instructor.submission.SubmissionOutcome; "unknown" when it was not recorded).
    A submission that could not be graded this time shows no score (0, no questions), never the
    score of an earlier run that the gradebook still holds.
    """

    student: str
    assignment: str
    score: float
    max_score: float
    questions: dict[str, tuple[float, float]]
    pending: frozenset[str] = frozenset()
    status: str = "ok"
    detail: str = ""

    @property
    def full_autograded_marks(self) -> bool:
        """True when every automatically graded question has all its points."""
        return all(score == maximum for name, (score, maximum) in self.questions.items()
                   if name not in self.pending)


class Course:
    """An nbgrader course directory, and the nbgrader commands run in it.

    `db_url` is the gradebook every command uses (nbgrader's `CourseDirectory.db_url`, e.g. a
    PostgreSQL URL that graders on several machines share); default `gradebook.db` in the course.
    """

    def __init__(self, root: str | Path = paths.REPO_ROOT, db_url: str | None = None):
        self.root = Path(root).resolve()
        if not (self.root / "nbgrader_config.py").is_file():
            raise GradingError(f"{self.root} is not a course directory: it has no nbgrader_config.py")
        self.explicit_db_url = db_url
        if db_url and DB_URL_VARIABLE not in (self.root / "nbgrader_config.py").read_text(encoding="utf-8"):
            raise GradingError(f"{self.root / 'nbgrader_config.py'} does not read the gradebook URL from "
                               f"${DB_URL_VARIABLE}, so nbgrader would grade into gradebook.db: copy the kit's "
                               "nbgrader_config.py lines that do")

    @property
    def db_url(self) -> str:
        """The gradebook's SQLAlchemy URL."""
        return self.explicit_db_url or f"sqlite:///{self.root / 'gradebook.db'}"

    @classmethod
    def scratch(cls, directory: str | Path, assignments: list[str] | None = None) -> "Course":
        """A new course in `directory` with the kit's config and source of `assignments` (all)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy(paths.REPO_ROOT / "nbgrader_config.py", directory)
        for name in assignments or assignment_names():
            shutil.copytree(paths.SOURCE_DIR / name, directory / "source" / name, dirs_exist_ok=True)
            shutil.copytree(paths.RELEASE_DIR / name, directory / "release" / name, dirs_exist_ok=True)
        return cls(directory)

    def submit_reference(self, assignment: str, student: str = "reference") -> Path:
        """Write a model submission: `submitted/<student>/<assignment>/` gets the release notebooks with
        the reference solutions of source/ in their answer cells. Returns that folder.

        Instructors grade it to see what full marks look like (formgrader, feedback, export).
        """
        release = self.root / "release" / assignment
        if not (self.root / "source" / assignment).is_dir():
            known = ", ".join(sorted(p.name for p in (self.root / "source").glob("*") if p.is_dir()))
            raise GradingError(f"no assignment {assignment!r} in {self.root / 'source'}; the assignments are: {known}")
        if not release.is_dir():
            raise GradingError(f"{release} does not exist: run `python -m assignments release {assignment}` first")
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        for released in sorted(release.glob("*.ipynb")):
            source = read_notebook(self.root / "source" / assignment / released.name)
            nbformat.write(fill_solutions(read_notebook(released), source), folder / released.name)
        return folder

    def check_gradebook(self) -> None:
        """Raise GradingError, saying so plainly, when the gradebook's database cannot be reached."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        if not self.explicit_db_url:
            return
        url = make_url(self.explicit_db_url)
        shown = url.render_as_string(hide_password=True)
        try:
            options = {"connect_timeout": 10} if url.get_backend_name() == "postgresql" else {}
            engine = create_engine(url, connect_args=options)
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()
        except ModuleNotFoundError as error:
            raise GradingError(f"no driver for the gradebook {shown}: {error}; install the kit's pinned "
                               "requirements (psycopg2-binary) and use a postgresql+psycopg2:// URL") from None
        except Exception as error:  # noqa: BLE001 (any failure to connect means the same to the user)
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise GradingError(f"cannot reach the gradebook database {shown}: {reason}. Is its server running, "
                               "and do the host, port, user, password and database name match?") from None

    def nbgrader(self, *args: str) -> str:
        """Run `nbgrader ARGS` in the course; return its log, raise GradingError when it fails."""
        run = run_nbgrader(self.root, list(args), db_url=self.explicit_db_url)
        if run.failed:
            raise GradingError(f"nbgrader {' '.join(args)} failed in {self.root}:\n{run.log[-4000:]}")
        return run.log

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

    def update_gradebook(self, assignment: str) -> None:
        """Record the assignment's graded cells from source/ in the gradebook; release/ is left as it is.

        Skipped (an nbgrader run of a few seconds saved per grading command) when the last update
        recorded this source, this nbgrader_config.py and this nbgrader in this gradebook, and the
        gradebook still holds exactly the cells that update wrote (GRADEBOOK_SYNC_DIR).
        """
        marker = self.root / GRADEBOOK_SYNC_DIR / f"{assignment}.json"
        with course_lock(self.root, "gradebook update"):
            wanted = {"gradebook": _digest(self.db_url), "source": self._source_digest(assignment)}
            recorded = json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else {}
            if recorded.get("cells") and recorded == {**wanted, "cells": self._gradebook_cells_digest(assignment)}:
                return
            with tempfile.TemporaryDirectory() as scratch_release:
                self.generate(assignment, release_dir=scratch_release)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(json.dumps({**wanted, "cells": self._gradebook_cells_digest(assignment)}),
                              encoding="utf-8")

    def _source_digest(self, assignment: str) -> str:
        """Digest of what `nbgrader generate_assignment` records from: the assignment's source
        notebooks, the course's nbgrader_config.py and nbgrader's version."""
        import nbgrader

        files = [self.root / "nbgrader_config.py", *sorted((self.root / "source" / assignment).glob("*.ipynb"))]
        return _digest(nbgrader.__version__, *(f"{path.name}\n{path.read_text(encoding='utf-8')}" for path in files))

    def _gradebook_cells_digest(self, assignment: str) -> str | None:
        """Digest of the assignment's notebooks and cells as the gradebook holds them; None when the
        gradebook has no such assignment."""
        from nbgrader.api import Gradebook, MissingEntry
        from sqlalchemy import create_engine, inspect

        engine = create_engine(self.db_url)
        tables = inspect(engine).get_table_names()  # opening an empty gradebook would create it
        engine.dispose()
        if "assignment" not in tables:
            return None
        with Gradebook(self.db_url) as gradebook:
            try:
                notebooks = gradebook.find_assignment(assignment).notebooks
            except MissingEntry:
                return None
            return _digest(*sorted(repr((nb.name, cell.name, cell.cell_type, cell.locked, cell.checksum, cell.source))
                                   for nb in notebooks for cell in nb.source_cells),
                           *sorted(repr((nb.name, cell.name, cell.max_score)) for nb in notebooks
                                   for cell in nb.grade_cells))

    def students(self, assignment: str, student: str = "*") -> list[str]:
        """The students (ids matching the glob `student`) with a `submitted/<id>/<assignment>/` folder."""
        return sorted(p.parent.name for p in (self.root / "submitted").glob(f"*/{assignment}")
                      if p.is_dir() and fnmatch.fnmatchcase(p.parent.name, student))

    def grade(self, assignment: str, student: str = "*", workers: int = 1, scheduler: str | None = None,
              dask: bool = False, time_limit: float = DEFAULT_TIME_LIMIT) -> list[SubmissionOutcome]:
        """Autograde every matching submission, each in its own nbgrader process, after bringing
        the gradebook up to date; one submission's failure never stops the others.

        Inputs:
        - student: a glob of student ids (every student by default).
        - workers: submissions graded at once on this machine (threads each waiting on an nbgrader
          process); with `dask`, the worker processes of a local Dask cluster.
        - scheduler: address of a running Dask scheduler whose workers grade (they must see the
          course directory at the same path, and the gradebook: use a shared `db_url`).
        - time_limit: wall-time seconds per submission before its processes are killed.
        Returns one outcome per submission, in student order; each is also recorded in
        `grading_status/<assignment>/<student>.json` by this process. Manual grades in the gradebook
        are kept. A Dask task first proves that its worker sees this course (a token written here),
        this machine's data set and kit version (assignments.instructor.grading_environment), or fails.
        Raises GradingError when the gradebook's database cannot be reached.
        """
        self.check_gradebook()
        self.update_gradebook(assignment)
        students = self.students(assignment, student)
        if not students:
            return []
        slots = max(1, workers)
        token = write_course_token(self.root)
        try:
            task = partial(grade_submission, str(self.root), assignment, db_url=self.explicit_db_url,
                           time_limit=time_limit, token=token)
            if scheduler or dask:
                task = partial(task, environment=GradingEnvironment.here())
                return _on_dask(task, students, assignment, self.root, scheduler, slots)
            with ThreadPoolExecutor(slots) as pool:
                return list(pool.map(task, students))
        finally:
            remove_course_token(self.root, token)

    def autograde(self, assignment: str, student: str = "*", **options) -> list[SubmissionOutcome]:
        """`grade` (same options), raising GradingError after all are graded if any submission
        could not be graded (nbgrader failed, time limit, locked gradebook)."""
        outcomes = self.grade(assignment, student, **options)
        failed = [f"{o.student}: {o.summary}" for o in outcomes if not o.graded]
        if failed:
            raise GradingError(f"{len(failed)} of {len(outcomes)} submissions of {assignment} were not graded:\n"
                               + "\n".join(failed))
        return outcomes

    def feedback(self, assignment: str, student: str = "*") -> Path:
        """`nbgrader generate_feedback`, then prove that no file it wrote shows hidden tests or
        solutions, copies a grading file (source/, grader_tests/, the gradebook) or is a link;
        each such file is deleted and GradingError names them all."""
        self.check_gradebook()
        self.nbgrader("generate_feedback", assignment, "--force", f"--student={student}")
        protected = [self.root / "source", paths.REPO_ROOT / "grader_tests", self.root / "nbgrader_config.py",
                     *([Path(self.db_url[10:].split("?")[0])] if self.db_url.startswith("sqlite:///") else [])]
        unsafe = []
        messages = "\n".join(p.read_text(encoding="utf-8") for p in (paths.REPO_ROOT / "grader_tests").rglob("*.py"))
        for folder in sorted((self.root / "feedback").glob(f"{student}/{assignment}")):
            own = _own_notebooks_text(self.root / "submitted" / folder.parent.name / assignment)
            unsafe += unsafe_feedback_files(folder, self.root / "source" / assignment, protected, own, messages)
        for path, _ in unsafe:
            path.unlink()
        if unsafe:
            raise GradingError("feedback must not show these files; they were deleted:\n"
                               + "\n".join(f"{path}: {why}" for path, why in unsafe))
        self._check_feedback_written(assignment, student)
        return self.root / "feedback"

    def _check_feedback_written(self, assignment: str, student: str) -> None:
        """Raise GradingError naming every graded submission (in the gradebook, of the students
        matching `student`) that has no feedback HTML for each of its notebooks."""
        from nbgrader.api import Gradebook

        notebooks = [p.stem for p in sorted((self.root / "source" / assignment).glob("*.ipynb"))]
        with Gradebook(self.db_url) as gradebook:
            graded = sorted(s.student_id for s in gradebook.assignment_submissions(assignment)
                            if fnmatch.fnmatchcase(s.student_id, student))
        missing = [f"{name}: {', '.join(nb + '.html' for nb in absent)}" for name in graded
                   if (absent := [nb for nb in notebooks
                                  if not (self.root / "feedback" / name / assignment / f"{nb}.html").is_file()])]
        if missing:
            raise GradingError(f"no feedback was written for {len(missing)} of {len(graded)} graded submissions of "
                               f"{assignment} (is their autograded/ folder in this course directory?):\n"
                               + "\n".join(missing))

    def export(self, csv_path: str | Path) -> Path:
        """`nbgrader export` of every grade to a CSV file, with columns added per submission.

        After nbgrader's columns (`score` is the total after any late penalty, `max_score` its
        maximum): `status` and `detail` of grading, `pending` (written answers waiting for a
        person, space-separated), then `<grade_id>` and `<grade_id> max` for every graded cell.
        A student without a submission has the status "no submission"; a recorded submission that
        the gradebook lacks (e.g. no notebook to grade) gets a row with 0 points and its status.
        """
        csv_path = Path(csv_path).resolve()
        self.check_gradebook()
        with tempfile.TemporaryDirectory() as scratch:
            plain = Path(scratch) / "nbgrader.csv"
            self.nbgrader("export", f"--to={plain}")
            with open(plain, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
        scores = {(r.assignment, r.student): r for r in self.scores()}
        exported = {(row["assignment"], row["student_id"]) for row in rows}
        rows += [{"assignment": r.assignment, "student_id": r.student, "score": f"{r.score:g}",
                  "max_score": f"{r.max_score:g}"} for key, r in scores.items() if key not in exported]
        questions = list(dict.fromkeys(q for r in scores.values() for q in r.questions))
        columns = [*dict.fromkeys(name for row in rows for name in row), "status", "detail", "pending",
                   *(name for q in questions for name in (q, f"{q} max"))]
        partial_path = csv_path.with_name(f".{csv_path.name}.tmp")
        with open(partial_path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({**row, **_export_columns(scores.get((row["assignment"], row["student_id"])))})
        os.replace(partial_path, csv_path)
        return csv_path

    def scores(self, assignment: str | None = None) -> list[SubmissionScore]:
        """Every graded submission in the gradebook (of `assignment`, or of all), with its recorded
        grading status, and every recorded submission the gradebook lacks (0 points, e.g. when its
        gradebook stayed locked). A written answer with a manual score is not pending."""
        from nbgrader.api import Gradebook

        rows = []
        if self.db_url.startswith("sqlite:///") and not Path(self.db_url[10:].split("?")[0]).exists():
            return rows  # nothing graded yet (opening it would create it, with nbgrader's alembic)
        with Gradebook(self.db_url) as gradebook:
            for a in gradebook.assignments:
                if assignment and a.name != assignment:
                    continue
                submissions = {s.student_id: s for s in gradebook.assignment_submissions(a.name)}
                recorded = {p.stem for p in (self.root / STATUS_DIR / a.name).glob("*.json")}
                rows += [_score_row(self.root, a, submissions.get(student), student)
                         for student in sorted(submissions.keys() | recorded)]
        return sorted(rows, key=lambda r: (r.assignment, r.student))


def _own_notebooks_text(submitted: Path) -> str:
    """The cell sources of the notebooks in `submitted/<student>/<assignment>/` (never read
    through a link: a linked notebook is not the student's text)."""
    if submitted.is_symlink() or submitted.parent.is_symlink():
        return ""
    sources = []
    for path in submitted.glob("*.ipynb"):
        if path.is_symlink() or not path.is_file():
            continue
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError):
            continue
        sources += ["".join(c.get("source", "")) if isinstance(c, dict) else "" for c in cells]
    return "\n".join(sources)


def _score_row(root: Path, assignment, submission, student: str) -> SubmissionScore:
    """One row of `Course.scores` from nbgrader's assignment and submission (None: not in the
    gradebook) and the recorded grading outcome."""
    outcome = read_outcome(root, assignment.name, student) or UNRECORDED
    if submission is None or outcome.status in NOT_GRADED:  # the gradebook may hold an earlier run's score
        return SubmissionScore(student, assignment.name, 0.0, assignment.max_score, {},
                               status=outcome.status, detail=outcome.detail)
    order = {grade_id: i for i, grade_id in enumerate(_question_order(root, assignment.name))}
    grades = sorted((grade for notebook in submission.notebooks for grade in notebook.grades),
                    key=lambda grade: (order.get(grade.name, len(order)), grade.name))
    return SubmissionScore(
        student, assignment.name, submission.score, submission.max_score,
        {grade.name: (grade.score, grade.max_score) for grade in grades},
        frozenset(grade.name for grade in grades if grade.needs_manual_grade and grade.manual_score is None),
        outcome.status, outcome.detail)


def _question_order(root: Path, assignment: str) -> list[str]:
    """The grade_ids of the assignment's source notebooks in notebook order (the gradebook's own
    order is the database's row order)."""
    ids = []
    for path in sorted((root / "source" / assignment).glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        ids += [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in cells]
    return [grade_id for grade_id in ids if grade_id]


def _on_dask(task: Callable[[str], SubmissionOutcome], students: list[str], assignment: str, root: Path,
             scheduler: str | None, workers: int) -> list[SubmissionOutcome]:
    """Run `task` for every student on a Dask cluster; a task that raised (or whose worker died
    too often, or that refused to grade) gets the status "error". Every outcome is recorded here,
    on the head, whatever the worker could write."""
    outcomes = []
    with _dask_client(scheduler, workers) as client:
        futures = client.map(task, students, pure=False)
        for student, future in zip(students, futures):
            try:
                outcomes.append(future.result())
            except Exception as error:  # noqa: BLE001 (any failure of one task is that submission's)
                outcomes.append(SubmissionOutcome(student, assignment, "error", f"{type(error).__name__}: {error}"))
            write_outcome(root, outcomes[-1])
    return outcomes


@contextmanager
def _dask_client(scheduler: str | None, workers: int) -> Iterator:
    """A client of the scheduler at `scheduler`, else of a new local cluster of `workers` processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            yield client


def _export_columns(row: SubmissionScore | None) -> dict[str, object]:
    """The columns `Course.export` adds to nbgrader's row of one submission."""
    if row is None:
        return {"status": "no submission"}
    columns: dict[str, object] = {"status": row.status, "detail": row.detail, "pending": " ".join(sorted(row.pending))}
    if row.status in NOT_GRADED:  # nbgrader's columns hold an earlier run's score
        columns.update(raw_score="", score="", late_submission_penalty="")
    for question, (score, maximum) in row.questions.items():
        columns.update({question: f"{score:g}", f"{question} max": f"{maximum:g}"})
    return columns


def assignment_names() -> list[str]:
    """The kit's assignments: the folders of source/, in order."""
    return sorted(p.name for p in paths.SOURCE_DIR.iterdir() if p.is_dir() and not p.name.startswith("."))


def format_scores(rows: list[SubmissionScore]) -> str:
    """A plain-text grade table per assignment: one line per submission, one column per question
    ("?/2": waiting for manual grading), the total and how grading went ("ok", or
    "timeout: cell test_x ran over 600 s; 3 cells not run")."""
    if not rows:
        return "(no graded submissions)"
    tables = []
    for assignment in dict.fromkeys(r.assignment for r in rows):
        group = [r for r in rows if r.assignment == assignment]
        questions = list(dict.fromkeys(q for r in group for q in r.questions))
        table = [["student", *questions, "total", "status"]] + [
            [r.student, *(_cell(r, q) for q in questions), f"{r.score:g}/{r.max_score:g}",
             status_summary(r.status, r.detail)] for r in group]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        tables.append(f"{assignment}\n" + "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table))
    return "\n\n".join(tables)


def _cell(row: SubmissionScore, question: str) -> str:
    if question not in row.questions:
        return "-"
    score, maximum = row.questions[question]
    return f"{'?' if question in row.pending else f'{score:g}'}/{maximum:g}"
