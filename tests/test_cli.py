"""`python -m assignments`: help, self-check with and without hidden tests, error handling."""
import re
import subprocess
import sys

import nbformat
import pytest

from assignments import paths
from assignments.cli import main
from grader_tests.mutants.softmax_classifier import softmax_normalised_over_batch
from tests.builders import SOFTMAX_NB, correct_submission, released, with_answer


def test_help_lists_every_command():
    done = subprocess.run([sys.executable, "-m", "assignments", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    for command in ("release", "check", "autograde", "feedback", "export", "demo"):
        assert command in done.stdout


def test_autograde_help_lists_the_parallel_and_distributed_options():
    done = subprocess.run([sys.executable, "-m", "assignments", "autograde", "--help"],
                          capture_output=True, text=True)
    assert done.returncode == 0
    for option in ("--student", "--workers", "--dask", "--scheduler", "--db-url", "--time-limit", "--course-dir"):
        assert option in done.stdout


def test_autograde_of_no_matching_submission_prints_an_empty_table(tmp_path, capsys, monkeypatch):
    from assignments.grading import Course

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
