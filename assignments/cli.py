"""The command line: `python -m assignments COMMAND ...` (see `--help`)."""
from __future__ import annotations

import argparse
import os
import sys

from assignments import paths
from assignments.data import DataFileError
from assignments.grading import Course, GradingError, assignment_names, format_scores
from assignments.notebooks import NotebookError
from assignments.submission import DB_URL_VARIABLE, DEFAULT_TIME_LIMIT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assignments", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("release", help="generate release/ from source/ with nbgrader, leak-checked")
    p.add_argument("assignments", nargs="*", help="assignment folders of source/ (default: all)")
    p.add_argument("--check", action="store_true",
                   help="do not write: exit 1 when release/ differs from a fresh generation")

    p = commands.add_parser("check", help="run a notebook's tests and print a per-question table")
    p.add_argument("notebook", help="the notebook to check, e.g. release/01_softmax/01_softmax.ipynb")
    p.add_argument("--hidden", action="store_true",
                   help="also run the hidden tests, through nbgrader autograde (needs source/)")
    p.add_argument("--assignment", help="the assignment (default: the notebook's folder name)")

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
    p.add_argument("--to", default="grades.csv", help="CSV file to write (default: grades.csv)")
    _course_options(p, student=False)

    p = commands.add_parser("demo", help="the whole pipeline on the bundled fixtures, with a grade table")
    p.add_argument("--workdir", help="keep the scratch course directory here")

    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (GradingError, NotebookError, DataFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _course_options(parser: argparse.ArgumentParser, student: bool = True) -> None:
    """The options naming the course, its gradebook and (unless not `student`) the students."""
    if student:
        parser.add_argument("--student", default="*", help="student id or glob (default: all)")
    parser.add_argument("--course-dir", default=None, help="nbgrader course directory (default: the kit)")
    parser.add_argument("--db-url", default=os.environ.get(DB_URL_VARIABLE) or None,
                        help=f"gradebook URL, e.g. postgresql+psycopg2://user:password@host:5432/course "
                             f"(default: ${DB_URL_VARIABLE}, which keeps the password out of process listings, "
                             "else gradebook.db in the course directory)")


def _run(args: argparse.Namespace) -> int:
    if args.command == "release":
        from assignments.release import release, release_differences

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
    if args.command == "demo":
        from assignments.demo import run_demo

        return 0 if run_demo(args.workdir) else 1

    course = Course(args.course_dir or paths.REPO_ROOT, db_url=args.db_url)
    if args.command == "autograde":
        return _autograde(course, args)
    if args.command == "feedback":
        print(f"feedback written to {course.feedback(args.assignment, args.student)}")
    else:
        print(f"grades exported to {course.export(args.to)}")
    return 0


def _autograde(course: Course, args: argparse.Namespace) -> int:
    """Grade, print the grade table of the graded students; 1 when any submission was not graded."""
    outcomes = course.grade(args.assignment, args.student, workers=args.workers, scheduler=args.scheduler,
                            dask=args.dask, time_limit=args.time_limit)
    students = {o.student for o in outcomes}
    print(format_scores([r for r in course.scores(args.assignment) if r.student in students]))
    failed = [o.student for o in outcomes if not o.graded]
    if failed:
        print(f"{len(failed)} of {len(outcomes)} submissions were not graded: {', '.join(failed)}",
              file=sys.stderr)
    return 1 if failed else 0
