"""The command line: `python -m assignments COMMAND ...` (see `--help`).

The student distribution (`bundle`) has no grading side: there only `check` (without --hidden)
exists, and the other commands are not offered.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from assignments import paths
from assignments.data import DataFileError
from assignments.notebooks import NotebookError

GRADES_CSV = "grades_by_question.csv"


def main(argv: list[str] | None = None) -> int:
    grading_side = importlib.util.find_spec("assignments.instructor") is not None
    parser = argparse.ArgumentParser(prog="python -m assignments", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("check", help="run a notebook's tests and print a per-question table")
    p.add_argument("notebook", help="the notebook to check, e.g. release/01_softmax/01_softmax.ipynb")
    p.add_argument("--hidden", action="store_true",
                   help="also run the hidden tests, through nbgrader autograde (needs source/)")
    p.add_argument("--assignment", help="the assignment (default: the notebook's folder name)")
    if grading_side:
        _add_grading_commands(commands)

    args = parser.parse_args(argv)
    if args.command == "check" and args.hidden and not grading_side:
        print("error: --hidden runs the hidden tests, which the student distribution does not have; "
              "your instructor grades them", file=sys.stderr)
        return 2
    errors: tuple[type[Exception], ...] = (NotebookError, DataFileError)
    if grading_side:
        from assignments.instructor.grading import GradingError

        errors += (GradingError,)
    try:
        return _run(args)
    except errors as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _add_grading_commands(commands: argparse._SubParsersAction) -> None:
    """The instructor's commands, which need the grading side of the kit."""
    from assignments.instructor.submission import DEFAULT_TIME_LIMIT

    p = commands.add_parser("release", help="generate release/ from source/ with nbgrader, leak-checked")
    p.add_argument("assignments", nargs="*", help="assignment folders of source/ (default: all)")
    p.add_argument("--check", action="store_true",
                   help="do not write: exit 1 when release/ differs from a fresh generation")

    p = commands.add_parser("autograde", help="nbgrader autograde of submitted/<student>/<assignment>/, "
                                              "each submission in its own process, in parallel")
    p.add_argument("assignment")
    _course_options(p)
    p.add_argument("--workers", type=int, default=1,
                   help="submissions graded at once (default 1); with --dask, local Dask worker processes")
    p.add_argument("--dask", action="store_true",
                   help="grade on a new local Dask cluster of --workers processes")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="grade on the workers of this running Dask scheduler (e.g. tcp://host:8786)")
    p.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                   help=f"wall time per submission before it is killed (default {DEFAULT_TIME_LIMIT} s)")

    p = commands.add_parser("feedback", help="nbgrader generate_feedback, proven free of hidden test code")
    p.add_argument("assignment")
    _course_options(p)

    p = commands.add_parser("export", help="all grades to a CSV file: nbgrader's columns, status, "
                                           "and every question's score")
    p.add_argument("--to", default=GRADES_CSV, help=f"CSV file to write (default: {GRADES_CSV}; nbgrader's own "
                                                    "`nbgrader export` writes grades.csv)")
    _course_options(p, student=False)

    p = commands.add_parser("reference-submission",
                            help="submitted/<student>/<assignment>/: the release with the reference solutions "
                                 "filled in, a model submission to autograde and look at in formgrader")
    p.add_argument("assignment")
    p.add_argument("--student", default="reference", help="the student id to submit as (default: reference)")
    p.add_argument("--course-dir", default=None, help="nbgrader course directory (default: the kit)")

    p = commands.add_parser("collect-lms", help="nbgrader zip_collect of a Moodle or Canvas download "
                                                "of all submissions into submitted/")
    p.add_argument("assignment")
    p.add_argument("archive", help="the zip of all submissions the LMS gives")
    p.add_argument("--lms", required=True, choices=["moodle", "canvas"], help="whose file-name layout")
    _course_options(p, student=False)

    p = commands.add_parser("lms-grades", help="grades CSV for an LMS import: student_id, points per "
                                               "assignment, total")
    p.add_argument("--to", default="lms_grades.csv", help="CSV file to write (default: lms_grades.csv)")
    _course_options(p, student=False)

    p = commands.add_parser("hub-setup", help="prepare this machine for the JupyterHub course of "
                                              "deploy/jupyterhub/ (as root; again = update)")
    p.add_argument("--instructor", required=True, help="the instructor's account (created when missing)")
    p.add_argument("--students", nargs="+", required=True, help="the students' accounts")
    p.add_argument("--publish", nargs="*", default=[], metavar="ASSIGNMENT",
                   help="assignments whose reference solutions students get (see bundle)")
    p.add_argument("--password", help="set this password on every account (for trying the hub out)")
    p.add_argument("--state", default=os.environ.get("DLKIT_HUB_STATE", "/srv/dlkit-hub"),
                   help="the hub's folder: exchange, student environment, database (default: "
                        "$DLKIT_HUB_STATE or /srv/dlkit-hub)")
    p.add_argument("--python", default=sys._base_executable,
                   help="interpreter of the hub's environments, runnable by every account (default: this one's)")
    p.add_argument("--offline", action="store_true",
                   help="give the hub's environments this environment's packages instead of downloading")

    p = commands.add_parser("demo", help="the whole pipeline on the bundled fixtures, with a grade table")
    p.add_argument("--workdir", help="the demo course's folder, kept afterwards (default: demo-course/ in the "
                                     "kit's folder, replaced by each demo)")

    p = commands.add_parser("bundle", help="build the student distribution: release notebooks, the "
                                           "student-side package (a wheel), data scripts, published solutions")
    p.add_argument("--to", required=True, metavar="DIR", help="folder to build it in (new, or a former bundle)")
    p.add_argument("--publish", nargs="*", default=[], metavar="ASSIGNMENT",
                   help="assignments whose reference solutions students get (after their deadline)")


def _course_options(parser: argparse.ArgumentParser, student: bool = True) -> None:
    """The options naming the course, its gradebook and (unless not `student`) the students."""
    from assignments.instructor.submission import DB_URL_VARIABLE

    if student:
        parser.add_argument("--student", default="*", help="student id or glob (default: all)")
    parser.add_argument("--course-dir", default=None, help="nbgrader course directory (default: the kit)")
    parser.add_argument("--db-url", default=os.environ.get(DB_URL_VARIABLE) or None,
                        help=f"gradebook URL, e.g. postgresql+psycopg2://user:password@host:5432/course "
                             f"(default: ${DB_URL_VARIABLE}, which keeps the password out of process listings, "
                             "else gradebook.db in the course directory)")


def _run(args: argparse.Namespace) -> int:
    if args.command == "release":
        from assignments.instructor.grading import assignment_names
        from assignments.instructor.release import release, release_differences

        names = args.assignments or assignment_names()
        if args.check:
            differences = [d for name in names for d in release_differences(name)]
            print("\n".join(differences) or f"release/ is up to date ({', '.join(names)})")
            return 1 if differences else 0
        for folder in release(names):
            print(f"generated {folder} (no solution or hidden-test text)")
        return 0
    if args.command == "check":
        from assignments.selfcheck import check_notebook, format_results

        results = check_notebook(args.notebook, hidden=args.hidden, assignment=args.assignment)
        print(format_results(results))
        return 0 if results and all(r.passed for r in results if r.checked) else 1
    if args.command == "reference-submission":
        from assignments.instructor.grading import Course

        folder = Course(args.course_dir or paths.REPO_ROOT).submit_reference(args.assignment, args.student)
        print(f"model submission written to {folder}")
        return 0
    if args.command == "demo":
        from assignments.instructor.demo import run_demo

        return 0 if run_demo(args.workdir) else 1
    if args.command == "hub-setup":
        from assignments.instructor.hub import HubCourse, setup_hub

        course = HubCourse(args.instructor, tuple(args.students), Path(args.state), Path(args.python))
        setup_hub(course, args.publish, args.password, args.offline)
        print(f"hub prepared in {course.state}; course directory {course.course_dir}")
        return 0
    if args.command == "bundle":
        from assignments.instructor.bundle import build_bundle

        print(f"student distribution written to {build_bundle(args.to, args.publish)}")
        return 0

    from assignments.instructor.grading import Course

    course = Course(args.course_dir or paths.REPO_ROOT, db_url=args.db_url)
    if args.command == "autograde":
        return _autograde(course, args)
    if args.command in ("collect-lms", "lms-grades"):
        from assignments.instructor.lms import collect_uploads, write_lms_grades

        if args.command == "lms-grades":
            print(f"grades for the LMS written to {write_lms_grades(course, args.to)}")
        else:
            students = collect_uploads(course, args.assignment, args.archive, args.lms)
            print(f"collected {len(students)} submissions of {args.assignment}: {', '.join(students)}")
        return 0
    if args.command == "feedback":
        print(f"feedback written to {course.feedback(args.assignment, args.student)}")
    else:
        print(f"grades exported to {course.export(args.to)}")
    return 0


def _autograde(course, args: argparse.Namespace) -> int:
    """Grade `course` (a grading.Course), print the grade table of the graded students; 1 when any
    submission was not graded."""
    from assignments.instructor.grading import format_scores

    outcomes = course.grade(args.assignment, args.student, workers=args.workers, scheduler=args.scheduler,
                            dask=args.dask, time_limit=args.time_limit)
    students = {o.student for o in outcomes}
    print(format_scores([r for r in course.scores(args.assignment) if r.student in students]))
    failed = [o.student for o in outcomes if not o.graded]
    if failed:
        print(f"{len(failed)} of {len(outcomes)} submissions were not graded: {', '.join(failed)}",
              file=sys.stderr)
    return 1 if failed else 0
