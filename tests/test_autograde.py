"""Real nbgrader autograde, feedback and export of submissions built from the release."""
import csv

import nbformat
import numpy as np
import pytest

from assignments.instructor.grading import Course
from assignments.instructor.leaks import hidden_test_lines
from assignments.instructor.submission import STATUS_KEY
from assignments.notebooks import read_notebook
from grader_tests.mutants.softmax import MUTANTS, softmax_without_max_shift
from tests.builders import SOFTMAX_NB, correct_submission, released, with_answer

pytestmark = pytest.mark.nbgrader
ASSIGNMENT = "01_softmax"


def noisy_softmax(z):
    import sys
    import warnings

    print("debugging output on stderr", file=sys.stderr)
    warnings.warn("a warning a correct answer may raise", RuntimeWarning)
    shifted = z - np.max(z, axis=1, keepdims=True)
    return np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)


def without_test_cell(nb):
    nb = nbformat.from_dict(nb)
    nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    return nb


def with_test_replaced(nb, source):
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = source
    return nb


SUBMISSIONS = {
    "reference": (lambda: correct_submission(SOFTMAX_NB), 2),
    "untouched": (lambda: released(SOFTMAX_NB), 0),
    "mutant": (lambda: with_answer(released(SOFTMAX_NB), "softmax", softmax_without_max_shift), 0),
    "warnings": (lambda: with_answer(released(SOFTMAX_NB), "softmax", noisy_softmax), 2),
    "deleted_test": (lambda: without_test_cell(correct_submission(SOFTMAX_NB)), 2),
    "edited_test": (lambda: with_test_replaced(released(SOFTMAX_NB), "pass"), 0),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A scratch course with every submission above, autograded, with feedback and a CSV export."""
    course = Course.scratch(tmp_path_factory.mktemp("course"), [ASSIGNMENT])
    for student, (build, _) in SUBMISSIONS.items():
        folder = course.root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(build(), folder / "01_softmax.ipynb")
    course.autograde(ASSIGNMENT)
    course.feedback(ASSIGNMENT)
    course.export(course.root / "grades.csv")
    return course


@pytest.mark.parametrize("student", SUBMISSIONS)
def test_each_submission_gets_its_expected_score_for_softmax(graded, student):
    [row] = [r for r in graded.scores(ASSIGNMENT) if r.student == student]
    assert row.questions["test_softmax"] == (SUBMISSIONS[student][1], 2)


def test_the_reference_gets_full_marks_and_the_untouched_release_none(graded):
    rows = {r.student: r for r in graded.scores(ASSIGNMENT)}
    assert rows["reference"].full_autograded_marks
    assert rows["reference"].pending == {"a_momentum", "a_sweeps", "a_weights"}
    assert rows["reference"].score == rows["reference"].max_score - 6  # written answers: 3 x 2 points
    assert rows["untouched"].score == 0


def test_deleted_test_and_answer_cells_are_restored_in_place(graded):
    source = [c.metadata.nbgrader.grade_id for c in read_notebook(graded.root / "source" / SOFTMAX_NB).cells]
    autograded = read_notebook(graded.root / "autograded" / "deleted_test" / SOFTMAX_NB)
    assert [c.metadata.nbgrader.grade_id for c in autograded.cells] == source


def test_feedback_names_the_mistake_without_showing_hidden_tests(graded):
    html = (graded.root / "feedback" / "mutant" / ASSIGNMENT / "01_softmax.html").read_text()
    assert "known mistake: no max subtraction" in html
    hidden = hidden_test_lines(graded.root / "source" / ASSIGNMENT)
    assert hidden and not [line for line in hidden if line in html]
    assert "BEGIN HIDDEN TESTS" not in html and "GradingFailure: softmax failed a hidden check" in html


def test_the_autograded_notebook_records_the_mistake_a_hidden_check_named(graded):
    mutant = next(m for m in MUTANTS if m.implementation is softmax_without_max_shift)
    autograded = read_notebook(graded.root / "autograded" / "mutant" / SOFTMAX_NB)
    nbformat.validate(autograded)
    record = autograded.metadata[STATUS_KEY]
    assert record["mistakes"] == {"test_softmax": [{"function": "softmax", "name": mutant.name, "hint": mutant.hint}]}
    reference = read_notebook(graded.root / "autograded" / "reference" / SOFTMAX_NB).metadata[STATUS_KEY]
    assert reference["mistakes"] == {}


def test_feedback_of_a_correct_submission_shows_its_score(graded):
    [row] = [r for r in graded.scores(ASSIGNMENT) if r.student == "reference"]
    html = (graded.root / "feedback" / "reference" / ASSIGNMENT / "01_softmax.html").read_text()
    assert f"{row.score:.1f} / {row.max_score:.1f}" in html


def test_export_lists_every_submission_with_its_score(graded):
    with open(graded.root / "grades.csv", newline="") as f:
        rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f) if r["assignment"] == ASSIGNMENT}
    assert rows == {r.student: r.score for r in graded.scores(ASSIGNMENT)}
    assert set(rows) == set(SUBMISSIONS)


def test_the_cli_autograde_prints_the_grade_table(graded, capsys):
    from assignments.cli import main

    assert main(["autograde", ASSIGNMENT, "--student", "reference", "--course-dir", str(graded.root)]) == 0
    table = capsys.readouterr().out
    assert "reference" in table and "test_softmax" in table and "2/2" in table


def test_nbgrader_warns_only_of_what_a_student_changed(graded):
    """The release leaves out hidden tests, so every such test cell's checksum differs from the source's:
    nbgrader's warning is kept for a locked cell the student edited, and dropped otherwise."""
    edited = graded.nbgrader("autograde", ASSIGNMENT, "--student=edited_test", "--force")
    assert "Attribute 'checksum' for cell test_softmax has changed!" in edited
    unchanged = graded.nbgrader("autograde", ASSIGNMENT, "--student=reference", "--force")
    assert "has changed!" not in unchanged and "SAWarning" not in unchanged
    feedback = graded.nbgrader("generate_feedback", ASSIGNMENT, "--student=reference", "--force")
    assert "not recognized" not in feedback


def test_the_gradebook_is_updated_only_when_the_source_or_the_gradebook_changed(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    course = Course.scratch(tmp_path, [ASSIGNMENT])
    generated = []
    generate = Course.generate
    monkeypatch.setattr(Course, "generate", lambda self, *args, **kw: generated.append(args) or generate(self, *args, **kw))
    course.update_gradebook(ASSIGNMENT)
    course.update_gradebook(ASSIGNMENT)
    assert len(generated) == 1

    source = read_notebook(course.root / "source" / SOFTMAX_NB)
    [test] = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_softmax"]
    test.source += "\n# checked once more"
    nbformat.write(source, course.root / "source" / SOFTMAX_NB)
    course.update_gradebook(ASSIGNMENT)
    assert len(generated) == 2
    with Gradebook(course.db_url) as gradebook:
        assert gradebook.find_source_cell("test_softmax", "01_softmax", ASSIGNMENT).source.endswith("once more")
        gradebook.find_grade_cell("test_softmax", "01_softmax", ASSIGNMENT).max_score = 5
        gradebook.db.commit()
    course.update_gradebook(ASSIGNMENT)  # the gradebook's cells changed
    assert len(generated) == 3
    (course.root / "gradebook.db").unlink()
    course.update_gradebook(ASSIGNMENT)  # a new gradebook
    assert len(generated) == 4
    with Gradebook(course.db_url) as gradebook:
        assert gradebook.find_grade_cell("test_softmax", "01_softmax", ASSIGNMENT).max_score == 2
