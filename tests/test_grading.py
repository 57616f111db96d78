"""assignments.instructor.grading without nbgrader runs: course directories and the grade table."""
import pytest

from assignments.instructor.grading import Course, GradingError, SubmissionScore, format_scores


def test_a_folder_without_nbgrader_config_is_not_a_course(tmp_path):
    with pytest.raises(GradingError, match="has no nbgrader_config.py"):
        Course(tmp_path)


def test_a_scratch_course_gets_the_config_and_the_source(tmp_path):
    course = Course.scratch(tmp_path, ["01_softmax"])
    assert (course.root / "nbgrader_config.py").is_file()
    assert (course.root / "source" / "01_softmax" / "01_softmax.ipynb").is_file()


def test_the_grade_table_shows_each_assignment_with_pending_written_answers_and_status():
    rows = [SubmissionScore("alice", "01", 3, 5, {"test_a": (1, 1), "test_b": (2, 2), "a_q": (0, 2)},
                            frozenset({"a_q"})),
            SubmissionScore("bob", "01", 0, 5, {"test_a": (0, 1), "test_b": (0, 2), "a_q": (0, 2)},
                            frozenset({"a_q"}), "timeout", "cell test_b ran over 600 s; 1 cell not run"),
            SubmissionScore("bob", "02", 1, 1, {"t": (1, 1)}, status="ok", detail="graded a.ipynb as t.ipynb")]
    assert format_scores(rows) == (
        "01\n"
        "student  test_a  test_b  a_q  total  status\n"
        "alice    1/1     2/2     ?/2  3/5    ok\n"
        "bob      0/1     0/2     ?/2  0/5    timeout: cell test_b ran over 600 s; 1 cell not run\n"
        "\n"
        "02\n"
        "student  t    total  status\n"
        "bob      1/1  1/1    ok: graded a.ipynb as t.ipynb")
    assert rows[0].full_autograded_marks and not rows[1].full_autograded_marks
    assert format_scores([]) == "(no graded submissions)"


def test_a_course_uses_its_own_gradebook_unless_given_a_url(tmp_path):
    course = Course.scratch(tmp_path, ["01_softmax"])
    assert course.db_url == f"sqlite:///{course.root / 'gradebook.db'}"
    assert Course(tmp_path, db_url="postgresql://grader@db/course").db_url == "postgresql://grader@db/course"


def test_students_are_the_submission_folders_matching_the_glob(tmp_path):
    course = Course.scratch(tmp_path, ["01_softmax"])
    for student in ("ann", "bob", "bea"):
        (course.root / "submitted" / student / "01_softmax").mkdir(parents=True)
    (course.root / "submitted" / "cy" / "02_fully_connected").mkdir(parents=True)
    assert course.students("01_softmax") == ["ann", "bea", "bob"]
    assert course.students("01_softmax", "b*") == ["bea", "bob"]


def test_grading_uses_one_blas_thread_unless_the_environment_sets_a_count(tmp_path, monkeypatch):
    from assignments.jail import jailed_kernel

    for name in jailed_kernel.BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert jailed_kernel.one_blas_thread_unless_set()
    env = jailed_kernel.kernel_env(tmp_path)
    assert [env[name] for name in jailed_kernel.BLAS_THREAD_VARIABLES] == ["1", "1", "1"]
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert not jailed_kernel.one_blas_thread_unless_set()
    env = jailed_kernel.kernel_env(tmp_path)  # the kernel gets the user's setting, and only it
    assert env["OPENBLAS_NUM_THREADS"] == "2" and "OMP_NUM_THREADS" not in env


def test_feedback_may_quote_what_the_grader_s_messages_say_but_no_other_solution_line(tmp_path):
    from assignments import paths
    from assignments.instructor.leaks import unsafe_feedback_files

    source = paths.SOURCE_DIR / "02_fully_connected"
    grader = "\n".join(p.read_text() for p in (paths.REPO_ROOT / "grader_tests").rglob("*.py"))
    folder = tmp_path / "feedback"
    folder.mkdir()
    quoted = folder / "quoted.html"
    quoted.write_text("<pre>GradingFailure: relu_backward ... expected dx = dout * (x &gt; 0)</pre>")
    assert unsafe_feedback_files(folder, source, [], "", grader) == []
    assert [path for path, _ in unsafe_feedback_files(folder, source, [], "", "")] == [quoted]


def test_feedback_may_show_a_solution_line_the_student_s_own_markdown_quotes_as_inline_code(tmp_path):
    from assignments import paths
    from assignments.instructor.leaks import unsafe_feedback_files

    folder = tmp_path / "feedback"
    folder.mkdir()
    (folder / "05_cifar10.html").write_text("<p>have <code>loss</code> return <code>split_batch(self.loss_in_one_thread,"
                                            " X, y)</code>.</p>")
    released = "have `loss` return `split_batch(self.loss_in_one_thread, X, y)`."
    assert unsafe_feedback_files(folder, paths.SOURCE_DIR / "05_cifar10", [], released) == []
    assert unsafe_feedback_files(folder, paths.SOURCE_DIR / "05_cifar10", [], "")  # not the student's: a leak
