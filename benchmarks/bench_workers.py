"""Autograde throughput with parallel workers: submissions per minute for 1, 2 and 4 workers on this
machine (threads, SQLite gradebook) and on a local Dask cluster of 1, 2 and 4 worker processes
with a PostgreSQL gradebook (with `--db-url`), measured in one run and recorded in
benchmarks/results.json (`results.record`).

Each configuration grades K copies of the reference submission of an assignment (01 unless
`--assignment` names another) in a fresh course, each in its own nbgrader process, gradebook
update included; absolute times are for orientation only. With `--repeat R` the configurations
take turns R times and each keeps its best time (on a machine that other jobs share, the best is
the least disturbed). `--db-url` names a PostgreSQL server's maintenance database
(e.g. postgresql+psycopg2://user:password@127.0.0.1:5432/postgres); each Dask configuration
creates its own database `bench_workers_N` there (dropped first if it exists).

    python benchmarks/bench_workers.py [--submissions 8] [--workers 1 2 4] [--dask-workers 1 2 4]
                                       [--db-url URL] [--repeat 1] [--assignment 01_softmax] [--note TEXT]
"""
from __future__ import annotations

import argparse
import itertools
import tempfile
import time

from classroom import reference_course
from results import record


def grade(assignment: str, count: int, workers: int, dask: bool, db_url: str | None) -> float:
    """Seconds to autograde `count` correct submissions of `assignment` in a fresh course with `workers`."""
    with tempfile.TemporaryDirectory() as scratch:
        course = reference_course(scratch, assignment, count, db_url)
        start = time.perf_counter()
        outcomes = course.autograde(assignment, workers=workers, dask=dask)
        elapsed = time.perf_counter() - start
        assert len(outcomes) == count and all(o.status == "ok" for o in outcomes), outcomes
        assert all(r.full_autograded_marks for r in course.scores()), "a correct submission lost marks"
    return elapsed


def fresh_database(server_url: str, name: str) -> str:
    """Create the empty database `name` on the PostgreSQL server of `server_url`; returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--dask-workers", type=int, nargs="*", default=[1, 2, 4],
                        help="Dask worker processes of each Dask run (0 or none: no Dask run)")
    parser.add_argument("--db-url", help="PostgreSQL server for the Dask runs (default: SQLite in the course)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; each configuration keeps its best")
    parser.add_argument("--assignment", default="01_softmax", help="e.g. 04_cnn (default: 01_softmax)")
    parser.add_argument("--note", default="", help="conditions of the run, recorded with the figures")
    args = parser.parse_args()
    gradebook = "PostgreSQL" if args.db_url else "SQLite"
    local = [(f"local, {w} worker{'s' if w > 1 else ''}, SQLite", w, False, None) for w in args.workers]
    dask = [(f"Dask, {w} worker process{'es' if w > 1 else ''}, {gradebook}", w, True,
             fresh_database(args.db_url, f"bench_workers_{w}") if args.db_url else None)
            for w in args.dask_workers if w > 0]
    runs = [run for pair in itertools.zip_longest(local, dask) for run in pair if run]  # interleaved
    best = {label: float("inf") for label, *_ in runs}
    for turn in range(args.repeat):  # the configurations take turns
        for label, workers, on_dask, db_url in runs:
            best[label] = min(best[label], grade(args.assignment, args.submissions, workers, on_dask, db_url))
            if turn == args.repeat - 1:  # recorded at once: a long run that is stopped keeps what it measured
                report(args, label, best[label], best[runs[0][0]])


def report(args: argparse.Namespace, label: str, seconds: float, baseline: float) -> None:
    """Print one configuration's throughput and record it in results.json."""
    per_minute = 60 * args.submissions / seconds
    print(f"{label:40s} {args.submissions} submissions in {seconds:6.1f} s: "
          f"{per_minute:5.1f} per minute ({baseline / seconds:.2f}x the first)", flush=True)
    record("bench_workers", f"{args.assignment}, {label}",
           {"submissions": args.submissions, "seconds": round(seconds, 1),
            "submissions per minute": round(per_minute, 1)}, note=args.note)

if __name__ == "__main__":
    main()
