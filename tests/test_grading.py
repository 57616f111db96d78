"""assignments.grading without nbgrader runs: course directories and the grade table."""
import pytest

from assignments.grading import Course, GradingError, SubmissionScore, format_scores


def test_a_folder_without_nbgrader_config_is_not_a_course(tmp_path):
    with pytest.raises(GradingError, match="has no nbgrader_config.py"):
        Course(tmp_path)


def test_a_scratch_course_gets_the_config_and_the_source(tmp_path):
    course = Course.scratch(tmp_path, ["01_softmax"])
    assert (course.root / "nbgrader_config.py").is_file()
    assert (course.root / "source" / "01_softmax" / "01_softmax.ipynb").is_file()


def test_the_grade_table_shows_each_assignment_with_pending_written_answers():
    rows = [SubmissionScore("alice", "01", 3, 5, {"test_a": (1, 1), "test_b": (2, 2), "a_q": (0, 2)},
                            frozenset({"a_q"})),
            SubmissionScore("bob", "01", 0, 5, {"test_a": (0, 1), "test_b": (0, 2), "a_q": (0, 2)},
                            frozenset({"a_q"})),
            SubmissionScore("bob", "02", 1, 1, {"t": (1, 1)})]
    assert format_scores(rows) == (
        "01\n"
        "student  test_a  test_b  a_q  total\n"
        "alice    1/1     2/2     ?/2  3/5\n"
        "bob      0/1     0/2     ?/2  0/5\n"
        "\n"
        "02\n"
        "student  t    total\n"
        "bob      1/1  1/1")
    assert rows[0].full_autograded_marks and not rows[1].full_autograded_marks
    assert format_scores([]) == "(no graded submissions)"
