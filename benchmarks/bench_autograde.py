"""Autograde throughput of one nbgrader process: seconds per submission, 1 vs N submissions.

Prints the fixed cost of a grading run (CLI start, gradebook update) and the marginal cost of each
further submission, measured in one run; absolute times are for orientation only.

The figures are recorded in benchmarks/results.json (`results.record`).

    python benchmarks/bench_autograde.py [--submissions 8]
"""
from __future__ import annotations

import argparse

from classroom import seconds_to_grade
from results import record

ASSIGNMENT = "01_softmax"


def grade(count: int) -> float:
    """Seconds to autograde `count` correct submissions of 01 in one fresh course."""
    def in_one_nbgrader_process(course):
        course.update_gradebook(ASSIGNMENT)
        course.nbgrader("autograde", ASSIGNMENT, "--force")
    return seconds_to_grade(ASSIGNMENT, count, in_one_nbgrader_process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=8)
    n = parser.parse_args().submissions
    one, many = grade(1), grade(n)
    marginal = (many - one) / (n - 1)
    print(f"autograde of 1 submission:   {one:6.1f} s")
    print(f"autograde of {n} submissions: {many:6.1f} s  ({many / n:.1f} s per submission)")
    print(f"marginal cost per submission: {marginal:.1f} s; fixed cost per run: {one - marginal:.1f} s")
    print(f"ratio, one run of {n} vs {n} runs of 1: {many / (n * one):.2f}")
    record("bench_autograde", f"{ASSIGNMENT}, {n} submissions in one nbgrader run",
           {"seconds per submission after the first": round(marginal, 1),
            "fixed seconds per run": round(one - marginal, 1)})


if __name__ == "__main__":
    main()
