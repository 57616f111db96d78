"""Grading on a Dask cluster with a PostgreSQL gradebook, as an instructor runs it across machines:
a worker killed and the database restarted mid-run lose no grade and invent none, a worker that
does not share the course directory fails loudly, and two commands at once grade each submission
once. Real servers on 127.0.0.1: PostgreSQL 15 (initdb/pg_ctl), `dask scheduler`, `dask worker`."""
import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from assignments.instructor.grading import Course
from assignments.instructor.submission import read_outcome
from grader_tests.mutants.softmax import softmax_without_max_shift
from tests.builders import SOFTMAX_NB, correct_submission, released, with_answer
from tests.throwaway_services import (POSTGRES_BIN, ThrowawayDaskCluster, ThrowawayPostgres, descendants,
                                      wait_until)

pytestmark = pytest.mark.nbgrader

ASSIGNMENT, NOTEBOOK = "01_softmax", "01_softmax.ipynb"
QUESTIONS = ["test_softmax", "test_softmax_cross_entropy_loss", "test_softmax_cross_entropy_gradient",
             "test_linear_classifier_loss", "test_linear_classifier_gradients", "test_train_linear_classifier",
             "a_momentum", "a_sweeps", "a_weights"]  # in notebook order
FULL = 12  # autograded points of 01


@pytest.fixture(scope="module")
def postgres():
    if not POSTGRES_BIN.is_dir():  # a failure of the machine's setup, not a reason to skip
        pytest.fail(f"PostgreSQL 15 is needed in {POSTGRES_BIN}: apt-get install postgresql-15")
    server = ThrowawayPostgres()
    yield server
    server.close()


def cli(*args, db_url=None):
    """`python -m assignments ARGS` as its own process (the instructor's command), given the
    gradebook URL in its environment (where its password is kept out of process listings)."""
    env = {**os.environ, "DLKIT_GRADEBOOK_URL": db_url} if db_url else None
    return subprocess.Popen([sys.executable, "-m", "assignments", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def command_lines() -> dict[int, str]:
    """pid -> command line of every process whose command line can be read."""
    lines = {}
    for process in psutil.process_iter():
        try:
            lines[process.pid] = " ".join(process.cmdline())
        except psutil.Error:
            pass
    return lines


def class_of_eight(course):
    """4 correct submissions, 2 untouched releases, 2 with an unstable softmax (test_softmax 0)."""
    mistake = with_answer(correct_submission(SOFTMAX_NB), "softmax", softmax_without_max_shift)
    kinds = {"correct": correct_submission(SOFTMAX_NB), "untouched": released(SOFTMAX_NB), "mistake": mistake}
    students = {f"{kind}{i}": kind for kind, count in [("correct", 4), ("untouched", 2), ("mistake", 2)]
                for i in range(count)}
    for student, kind in students.items():
        folder = course.root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(kinds[kind], folder / NOTEBOOK)
    return students


def cluster_env(tmp: Path) -> dict[str, str]:
    """The workers' environment: no gradebook URL, a TMPDIR of their own (scratch folders go there)."""
    env = {k: v for k, v in os.environ.items() if k != "DLKIT_GRADEBOOK_URL"}
    return {**env, "TMPDIR": str(tmp), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"}


def processes_under(folder: Path) -> list[str]:
    """Every live process whose command line or working directory lies in `folder`."""
    found = []
    for process in psutil.process_iter(["cmdline", "cwd", "status"]):
        info = process.info
        text = " ".join(info["cmdline"] or []) + " " + (info["cwd"] or "")
        if str(folder) in text and info["status"] != psutil.STATUS_ZOMBIE and process.pid != os.getpid():
            found.append(f"{process.pid}: {text}")
    return found


def autograde_runs(root: Path) -> set[int]:
    """The pids of the `nbgrader autograde` processes running in course `root`."""
    runs = set()
    for process in psutil.process_iter(["cmdline", "cwd"]):
        if "autograde" in (process.info["cmdline"] or []) and process.info["cwd"] == str(root) \
                and "assignments.jail.reaper" not in process.info["cmdline"]:
            runs.add(process.pid)
    return runs


def grading_worker(cluster) -> psutil.Process | None:
    """A worker process (child of a nanny) whose reaper runs an nbgrader autograde, once it has for 2 s."""
    for nanny in cluster.processes[1:]:
        for process in descendants(nanny.pid):
            try:
                if "assignments.jail.reaper" in " ".join(process.cmdline()) and time.time() - process.create_time() > 2:
                    return process.parent()
            except psutil.Error:
                continue
    return None


def test_a_killed_worker_and_a_database_restart_lose_no_grade_and_invent_none(postgres, tmp_path):
    course = Course.scratch(tmp_path / "course", [ASSIGNMENT])
    students = class_of_eight(course)
    db_url = postgres.create_database("proof")
    worker_tmp = Path(tempfile.mkdtemp(prefix="dlkit-w-"))  # short: kernels' ipc:// socket paths live there
    cluster = ThrowawayDaskCluster(tmp_path / "cluster", cluster_env(worker_tmp))
    seen_lines = set()
    try:
        cluster.add_worker("worker-a")
        cluster.add_worker("worker-b")
        cluster.wait_for_workers(2)
        grading = cli("autograde", ASSIGNMENT, "--scheduler", cluster.address, "--course-dir", str(course.root),
                      db_url=db_url)
        worker = wait_until(lambda: grading_worker(cluster), timeout=300)
        assert worker is not None, "no worker started grading"
        started = descendants(worker.pid)  # its reaper, nbgrader, the sandbox forwarder, the jailed kernel
        worker.send_signal(signal.SIGKILL)
        postgres.stop()  # and down until a grading run that started after this has ended (failed)
        before = autograde_runs(course.root)
        during = wait_until(lambda: autograde_runs(course.root) - before, timeout=600)
        assert during, "no grading run started while the database was down"
        assert wait_until(lambda: not (during & autograde_runs(course.root)), timeout=600)
        postgres.start()
        assert wait_until(lambda: not [p for p in started if _alive(p)], timeout=30), \
            f"the killed worker's processes outlived it: {[p.pid for p in started if _alive(p)]}"
        seen_lines |= watch(grading, 900)
        out, err = grading.communicate()
        assert grading.returncode == 0, out + err
        feedback = cli("feedback", ASSIGNMENT, "--course-dir", str(course.root), db_url=db_url)
        assert (feedback.wait(300), feedback.communicate()[1]) == (0, "")
        export = cli("export", "--to", str(tmp_path / "grades.csv"), "--course-dir", str(course.root), db_url=db_url)
        assert (export.wait(300), export.communicate()[1]) == (0, "")
    finally:
        cluster.close()

    assert not [line for line in seen_lines if postgres.password in line]  # never in a command line
    rows = {r.student: r for r in Course(course.root, db_url).scores(ASSIGNMENT)}
    assert sorted(rows) == sorted(students)
    for student, kind in students.items():
        row = rows[student]
        assert row.status == "ok", row
        assert list(row.questions) == QUESTIONS  # notebook order, not the database's row order
        earned = {"correct": FULL, "untouched": 0, "mistake": FULL - 2}[kind]
        assert row.score == earned and row.questions["test_softmax"][0] == (0 if kind != "correct" else 2), row
    # every grade recorded exactly once
    assert postgres.query("proof", "SELECT count(*), count(DISTINCT student_id) FROM submitted_assignment") == [(8, 8)]
    assert postgres.query("proof", "SELECT count(*), count(DISTINCT (notebook_id, cell_id)) FROM grade") \
        == [(8 * len(QUESTIONS), 8 * len(QUESTIONS))]
    assert max(read_outcome(course.root, ASSIGNMENT, s).attempts for s in students) > 1  # the outage was retried
    assert sorted(p.parent.parent.name for p in (course.root / "feedback").glob(f"*/{ASSIGNMENT}/{NOTEBOOK[:-6]}.html")) \
        == sorted(students)
    with open(tmp_path / "grades.csv", newline="") as f:
        exported = list(csv.DictReader(f))
    assert sorted((r["student_id"], float(r["score"])) for r in exported) == sorted((s, rows[s].score) for s in students)
    header = list(exported[0])
    assert header[header.index("pending") + 1::2] == QUESTIONS
    # nothing the run started is left: no process, no scratch folder
    assert processes_under(tmp_path) == [] and processes_under(worker_tmp) == []
    assert [p.name for p in worker_tmp.iterdir() if p.name != "dask-scratch-space"] == []  # Dask's own is kept
    shutil.rmtree(worker_tmp)


def test_a_worker_without_the_shared_course_directory_fails_loudly(postgres, tmp_path):
    course = Course.scratch(tmp_path / "course", [ASSIGNMENT])
    for student in ("alice", "bob"):
        folder = course.root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(correct_submission(SOFTMAX_NB), folder / NOTEBOOK)
    private_copy = tmp_path / "worker-copy"
    subprocess.run(["cp", "-a", str(course.root), str(private_copy)], check=True)
    db_url = postgres.create_database("unshared")
    cluster = ThrowawayDaskCluster(tmp_path / "cluster", cluster_env(tmp_path))
    try:  # the worker sees its own copy of the course at the head's path
        cluster.add_worker("worker", wrapper=["bwrap", "--dev-bind", "/", "/", "--bind", str(private_copy),
                                              str(course.root), "--"])
        cluster.wait_for_workers(1)
        grading = cli("autograde", ASSIGNMENT, "--scheduler", cluster.address, "--course-dir", str(course.root),
                      db_url=db_url)
        out, err = grading.communicate(timeout=600)
    finally:
        cluster.close()
    assert grading.returncode == 1, out + err
    assert "2 of 2 submissions were not graded: alice, bob" in err
    for student in ("alice", "bob"):
        outcome = read_outcome(course.root, ASSIGNMENT, student)  # recorded by the head
        assert outcome.status == "error" and "does not see the head's course directory" in outcome.detail
    assert out.count("error: WorkerMismatch: worker") == 2, out
    assert not (private_copy / "grading_status").exists() and not (private_copy / "autograded").exists()
    assert postgres.query("unshared", "SELECT count(*) FROM submitted_assignment") == [(0,)]


def test_two_commands_at_once_grade_each_submission_once_and_never_together(postgres, tmp_path):
    course = Course.scratch(tmp_path / "course", [ASSIGNMENT])
    folder = course.root / "submitted" / "alice" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(correct_submission(SOFTMAX_NB), folder / NOTEBOOK)
    db_url = postgres.create_database("twice")  # empty: both commands create the assignment's cells
    commands = [cli("autograde", ASSIGNMENT, "--course-dir", str(course.root), db_url=db_url) for _ in range(2)]
    most_at_once, seen = 0, set()
    while any(c.poll() is None for c in commands):
        running = [pid for pid, line in command_lines().items()
                   if "nbgrader autograde" in line and "--student=alice" in line and "assignments.jail.reaper" not in line]
        seen |= set(running)
        most_at_once = max(most_at_once, len(running))
        time.sleep(0.1)
    results = [c.communicate() for c in commands]
    assert [c.returncode for c in commands] == [0, 0], results
    assert len(seen) == 2 and most_at_once == 1  # graded twice, one after the other
    assert postgres.query("twice", "SELECT count(*) FROM submitted_assignment") == [(1,)]
    assert postgres.query("twice", "SELECT count(*) FROM grade_cells") == [(9,)]
    assert Course(course.root, db_url).scores(ASSIGNMENT)[0].score == FULL


def watch(process: subprocess.Popen, seconds: float) -> set[str]:
    """The command lines of every process seen while `process` runs, for up to `seconds`."""
    seen, deadline = set(), time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        seen |= set(command_lines().values())
        time.sleep(0.5)
    return seen


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
