"""Autograde throughput with parallel workers: submissions per minute for 1, 2 and 4 workers on this
machine and for a local Dask cluster of 2 worker processes, measured in one run.

Each configuration grades K copies of the reference submission of an assignment (01 unless
`--assignment` names another) in a fresh course, each in its
own nbgrader process, gradebook update included; absolute times are for orientation only. With
`--repeat R` the configurations take turns R times and each keeps its best time (on a machine that
other jobs share, the best is the least disturbed).

    python benchmarks/bench_workers.py [--submissions 8] [--workers 1 2 4] [--dask-workers 2] [--repeat 1]
                                       [--assignment 01_softmax]

The figures are recorded in benchmarks/results.json (`results.record`).
"""
from __future__ import annotations

import argparse
import tempfile
import time

from classroom import reference_course
from results import record


def grade(assignment: str, count: int, workers: int, dask: bool) -> float:
    """Seconds to autograde `count` correct submissions of `assignment` in a fresh course with `workers`."""
    with tempfile.TemporaryDirectory() as scratch:
        course = reference_course(scratch, assignment, count)
        start = time.perf_counter()
        outcomes = course.autograde(assignment, workers=workers, dask=dask)
        elapsed = time.perf_counter() - start
        assert len(outcomes) == count and all(o.status == "ok" for o in outcomes), outcomes
        assert all(r.full_autograded_marks for r in course.scores()), "a correct submission lost marks"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--dask-workers", type=int, default=2, help="0: no Dask run")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; each configuration keeps its best")
    parser.add_argument("--assignment", default="01_softmax", help="e.g. 04_cnn (default: 01_softmax)")
    args = parser.parse_args()
    runs = [(f"{w} worker{'s' if w > 1 else ''}", w, False) for w in args.workers]
    if args.dask_workers:
        runs.append((f"Dask local cluster, {args.dask_workers} processes", args.dask_workers, True))
    best = {label: float("inf") for label, _, _ in runs}
    for _ in range(args.repeat):  # the configurations take turns
        for label, workers, dask in runs:
            best[label] = min(best[label], grade(args.assignment, args.submissions, workers, dask))
    baseline = best[runs[0][0]]
    for label, seconds in best.items():
        print(f"{label:34s} {args.submissions} submissions in {seconds:6.1f} s: "
              f"{60 * args.submissions / seconds:5.1f} per minute ({baseline / seconds:.2f}x the first)")
        record("bench_workers", f"{args.assignment}, {label}",
               {"submissions per minute": round(60 * args.submissions / seconds, 1),
                "speed-up over the first": round(baseline / seconds, 2)},
               note=f"{args.submissions} submissions, best of {args.repeat}")


if __name__ == "__main__":
    main()
