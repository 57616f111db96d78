"""`python -m assignments`: help, self-check with and without hidden tests, error handling."""
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from assignments import paths
from assignments.cli import main
from grader_tests.mutants.softmax import softmax_normalised_over_batch
from tests.builders import SOFTMAX_NB, correct_submission, released, with_answer


def test_help_lists_every_command():
    done = subprocess.run([sys.executable, "-m", "assignments", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    for command in ("release", "check", "autograde", "feedback", "export", "reference-submission", "demo"):
        assert command in done.stdout


def test_autograde_help_lists_the_parallel_and_distributed_options():
    done = subprocess.run([sys.executable, "-m", "assignments", "autograde", "--help"],
                          capture_output=True, text=True)
    assert done.returncode == 0
    for option in ("--student", "--workers", "--dask", "--scheduler", "--db-url", "--time-limit", "--course-dir"):
        assert option in done.stdout


def test_autograde_of_no_matching_submission_prints_an_empty_table(tmp_path, capsys, monkeypatch):
    from assignments.instructor.grading import Course

    course = Course.scratch(tmp_path, ["01_softmax"])
    monkeypatch.setattr(Course, "update_gradebook", lambda self, assignment: None)
    assert main(["autograde", "01_softmax", "--workers", "2", "--course-dir", str(course.root)]) == 0
    assert capsys.readouterr().out.strip() == "(no graded submissions)"


def test_check_of_the_untouched_release_fails_with_a_table(capsys):
    assert main(["check", str(paths.RELEASE_DIR / SOFTMAX_NB)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"test_softmax +0/2 +FAILED", out)
    assert "NotImplementedError" in out


def test_check_of_a_correct_notebook_passes_and_leaves_the_file_alone(tmp_path, capsys):
    path = tmp_path / "01_softmax" / "01_softmax.ipynb"
    path.parent.mkdir()
    nbformat.write(correct_submission(SOFTMAX_NB), path)
    before = path.read_bytes()
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"test_softmax +2/2 +passed", out) and "FAILED" not in out
    assert path.read_bytes() == before


@pytest.mark.nbgrader
def test_hidden_check_names_the_mistake_of_a_renamed_copy(tmp_path, capsys):
    # A renamed copy (as Jupyter's "Duplicate" makes) of a one-notebook assignment is still graded.
    path = tmp_path / "01_softmax" / "01_softmax-Copy1.ipynb"
    path.parent.mkdir()
    nbformat.write(with_answer(released(SOFTMAX_NB), "softmax", softmax_normalised_over_batch), path)
    assert main(["check", str(path), "--hidden"]) == 1
    out = capsys.readouterr().out
    assert "known mistake: normalised over the whole batch" in out
    # The table names the mistake, and the catalogue's hint says how to fix it.
    assert re.search(r"test_softmax +0/2 +FAILED +looks like: normalised over the whole batch\n", out)
    assert ("test_softmax: normalised over the whole batch. Hint: Divide by each row's own sum "
            "(axis=1, keepdims=True), not by the sum of all entries.") in out
    assert re.search(r"test_softmax_cross_entropy_loss +0/1 +FAILED\n", out)  # stub: no mistake named


def test_check_of_a_file_that_is_not_a_notebook_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "broken.ipynb"
    path.write_text("{")
    assert main(["check", str(path)]) == 2
    assert "is not a valid Jupyter notebook" in capsys.readouterr().err


def test_check_says_an_unanswered_question_is_not_answered_yet(capsys):
    assert main(["check", str(paths.RELEASE_DIR / SOFTMAX_NB)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"test_softmax +0/2 +FAILED  not answered yet", out)
    assert "test_softmax:\n  not answered yet: the function it tests (or one that function uses) still raises " \
           "NotImplementedError; fill in its YOUR CODE HERE part" in out
    assert "NotImplementedError: \n" not in out


def test_hidden_check_of_another_assignment_s_notebook_says_which_it_is(tmp_path, capsys):
    path = tmp_path / "01_softmax" / "01_softmax.ipynb"  # 02's notebook, saved under 01's name
    path.parent.mkdir()
    shutil.copy(paths.RELEASE_DIR / "02_fully_connected" / "02_fully_connected.ipynb", path)
    assert main(["check", str(path), "--hidden"]) == 2
    assert capsys.readouterr().err.strip() == ("error: 01_softmax.ipynb is not a notebook of 01_softmax: none of "
                                               "its graded cells belong to it. It looks like 02_fully_connected: "
                                               "pass --assignment 02_fully_connected")


def test_hidden_check_of_an_unknown_assignment_lists_the_assignments(capsys):
    assert main(["check", str(paths.RELEASE_DIR / SOFTMAX_NB), "--hidden", "--assignment", "99_nope"]) == 2
    error = capsys.readouterr().err
    assert f"error: no assignment '99_nope' in {paths.SOURCE_DIR}; the assignments are: 01_softmax, " in error
    assert "pass --assignment" not in error


def test_check_talks_to_its_kernel_over_private_sockets_and_leaves_no_files(tmp_path, capfd):
    path = tmp_path / "01_softmax" / "01_softmax.ipynb"
    path.parent.mkdir()
    nbformat.write(correct_submission(SOFTMAX_NB), path)
    assert main(["check", str(path)]) == 0
    assert "without encryption" not in capfd.readouterr().err
    assert sorted(p.name for p in path.parent.iterdir()) == ["01_softmax.ipynb"]


def test_reference_submission_writes_the_release_with_the_reference_answers(tmp_path, capsys):
    from assignments.instructor.grading import Course
    from assignments.notebooks import cell_by_grade_id, nbgrader_meta, read_notebook

    course = Course.scratch(tmp_path, ["01_softmax"])
    assert main(["reference-submission", "01_softmax", "--student", "model", "--course-dir", str(course.root)]) == 0
    written = course.root / "submitted" / "model" / "01_softmax" / "01_softmax.ipynb"
    assert f"model submission written to {written.parent}" in capsys.readouterr().out
    submission, source = read_notebook(written), read_notebook(paths.SOURCE_DIR / SOFTMAX_NB)
    answers = [c for c in submission.cells if nbgrader_meta(c).get("solution")]
    assert answers and all(c.source == cell_by_grade_id(source, nbgrader_meta(c)["grade_id"]).source for c in answers)
    assert "BEGIN HIDDEN TESTS" not in written.read_text()
    assert main(["reference-submission", "01_nope", "--course-dir", str(course.root)]) == 2
    assert "no assignment '01_nope'" in capsys.readouterr().err
