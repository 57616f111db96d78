"""Grading each submission in its own process: in parallel, on Dask, renamed notebooks, statuses,
time limit, locked gradebook, manual grades kept, and the CSV export."""
import contextlib
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import nbformat
import psutil
import pytest

from assignments.instructor import submission
from assignments.cli import main
from assignments.instructor.course_locks import course_lock
from assignments.instructor.grading import Course, GradingError
from assignments.instructor.grading_environment import GradingEnvironment, WorkerMismatch
from assignments.notebooks import cell_by_grade_id
from assignments.instructor.submission import (best_match, describe_verdict, executor_status, failure_reason,
                                    grade_submission, read_outcome, resolve_notebooks)
from tests.builders import SOFTMAX_NB, correct_submission, released
from tests.throwaway_services import wait_until

ASSIGNMENT, NOTEBOOK = "01_softmax", "01_softmax.ipynb"
RENAMED = "01_softmax (1).ipynb"


def submit(course, student, files):
    """Write `files` ({file name: notebook or text}) as `student`'s submission; return its folder."""
    folder = course.root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, str):
            (folder / name).write_text(content)
        else:
            nbformat.write(content, folder / name)
    return folder


def submit_kinds(course):
    """A reference, an untouched release and a renamed reference (beside an unrelated notebook)."""
    submit(course, "reference", {NOTEBOOK: correct_submission(SOFTMAX_NB)})
    submit(course, "empty", {NOTEBOOK: released(SOFTMAX_NB)})
    submit(course, "renamed", {"Untitled.ipynb": nbformat.v4.new_notebook(), RENAMED: correct_submission(SOFTMAX_NB)})


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A scratch course graded one submission after another through the CLI, then exported:
    (course, exit status, printed table, CSV rows by student)."""
    course = Course.scratch(tmp_path_factory.mktemp("course"), [ASSIGNMENT])
    submit_kinds(course)
    submit(course, "lost", {"Untitled.ipynb": nbformat.v4.new_notebook(), "notes.ipynb": nbformat.v4.new_notebook()})
    submit(course, "broken", {NOTEBOOK: "{"})
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["autograde", ASSIGNMENT, "--workers", "1", "--course-dir", str(course.root)])
        assert main(["export", "--to", str(course.root / "grades.csv"), "--course-dir", str(course.root)]) == 0
    with open(course.root / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    return course, status, out.getvalue(), rows


def by_student(course):
    return {r.student: r for r in course.scores(ASSIGNMENT)}


@pytest.mark.nbgrader
def test_every_submission_is_graded_and_one_failure_stops_none(graded):
    course, status, table, _ = graded
    rows = by_student(course)
    assert status == 1  # "broken" could not be graded
    assert rows["reference"].full_autograded_marks and rows["reference"].score == rows["reference"].max_score - 6
    assert rows["empty"].score == 0 and rows["empty"].status == "ok"
    assert rows["renamed"].questions == rows["reference"].questions
    assert rows["broken"].status == "nbgrader failed" and "NotJSONError" in rows["broken"].detail
    assert "ok: graded 01_softmax (1).ipynb as 01_softmax.ipynb" in table
    assert "missing notebook: no notebook 01_softmax.ipynb; found: Untitled.ipynb, notes.ipynb" in table


@pytest.mark.nbgrader
def test_a_renamed_notebook_is_graded_and_the_students_files_are_kept(graded):
    course, *_ = graded
    folder = course.root / "submitted" / "renamed" / ASSIGNMENT
    assert sorted(p.name for p in folder.iterdir()) == [RENAMED, NOTEBOOK, "Untitled.ipynb"]
    assert (folder / NOTEBOOK).read_bytes() == (folder / RENAMED).read_bytes()
    lost = course.root / "submitted" / "lost" / ASSIGNMENT
    assert sorted(p.name for p in lost.iterdir()) == ["Untitled.ipynb", "notes.ipynb"]


@pytest.mark.nbgrader
def test_statuses_are_recorded_outside_the_folder_nbgrader_deletes(graded):
    course, *_ = graded
    assert not (course.root / "autograded" / "broken").exists()
    assert read_outcome(course.root, ASSIGNMENT, "broken").status == "nbgrader failed"
    assert read_outcome(course.root, ASSIGNMENT, "lost").attempts == 0  # nothing for nbgrader to grade


@pytest.mark.nbgrader
def test_the_csv_has_every_question_total_and_status(graded):
    *_, rows = graded
    reference, empty, renamed = rows["reference"], rows["empty"], rows["renamed"]
    assert (reference["test_softmax"], reference["test_softmax max"]) == ("2", "2")
    assert (reference["test_train_linear_classifier"], reference["test_train_linear_classifier max"]) == ("4", "4")
    assert (float(reference["score"]), float(reference["max_score"])) == (12, 18)
    assert reference["status"] == "ok" and reference["pending"] == "a_momentum a_sweeps a_weights"
    assert empty["test_softmax"] == "0" and float(empty["score"]) == 0 and empty["status"] == "ok"
    questions = [name for name in reference if name.startswith(("test_", "a_"))]
    assert [renamed[q] for q in questions] == [reference[q] for q in questions]
    assert renamed["detail"] == "graded 01_softmax (1).ipynb as 01_softmax.ipynb"
    assert rows["lost"]["status"] == "missing notebook" and float(rows["lost"]["score"]) == 0
    assert rows["broken"]["status"] == "nbgrader failed"


@pytest.mark.nbgrader
def test_regrading_in_parallel_keeps_manual_grades(graded):
    from nbgrader.api import Gradebook

    course, *_ = graded
    before = by_student(course)
    with Gradebook(course.db_url) as gradebook:
        gradebook.find_grade("a_momentum", "01_softmax", ASSIGNMENT, "renamed").manual_score = 1.5
        gradebook.db.commit()
    outcomes = course.grade(ASSIGNMENT, "re*", workers=2)
    after = by_student(course)
    assert [o.student for o in outcomes] == ["reference", "renamed"] and all(o.status == "ok" for o in outcomes)
    assert after["reference"] == before["reference"]
    assert after["renamed"].questions["a_momentum"] == (1.5, 2) and "a_momentum" not in after["renamed"].pending
    assert after["renamed"].score == before["renamed"].score + 1.5
    assert after["renamed"].detail == "graded 01_softmax (1).ipynb as 01_softmax.ipynb"  # the kit's own copy


@pytest.mark.nbgrader
def test_a_submission_over_the_time_limit_is_killed_with_its_kernel(graded):
    course, *_ = graded
    nb = released(SOFTMAX_NB)
    # 60 s: on a loaded machine nbgrader and the kernel may need 15 s to start, and the kill must find the kernel
    cell_by_grade_id(nb, "softmax").source = (  # a process of its own that outlives its kernel, then a hang
        "import subprocess, time\ntry:\n    subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        "except OSError:\n    pass\ntime.sleep(300)")
    submit(course, "slow", {NOTEBOOK: nb})
    with ThreadPoolExecutor(1) as pool:
        grading = pool.submit(grade_submission, course.root, ASSIGNMENT, "slow", time_limit=60)
        started = {}  # every process grading started, with its command line, seen while it ran
        while not grading.done():
            for process in psutil.Process().children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    started[process.pid] = (process, " ".join(process.cmdline()))
            time.sleep(0.2)
    outcome = grading.result()
    assert outcome.status == "time limit" and "60 s wall-time limit" in outcome.detail
    assert any("ipykernel" in cmdline for _, cmdline in started.values())  # killed while in the kernel
    assert [p for p, _ in started.values() if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []


@pytest.mark.nbgrader
def test_a_locked_gradebook_is_tried_again_then_reported(graded, monkeypatch):
    course, *_ = graded
    submit(course, "locked", {NOTEBOOK: correct_submission(SOFTMAX_NB)})
    db_url = f"{course.db_url}?timeout=0.5"
    lock = sqlite3.connect(course.root / "gradebook.db", isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        outcome = grade_submission(course.root, ASSIGNMENT, "locked", db_url, attempts=2, backoff=0.1)
        assert (outcome.status, outcome.attempts) == ("database locked", 2)
        monkeypatch.setattr(submission, "_wait", lambda seconds: lock.execute("ROLLBACK"))
        outcome = grade_submission(course.root, ASSIGNMENT, "locked", db_url, attempts=2, backoff=0.1)
    finally:
        lock.close()
    assert (outcome.status, outcome.attempts) == ("ok", 2)
    assert by_student(course)["locked"].full_autograded_marks


@pytest.mark.nbgrader
def test_a_local_dask_cluster_grades_like_the_sequential_path(graded, tmp_path):
    sequential = by_student(graded[0])
    sequential["renamed"] = sequential["reference"]  # same notebook; another test gives "renamed" a manual grade
    course = Course.scratch(tmp_path, [ASSIGNMENT])
    submit_kinds(course)
    outcomes = course.grade(ASSIGNMENT, workers=2, dask=True)
    assert [o.student for o in outcomes] == ["empty", "reference", "renamed"]
    for student, row in by_student(course).items():
        expected = sequential[student]
        assert (row.score, row.questions, row.status) == (expected.score, expected.questions, expected.status)
    assert outcomes[2].detail == "graded 01_softmax (1).ipynb as 01_softmax.ipynb"


def test_the_best_matching_notebook_wins_and_ties_go_to_the_newest(tmp_path):
    nb = released(SOFTMAX_NB)
    ids = {c.metadata.nbgrader.grade_id for c in nb.cells}
    for name, mtime in [("old.ipynb", 1_000), ("new.ipynb", 2_000)]:
        nbformat.write(nb, tmp_path / name)
        os.utime(tmp_path / name, (mtime, mtime))
    half = nbformat.from_dict(nb)
    half.cells = half.cells[: len(half.cells) // 2]
    nbformat.write(half, tmp_path / "half.ipynb")
    (tmp_path / "broken.ipynb").write_text("{")
    candidates = sorted(tmp_path.iterdir())
    assert best_match(candidates, ids).name == "new.ipynb"
    assert best_match([tmp_path / "half.ipynb", tmp_path / "broken.ipynb"], ids) is None


def test_a_renamed_copy_is_found_again_and_replaced_when_the_student_file_changed(tmp_path):
    course = Course.scratch(tmp_path, [ASSIGNMENT])
    folder = submit(course, "s", {"copy.ipynb": released(SOFTMAX_NB)})
    copies, notes, missing = resolve_notebooks(course.root, ASSIGNMENT, "s", {})
    assert notes == ["graded copy.ipynb as 01_softmax.ipynb"] and not missing
    nbformat.write(correct_submission(SOFTMAX_NB), folder / "copy.ipynb")
    again, notes, _ = resolve_notebooks(course.root, ASSIGNMENT, "s", copies)
    assert (folder / NOTEBOOK).read_bytes() == (folder / "copy.ipynb").read_bytes() and again != copies
    (folder / "copy.ipynb").unlink()
    _, _, missing = resolve_notebooks(course.root, ASSIGNMENT, "s", again)
    assert missing == ["no notebook 01_softmax.ipynb; found: no notebooks"] and not (folder / NOTEBOOK).exists()


def test_a_students_own_notebook_is_never_replaced(tmp_path):
    course = Course.scratch(tmp_path, [ASSIGNMENT])
    folder = submit(course, "s", {NOTEBOOK: released(SOFTMAX_NB), "copy.ipynb": correct_submission(SOFTMAX_NB)})
    before = (folder / NOTEBOOK).read_bytes()
    assert resolve_notebooks(course.root, ASSIGNMENT, "s", {}) == ({}, [], [])
    assert (folder / NOTEBOOK).read_bytes() == before


def test_the_executor_verdict_becomes_one_status_line(tmp_path):
    verdict = {"status": "timeout", "detail": "cell test_x ran over 600 s; 3 cells not run",
               "faults": [{"cell": "test_x", "kind": "timeout", "detail": "ran over 600 s"}], "not_run": ["a", "b", "c"]}
    assert describe_verdict(verdict) == ("timeout", "cell test_x ran over 600 s; 3 cells not run")
    faults = {"status": "crash", "faults": [{"cell": "test_y", "kind": "crash", "detail": "kernel died"}],
              "not_run": ["a"]}
    assert describe_verdict(faults) == ("crash", "cell test_y: crash (kernel died); 1 cell not run")
    assert describe_verdict({}) == ("ok", "")
    for name, metadata in [("a.ipynb", {}), ("b.ipynb", {submission.STATUS_KEY: verdict})]:
        (tmp_path / name).write_text(json.dumps({"cells": [], "metadata": metadata}))
    assert executor_status(tmp_path, ["a.ipynb", "b.ipynb"]) == ("timeout", describe_verdict(verdict)[1])


def test_the_failure_reason_is_the_last_exception_of_the_log():
    log = ("[AutogradeApp | ERROR] There was an error processing assignment: x\n"
           "    Traceback (most recent call last):\n      File \"a.py\", line 1, in f\n        g()\n"
           "    nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{'\n    \n"
           "[AutogradeApp | ERROR] There was an error processing assignment '01' for student 's'\n")
    assert failure_reason(log) == "nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{'"
    assert failure_reason("[AutogradeApp | ERROR] No notebooks found\n") == "No notebooks found"


def test_the_dask_task_is_a_plain_function_that_pickles():
    import pickle
    from functools import partial

    task = partial(grade_submission, "/course", ASSIGNMENT, db_url=None, threads=1)
    assert pickle.loads(pickle.dumps(task)).func is grade_submission


def test_a_database_that_is_down_at_the_start_gets_a_plain_message_without_the_password(tmp_path, capsys):
    from tests.throwaway_services import free_port

    course = Course.scratch(tmp_path, [ASSIGNMENT])
    url = f"postgresql+psycopg2://grader:topsecret@127.0.0.1:{free_port()}/course"
    with pytest.raises(GradingError, match=r"cannot reach the gradebook database "
                                           r"postgresql\+psycopg2://grader:\*\*\*@127\.0\.0\.1.*Is its server running") as error:
        Course(course.root, url).grade(ASSIGNMENT)
    assert "topsecret" not in str(error.value) and "db upgrade" not in str(error.value)
    assert main(["export", "--course-dir", str(course.root), "--db-url", url]) == 2
    assert "cannot reach the gradebook database" in capsys.readouterr().err
    assert not (course.root / "gradebook.db").exists()


def test_the_gradebook_url_reaches_nbgrader_in_the_environment_only(tmp_path):
    course = Course.scratch(tmp_path, [ASSIGNMENT])
    config = course.root / "nbgrader_config.py"
    assert "DLKIT_GRADEBOOK_URL" in config.read_text()
    config.write_text("c = get_config()\n")  # an old config that would grade into SQLite instead
    with pytest.raises(ValueError, match="does not read the gradebook URL from .DLKIT_GRADEBOOK_URL"):
        submission.run_nbgrader(course.root, ["--version"], db_url="postgresql+psycopg2://u:pw@h/db")
    with pytest.raises(GradingError, match="does not read the gradebook URL .* would grade into gradebook.db"):
        Course(course.root, "postgresql+psycopg2://u:pw@h/db")


def test_a_lost_database_connection_is_tried_again_then_reported(tmp_path, monkeypatch):
    course = Course.scratch(tmp_path, [ASSIGNMENT])
    submit(course, "s", {NOTEBOOK: released(SOFTMAX_NB)})
    down = submission.NbgraderRun(1, "Traceback (most recent call last):\n  File \"x.py\", line 1\n"
                                     "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to "
                                     "server at \"127.0.0.1\", port 5432 failed: Connection refused\n")
    assert down.database_unavailable and not submission.NbgraderRun(1, "OperationalError: no such table").database_unavailable
    runs, waits = [down, down, submission.NbgraderRun(0, "")], []
    monkeypatch.setattr(submission, "run_nbgrader", lambda *args, **kwargs: runs.pop(0))
    monkeypatch.setattr(submission, "_wait", waits.append)
    outcome = grade_submission(course.root, ASSIGNMENT, "s", backoff=2)
    assert (outcome.status, outcome.attempts, len(waits)) == ("ok", 3, 2) and 1 <= waits[0] <= 3 and 2 <= waits[1] <= 6
    runs[:] = [down] * 3
    outcome = grade_submission(course.root, ASSIGNMENT, "s", attempts=3, backoff=0)
    assert outcome.status == "database unavailable" and "unreachable in all 3 attempts" in outcome.detail
    assert not outcome.graded and "Connection refused" in outcome.detail


def test_one_submission_is_never_graded_by_two_processes_at_once(tmp_path, monkeypatch):
    course = Course.scratch(tmp_path, [ASSIGNMENT])
    submit(course, "s", {NOTEBOOK: released(SOFTMAX_NB)})
    runs = []
    monkeypatch.setattr(submission, "run_nbgrader", lambda *args, **kwargs: runs.append(args) or
                        submission.NbgraderRun(0, ""))
    with ThreadPoolExecutor(1) as pool, course_lock(course.root, f"{ASSIGNMENT}/s"):  # another grader holds it
        grading = pool.submit(grade_submission, course.root, ASSIGNMENT, "s")
        time.sleep(1.5)
        assert not grading.done() and runs == []
    assert grading.result().status == "ok" and len(runs) == 1


def test_a_worker_with_another_kit_version_or_data_set_refuses_before_touching_anything(tmp_path, monkeypatch):
    course = Course.scratch(tmp_path, [ASSIGNMENT])
    submit(course, "s", {NOTEBOOK: correct_submission(SOFTMAX_NB)})
    head = GradingEnvironment.here()
    assert "(the bundled fixture)" in dict(head.data)["mnist"]
    with pytest.raises(WorkerMismatch, match="kit version [0-9a-f]{12} instead of the head's 000000000000"):
        grade_submission(course.root, ASSIGNMENT, "s", environment=GradingEnvironment("0" * 64, head.data))
    other_data = tmp_path / "data"
    (other_data / "mnist").mkdir(parents=True)
    (other_data / "mnist" / "SOURCE.txt").write_text("full MNIST from somewhere else\n")
    monkeypatch.setenv("DLKIT_DATA_DIR", str(other_data))  # this worker has other data than the head
    with pytest.raises(WorkerMismatch, match="mnist data 'full MNIST from somewhere else, 1 files, 31 bytes' "
                                             "instead of the head's '.*bundled fixture"):
        grade_submission(course.root, ASSIGNMENT, "s", environment=head)
    with pytest.raises(WorkerMismatch, match="does not see the head's course directory"):
        grade_submission(course.root, ASSIGNMENT, "s", token="a-token-the-head-wrote-elsewhere")
    assert not (course.root / "grading_status" / ASSIGNMENT).exists()


def test_the_reaper_ends_everything_its_command_started_when_its_caller_is_killed(tmp_path):
    script = ("import subprocess, sys\nfrom assignments.jail.reaper import guarded\n"
              "subprocess.run(guarded(['sh', '-c', 'echo $TMPDIR; (sleep 300 &); sleep 300']))\n")
    caller = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    scratch = caller.stdout.readline().strip()
    processes = wait_until(lambda: [p for p in psutil.Process(caller.pid).children(recursive=True)
                                    if p.name() == "sleep"][1:] and psutil.Process(caller.pid).children(recursive=True),
                           timeout=30)
    assert "dlkit-run-" in scratch and os.path.isdir(scratch) and processes
    caller.kill()  # as a Dask worker dies: SIGKILL, no clean-up of its own
    caller.wait()
    assert wait_until(lambda: not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE],
                      timeout=30)
    assert not os.path.exists(scratch)


@pytest.mark.nbgrader
def test_an_unrecorded_grade_is_unknown_and_a_failed_regrade_shows_no_old_score(graded):
    course, *_ = graded
    record = submission.status_path(course.root, ASSIGNMENT, "reference")
    kept = record.read_bytes()
    try:
        record.unlink()
        unknown = by_student(course)["reference"]
        assert unknown.status == "unknown" and unknown.score == 12 and "no grading record" in unknown.detail
        submission.write_outcome(course.root, submission.SubmissionOutcome(
            "reference", ASSIGNMENT, "database unavailable", "the gradebook's server was unreachable"))
        failed = by_student(course)["reference"]  # the gradebook still holds the earlier run's 12 points
        assert (failed.score, failed.questions) == (0, {})
        course.export(course.root / "failed.csv")
        with open(course.root / "failed.csv", newline="") as f:
            row = next(r for r in csv.DictReader(f) if r["student_id"] == "reference")
        assert (row["score"], row["raw_score"], row["test_softmax"], row["status"]) == ("", "", "", "database unavailable")
    finally:
        record.write_bytes(kept)


@pytest.mark.nbgrader
def test_feedback_names_every_graded_submission_that_got_no_html(graded):
    course, *_ = graded
    autograded = course.root / "autograded" / "reference"
    autograded.rename(course.root / "elsewhere")  # as when a worker kept it on its own disk
    try:
        with pytest.raises(GradingError, match=r"no feedback was written for 1 of 2 graded submissions of "
                                               r"01_softmax .*\nreference: 01_softmax.html"):
            course.feedback(ASSIGNMENT, "re*")  # "renamed" gets its feedback
    finally:
        (course.root / "elsewhere").rename(autograded)


@pytest.mark.nbgrader
def test_questions_come_in_notebook_order(graded):
    course, *_ = graded
    ids = [c.metadata.nbgrader.grade_id for c in released(SOFTMAX_NB).cells
           if c.metadata.get("nbgrader", {}).get("points")]
    assert list(by_student(course)["reference"].questions) == ids
