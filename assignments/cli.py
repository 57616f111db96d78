"""The command line: `python -m assignments COMMAND ...` (see `--help`)."""
from __future__ import annotations

import argparse
import sys

from assignments.data import DataFileError
from assignments.grading import Course, GradingError, assignment_names, format_scores
from assignments.notebooks import NotebookError


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

    for name, text in [("autograde", "nbgrader autograde of submitted/<student>/<assignment>/"),
                       ("feedback", "nbgrader generate_feedback, proven free of hidden test code")]:
        p = commands.add_parser(name, help=text)
        p.add_argument("assignment")
        p.add_argument("--student", default="*", help="student id or glob (default: all)")
        p.add_argument("--course-dir", default=None, help="nbgrader course directory (default: the kit)")

    p = commands.add_parser("export", help="nbgrader export of all grades to a CSV file")
    p.add_argument("--to", default="grades.csv", help="CSV file to write (default: grades.csv)")
    p.add_argument("--course-dir", default=None, help="nbgrader course directory (default: the kit)")

    p = commands.add_parser("demo", help="the whole pipeline on the bundled fixtures, with a grade table")
    p.add_argument("--workdir", help="keep the scratch course directory here")

    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (GradingError, NotebookError, DataFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


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
        return 0 if results and all(r.passed for r in results) else 1
    if args.command == "demo":
        from assignments.demo import run_demo

        return 0 if run_demo(args.workdir) else 1

    course = Course(args.course_dir) if args.course_dir else Course()
    if args.command == "autograde":
        course.autograde(args.assignment, args.student)
        print(format_scores(course.scores(args.assignment)))
    elif args.command == "feedback":
        print(f"feedback written to {course.feedback(args.assignment, args.student)}")
    elif args.command == "export":
        print(f"grades exported to {course.export(args.to)}")
    return 0
