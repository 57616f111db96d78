"""Notebooks uploaded to an LMS (assignments.instructor.lms): a realistic Canvas download of 01 collected with
nbgrader's zip_collect, autograded, feedback per student and a grades CSV for the LMS; a Moodle
download of 05 whose model files stay with their notebooks."""
import csv
import zipfile

import nbformat
import pytest

from assignments.cli import main
from assignments.instructor.grading import Course, GradingError
from assignments.instructor.lms import collect_uploads
from grader_tests.mutants.softmax import softmax_without_max_shift
from tests.builders import SOFTMAX_NB, correct_submission, released, with_answer

pytestmark = pytest.mark.nbgrader


def _zip(path, files):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


@pytest.fixture(scope="module")
def canvas_course(tmp_path_factory):
    """Canvas's "Download Submissions" of 01: Jane right, John's late re-upload with a known
    mistake in softmax (Canvas renamed it 01_softmax-1.ipynb), Ann's notebook under the wrong name,
    and a stray file; collected, autograded and with feedback, through the command line."""
    root = tmp_path_factory.mktemp("lms")
    course = Course.scratch(root / "course", ["01_softmax", "05_cifar10"])
    mistake = with_answer(correct_submission(SOFTMAX_NB), "softmax", softmax_without_max_shift)
    archive = _zip(root / "submissions.zip", {
        "smithjane_1001_5001_01_softmax.ipynb": nbformat.writes(correct_submission(SOFTMAX_NB)),
        "doejohn_LATE_1002_5003_01_softmax-1.ipynb": nbformat.writes(mistake),
        "leeann_1003_5004_Untitled.ipynb": nbformat.writes(correct_submission(SOFTMAX_NB)),
        "leeann_1003_5004_notes.txt": "not a notebook",
    })
    options = ["--course-dir", str(course.root)]
    assert main(["collect-lms", "01_softmax", str(archive), "--lms", "canvas", *options]) == 0
    assert main(["autograde", "01_softmax", "--workers", "2", *options]) == 0
    assert main(["feedback", "01_softmax", *options]) == 0
    assert main(["lms-grades", "--to", str(root / "lms_grades.csv"), *options]) == 0
    return course, root


def test_canvas_files_land_in_each_students_folder(canvas_course):
    course, _ = canvas_course
    submitted = course.root / "submitted"
    assert sorted(p.relative_to(submitted).as_posix() for p in submitted.rglob("*.ipynb")) == [
        "1001/01_softmax/01_softmax.ipynb", "1002/01_softmax/01_softmax.ipynb",
        "1003/01_softmax/01_softmax.ipynb",  # graded under its name; the student's file is kept
        "1003/01_softmax/Untitled.ipynb"]
    assert not list(submitted.rglob("*.txt"))


def test_grades_feedback_and_the_lms_csv(canvas_course):
    course, root = canvas_course
    scores = {s.student: s for s in course.scores("01_softmax")}
    assert {student: s.score for student, s in scores.items()} == {"1001": 12, "1002": 10, "1003": 12}
    assert scores["1002"].questions["test_softmax"] == (0, 2)
    assert scores["1003"].status == "ok" and "Untitled.ipynb" in scores["1003"].detail
    for student in ("1001", "1002", "1003"):
        assert (course.root / "feedback" / student / "01_softmax" / "01_softmax.html").is_file()
    john = (course.root / "feedback" / "1002" / "01_softmax" / "01_softmax.html").read_text()
    assert "softmax failed a hidden check" in john and "BEGIN HIDDEN TESTS" not in john
    with open(root / "lms_grades.csv", newline="") as f:
        assert list(csv.reader(f)) == [["student_id", "01_softmax", "total"], ["1001", "12", "12"],
                                       ["1002", "10", "10"], ["1003", "12", "12"]]


def test_moodle_folders_and_flat_files_keep_the_model_with_its_notebook(canvas_course):
    course, root = canvas_course
    notebook = nbformat.writes(released("05_cifar10/05_cifar10.ipynb"))
    archive = _zip(root / "moodle.zip", {
        "Jane Smith_1001_assignsubmission_file_/05_cifar10.ipynb": notebook,
        "Jane Smith_1001_assignsubmission_file_/cifar10_model.npz": b"jane's model",
        "John Doe_1002_assignsubmission_file_05_cifar10.ipynb": notebook,
        "John Doe_1002_assignsubmission_file_cifar10_model-1.npz": b"john's second model",
    })
    assert collect_uploads(course, "05_cifar10", archive, "moodle") == ["1001", "1002"]
    for student, model in (("1001", b"jane's model"), ("1002", b"john's second model")):
        folder = course.root / "submitted" / student / "05_cifar10"
        assert sorted(p.name for p in folder.iterdir()) == ["05_cifar10.ipynb", "cifar10_model.npz"]
        assert (folder / "cifar10_model.npz").read_bytes() == model


def test_bad_lms_requests_get_clear_errors(canvas_course, tmp_path):
    course, _ = canvas_course
    with pytest.raises(GradingError, match="unknown LMS 'blackboard': expected one of moodle, canvas"):
        collect_uploads(course, "01_softmax", tmp_path / "x.zip", "blackboard")
    with pytest.raises(GradingError, match="no such file"):
        collect_uploads(course, "01_softmax", tmp_path / "x.zip", "canvas")
