"""A corpus of hostile and broken submissions, graded through the real nbgrader pipeline.

Each submission is 01_softmax's release with the reference answers and one cell added or changed
(tests/hostile.py). The course grades them with short limits; each gets its expected score, per
question, and the status the grade table shows.
"""
import json
import os
import shutil
import socket
import threading

import nbformat
import pytest

from assignments import paths
from assignments.instructor.grading import Course, GradingError
from assignments.instructor.submission import STATUS_KEY, read_outcome
from tests import hostile
from tests.builders import SOFTMAX_NB, correct_submission

pytestmark = pytest.mark.nbgrader
ASSIGNMENT = "01_softmax"
POINTS = {"test_softmax": 2, "test_softmax_cross_entropy_loss": 1, "test_softmax_cross_entropy_gradient": 2,
          "test_linear_classifier_loss": 1, "test_linear_classifier_gradients": 2, "test_train_linear_classifier": 4}
# stop_grace keeps its default, 10 s. With 5 s, "sleeps" once lost every question after its sleeping
# cell while the whole suite ran: most likely its interrupted kernel did not answer within 5 s.
LIMITS = """
c.Execute.timeout = 30
c.IsolatedExecute.connect_timeout = 10
c.IsolatedExecute.memory_bytes = 3 * 2**30
c.IsolatedExecute.processes = 64
"""


NOTHING = tuple(POINTS)
SOURCE_NOTEBOOK = "../../../source/01_softmax/01_softmax.ipynb"
# Links (and a FIFO) in submitted/<student>/, as git clones and tar or zip intake bring them.
LINKS = {"linked_notebook": {"01_softmax/01_softmax.ipynb": SOURCE_NOTEBOOK},
         "linked_files": {"01_softmax/solution.ipynb": SOURCE_NOTEBOOK, "01_softmax/grades.db": "../../../gradebook.db",
                          "01_softmax/pipe": None},
         "linked_folder": {"01_softmax": "../reference/01_softmax"}}


def scores(*lost: str, kept: tuple = ()) -> dict:
    """Full points except the questions in `lost` (or, with `kept`, only those questions)."""
    return {q: (p if (q in kept if kept else q not in lost) else 0) for q, p in POINTS.items()}


def corpus(course_root, port):
    """student -> (submission, expected points per question, expected status)."""
    secret_reads = [course_root / "source" / ASSIGNMENT / "01_softmax.ipynb", course_root / "gradebook.db",
                    course_root / "nbgrader_config.py", course_root / "submitted/reference/01_softmax/01_softmax.ipynb",
                    paths.SOURCE_DIR / ASSIGNMENT / "01_softmax.ipynb",
                    paths.REPO_ROOT / "grader_tests" / "softmax.py"]
    secret_writes = [course_root / "gradebook.db", course_root / "source" / ASSIGNMENT / "01_softmax.ipynb",
                     course_root / "submitted/reference/01_softmax/01_softmax.ipynb", course_root / "planted.txt"]
    probe = hostile.PROBE_FILES.format(read=[str(p) for p in secret_reads], write=[str(p) for p in secret_writes])
    return {
        "reference": (correct_submission(SOFTMAX_NB), scores(), "ok"),
        "patched_numpy": (hostile.wrong_softmax_with(hostile.PATCH_NUMPY), scores("test_softmax"), "ok"),
        "patched_builtins": (hostile.wrong_softmax_with(hostile.PATCH_BUILTINS), scores("test_softmax"), "ok"),
        "transformed_tests": (hostile.wrong_softmax_with(hostile.TRANSFORM_TESTS_AWAY), scores("test_softmax"), "ok"),
        "patched_every_cell": (hostile.wrong_softmax_with(hostile.PATCH_ON_EVERY_CELL), scores("test_softmax"), "ok"),
        "fake_grader_modules": (hostile.wrong_softmax_with(hostile.FAKE_GRADER_MODULES), scores("test_softmax"), "ok"),
        "transformed_everything": (hostile.added_after("test_softmax", hostile.TRANSFORM_EVERYTHING_AWAY),
                                   scores(kept=("test_softmax",)), "tampering"),
        "killed_kernel": (hostile.added_after("test_softmax_cross_entropy_gradient", hostile.KILL_KERNEL),
                          scores(kept=("test_softmax", "test_softmax_cross_entropy_loss",
                                       "test_softmax_cross_entropy_gradient")), "crash"),
        "uninterruptible_hang": (hostile.added_after("test_softmax", hostile.HANG_UNINTERRUPTIBLY),
                                 scores(kept=("test_softmax",)), "timeout"),
        "sleeps": (hostile.added_after("test_softmax", hostile.SLEEP), scores(), "timeout"),
        "hangs_in_hidden_test": (hostile.with_softmax(hostile.SOFTMAX_THAT_HANGS), scores("test_softmax"), "timeout"),
        "exhausts_memory": (hostile.added_after("test_softmax", hostile.EXHAUST_MEMORY), scores(), "memory"),
        "fork_bomb": (hostile.added_after("test_softmax", hostile.FORK_BOMB), scores(), "processes"),
        "busy_fork_bomb_that_hangs": (hostile.added_after("test_softmax", hostile.BUSY_FORK_BOMB_THAT_HANGS),
                                      scores(), "processes"),
        "probes_files": (hostile.added_after("test_softmax", probe), scores(), "ok"),
        "probes_network": (hostile.added_after("test_softmax", hostile.PROBE_NETWORK.format(port=port)), scores(), "ok"),
        "duplicated_test": (hostile.with_duplicated_test(), scores(), "ok"),
        "renamed_notebook": (correct_submission(SOFTMAX_NB), scores(), "ok"),
        # links: none is followed, none reaches nbgrader, the jail or the feedback
        "linked_notebook": (None, scores(*NOTHING), "links removed"),
        "linked_files": (hostile.wrong_softmax_with(hostile.READ_LINKED_FILES), scores("test_softmax"), "links removed"),
        "linked_folder": (None, scores(*NOTHING), "links removed"),
        # a slow cell before the first test: interrupted once, the tests after it are graded
        "sleeps_before_first_test": (hostile.added_after("softmax", hostile.SLEEP), scores(), "timeout"),
        "busy_before_first_test": (hostile.added_after("softmax", hostile.BUSY_LOOP), scores(), "timeout"),
        "late_interrupt": (hostile.with_late_interrupt(), scores(), "timeout"),
        # damaged nbgrader metadata
        "stripped_metadata": (hostile.without_nbgrader_metadata(), scores(), "ok"),
        "stripped_metadata_and_ids": (hostile.without_nbgrader_metadata(new_ids=True), scores(), "ok"),
        "stripped_metadata_ids_and_an_answer": (hostile.without_nbgrader_metadata(new_ids=True, deleted=("softmax",)),
                                                scores("test_softmax"), "damaged notebook"),
        "renamed_test_cell": (hostile.with_grade_id("test_softmax", "my_test_softmax"), scores(), "ok"),
        "renamed_test_cell_and_id": (hostile.with_grade_id("test_softmax", "my_test", "my-test"), scores(), "ok"),
        "emptied_answer_grade_id": (hostile.with_grade_id("softmax", ""), scores(), "ok"),
        # smaller
        "mentions_hidden_markers": (hostile.added_after("softmax", hostile.MENTIONS_HIDDEN_MARKERS), scores(), "ok"),
        "keeps_a_grader_object": (hostile.added_after("test_softmax", hostile.USE_KEPT_GRADER_OBJECT,
                                                      hostile.with_softmax(hostile.SOFTMAX_KEEPING_A_GRADER_OBJECT)),
                                  scores(), "ok"),
        "gets_planted_feedback": (correct_submission(SOFTMAX_NB), scores(), "ok"),
    }


@pytest.fixture(scope="module")
def listener():
    """A TCP server on 127.0.0.1 counting the connections it accepts."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return
    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, listener):
    """(course, corpus): every submission of the corpus, autograded in one scratch course."""
    course = Course.scratch(tmp_path_factory.mktemp("hostile"), [ASSIGNMENT])
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write(LIMITS)
    submissions = corpus(course.root, listener[0])
    for student, (nb, _, _) in submissions.items():
        folder = course.root / "submitted" / student / ASSIGNMENT
        folder.parent.mkdir(parents=True)
        if student != "linked_folder":
            folder.mkdir()
        if nb is not None:
            nbformat.write(nb, folder / ("01_softmax-Copy1.ipynb" if student == "renamed_notebook" else "01_softmax.ipynb"))
        for path, target in LINKS.get(student, {}).items():
            os.symlink(target, folder.parent / path) if target else os.mkfifo(folder.parent / path)
    course.autograde(ASSIGNMENT, workers=3)  # most of them wait on a timeout
    return course, submissions


def autograded(course, student) -> nbformat.NotebookNode:
    return nbformat.read(course.root / "autograded" / student / ASSIGNMENT / "01_softmax.ipynb", as_version=4)


def printed(nb) -> str:
    return "".join(o.get("text", "") for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs)


@pytest.mark.parametrize("student", list(corpus(paths.REPO_ROOT, 0)))
def test_each_submission_gets_its_expected_points_and_status(graded, student):
    course, submissions = graded
    nb, expected, status = submissions[student]
    [row] = [r for r in course.scores(ASSIGNMENT) if r.student == student]
    assert {q: row.questions.get(q, (0, 0))[0] for q in POINTS} == expected
    assert row.status == status, row
    if nb is None:  # only a link was submitted: nothing was graded
        assert not (course.root / "autograded" / student).exists()
        return
    record = autograded(course, student).metadata[STATUS_KEY]
    assert record["status"] == ("ok" if status == "links removed" else status), json.dumps(record)
    assert status in ("ok", "links removed") or row.detail.startswith(record["detail"]), row


def test_a_renamed_notebook_is_graded_and_reported(graded):
    course, _ = graded
    [row] = [r for r in course.scores(ASSIGNMENT) if r.student == "renamed_notebook"]
    assert "graded 01_softmax-Copy1.ipynb as 01_softmax.ipynb" in row.detail


def test_a_fault_names_its_cell_and_the_cells_not_run(graded):
    course, _ = graded
    record = autograded(course, "killed_kernel").metadata[STATUS_KEY]
    assert record["faults"][-1]["cell"].startswith("cell ")
    assert "test_linear_classifier_loss" in record["not_run"] and "test_softmax" not in record["not_run"]
    assert "died" in record["detail"] and "cells not run" in record["detail"]
    hang = autograded(course, "uninterruptible_hang").metadata[STATUS_KEY]
    assert "could not be interrupted" in hang["detail"]


def test_the_jailed_kernel_can_neither_read_nor_write_grading_files(graded):
    course, _ = graded
    output = printed(autograded(course, "probes_files"))
    assert "readable: []" in output and "writable: []" in output, output
    assert not (course.root / "planted.txt").exists()
    assert b"tampered" not in (course.root / "submitted/reference/01_softmax/01_softmax.ipynb").read_bytes()


def test_the_jailed_kernel_has_no_network(graded, listener):
    course, _ = graded
    assert "network: refused" in printed(autograded(course, "probes_network"))
    assert listener[1] == []


def test_a_fork_bomb_is_contained_and_stopped(graded):
    course, _ = graded
    assert "fork stopped after" in printed(autograded(course, "fork_bomb"))


def test_a_kernel_out_of_cpu_time_keeps_the_marks_earned_before(tmp_path):
    course = Course.scratch(tmp_path, [ASSIGNMENT])
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write(LIMITS + "c.Execute.timeout = 120\nc.IsolatedExecute.cpu_seconds = 15\n")
    folder = course.root / "submitted" / "burns_cpu" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(hostile.added_after("test_softmax", hostile.HANG_UNINTERRUPTIBLY), folder / "01_softmax.ipynb")
    course.autograde(ASSIGNMENT)
    [row] = course.scores(ASSIGNMENT)
    assert {q: row.questions[q][0] for q in POINTS} == scores(kept=("test_softmax",))
    record = autograded(course, "burns_cpu").metadata[STATUS_KEY]
    assert record["status"] == "cpu" and "used up its CPU time" in record["detail"], record


def test_links_are_removed_recorded_and_never_followed(graded):
    course, _ = graded
    for student, links in LINKS.items():
        outcome = read_outcome(course.root, ASSIGNMENT, student)
        assert outcome.removed == {path: target or "a fifo" for path, target in links.items()}, outcome
        assert all(f"{path} -> {target or 'a fifo'}" in outcome.detail for path, target in links.items())
        assert not [p for p in (course.root / "submitted" / student).rglob("*") if p.is_symlink()]
    output = printed(autograded(course, "linked_files"))
    assert "solution.ipynb absent" in output and "grades.db absent" in output and "no solution" in output, output
    kept = {p.name for p in (course.root / "autograded" / "linked_files" / ASSIGNMENT).iterdir()}
    assert "01_softmax.ipynb" in kept and not kept & {"solution.ipynb", "grades.db", "pipe"}, kept
    assert (course.root / "submitted" / "reference" / ASSIGNMENT / "01_softmax.ipynb").is_file()


def test_a_notebook_read_through_a_link_is_not_run_by_nbgrader_itself(graded):
    """nbgrader's own autograde (formgrader's button) on a linked notebook: every cell not run, 0 points."""
    course, _ = graded
    folder = course.root / "submitted" / "direct_link" / ASSIGNMENT
    folder.mkdir(parents=True)
    os.symlink(SOURCE_NOTEBOOK, folder / "01_softmax.ipynb")
    course.nbgrader("autograde", ASSIGNMENT, "--student=direct_link", "--force")
    [row] = [r for r in course.scores(ASSIGNMENT) if r.student == "direct_link"]
    assert {q: row.questions[q][0] for q in POINTS} == scores(*NOTHING)
    record = autograded(course, "direct_link").metadata[STATUS_KEY]
    assert record["status"] == "links" and "01_softmax.ipynb is a symbolic link" in record["detail"], record


def test_feedback_deletes_and_names_every_unsafe_file(graded):
    course, _ = graded
    folder = course.root / "autograded" / "gets_planted_feedback" / ASSIGNMENT
    shutil.copy(course.root / "gradebook.db", folder / "grades.db")
    shutil.copy(paths.REPO_ROOT / "grader_tests" / "softmax.py", folder / "checks.txt")
    shutil.copy(course.root / "source" / ASSIGNMENT / "01_softmax.ipynb", folder / "solution.json")
    os.symlink(course.root / "source" / ASSIGNMENT / "01_softmax.ipynb", folder / "linked.ipynb.txt")
    with pytest.raises(GradingError) as raised:
        course.feedback(ASSIGNMENT, "gets_planted_feedback")
    feedback = course.root / "feedback" / "gets_planted_feedback" / ASSIGNMENT
    for name in ("grades.db", "checks.txt", "solution.json", "linked.ipynb.txt"):
        assert name in str(raised.value) and not os.path.lexists(feedback / name), name
    assert (feedback / "01_softmax.html").is_file()


def test_feedback_shows_a_students_own_hidden_test_markers(graded):
    course, _ = graded
    course.feedback(ASSIGNMENT, "mentions_hidden_markers")
    html = (course.root / "feedback" / "mentions_hidden_markers" / ASSIGNMENT / "01_softmax.html").read_text()
    assert "A student&#39;s own note" in html or "A student's own note" in html


def test_a_grader_object_kept_by_the_notebook_fails_as_an_ordinary_exception(graded):
    course, _ = graded
    assert "handled: SessionOver" in printed(autograded(course, "keeps_a_grader_object"))


def test_restored_cells_follow_the_cells_that_survive(graded):
    course, _ = graded
    source = [c.metadata.nbgrader.grade_id for c in nbformat.read(course.root / "source" / ASSIGNMENT /
                                                                    "01_softmax.ipynb", as_version=4).cells]
    for student in ("stripped_metadata", "stripped_metadata_and_ids", "renamed_test_cell", "emptied_answer_grade_id"):
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in autograded(course, student).cells]
        assert [i for i in ids if i] == source, (student, ids)
    record = autograded(course, "stripped_metadata_ids_and_an_answer").metadata[STATUS_KEY]
    assert record["detail"] == "test_softmax was restored after softmax_intro: no cell of the notebook is softmax, " \
                               "the cell before it", record
