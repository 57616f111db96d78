"""Seconds per submission to autograde a complete 04 (CNN) notebook with the kit's real pipeline.

Grades copies of the reference 04 submission (the released notebook with the reference answers
filled in) with `assignments.instructor.grading.Course` in a fresh course, in one run: nbgrader
executes every cell, the training cells included, scaled for grading by the notebook itself (it
trains its short schedule on whatever data the grader's machine has: the bundled fixture, or
`$DLKIT_DATA_DIR`).
Prints the time of one grading run of 1 submission and of N, and the cost per submission; checks
that every submission got full marks.

The figures are recorded in benchmarks/results.json (`results.record`).

    python benchmarks/bench_grading.py [--submissions 2]
"""
from __future__ import annotations

import argparse

from assignments import course
from assignments.data import locate_dataset
from classroom import seconds_to_grade
from results import record

ASSIGNMENT = "04_cnn"


def grade(count: int) -> float:
    """Seconds to autograde `count` correct submissions of 04 in one fresh course."""
    return seconds_to_grade(ASSIGNMENT, count, lambda course: course.autograde(ASSIGNMENT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=2)
    n = parser.parse_args().submissions
    one = grade(1)
    print(f"autograde of 1 submission of {ASSIGNMENT}:  {one:6.1f} s")
    figures = {"seconds for 1 submission": round(one, 1)}
    if n > 1:
        many = grade(n)
        print(f"autograde of {n} submissions of {ASSIGNMENT}: {many:6.1f} s ({many / n:.1f} s per "
              f"submission, {(many - one) / (n - 1):.1f} s for each one after the first)")
        figures[f"seconds for {n} submissions"] = round(many, 1)
        figures["seconds per further submission"] = round((many - one) / (n - 1), 1)
    record("bench_grading", ASSIGNMENT, figures, note=f"data: {locate_dataset(course.dataset())[1]}")


if __name__ == "__main__":
    main()
