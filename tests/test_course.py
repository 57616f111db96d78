"""The course setting `dataset` (course.toml, assignments.course): MNIST or Fashion-MNIST for 01-04,
in the notebooks, in the grader's jail, and for the hidden tests, which must not care which."""
import re
import shutil
import subprocess
import sys

import nbformat
import numpy as np
import pytest

from assignments import course, paths
from assignments.cli import main
from assignments.data import FASHION_MNIST_CLASSES, DataFileError, get_mnist_data
from assignments.jail.jailed_kernel import KERNEL_ENV, readable_paths
from assignments.jail.sandbox import prepare_scratch, sandboxed
from tests.builders import correct_submission


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """A course.toml of the test's own, and no $DLKIT_DATASET; returns its path."""
    path = tmp_path / "course.toml"
    monkeypatch.setattr(paths, "COURSE_SETTINGS", path)
    monkeypatch.delenv("DLKIT_DATASET", raising=False)
    return path


@pytest.fixture
def fashion_data(tmp_path, monkeypatch):
    """$DLKIT_DATA_DIR with a small Fashion-MNIST-format data set (the MNIST fixture's files under
    a SOURCE.txt of its own) and nothing else; returns the data folder."""
    data = tmp_path / "data"
    shutil.copytree(paths.FIXTURES_DIR / "mnist", data / "fashion-mnist")
    (data / "fashion-mnist" / "SOURCE.txt").write_text("small Fashion-MNIST for a test\n")
    monkeypatch.setenv("DLKIT_DATA_DIR", str(data))
    return data


def test_the_kit_ships_with_mnist():
    assert 'dataset = "mnist"' in paths.COURSE_SETTINGS.read_text()


def test_dataset_reads_course_toml_and_the_environment_overrides_it(settings, monkeypatch):
    assert course.dataset() == "mnist"  # no course.toml
    settings.write_text('# rotated this year\ndataset = "fashion-mnist"\n')
    assert course.dataset() == "fashion-mnist"
    monkeypatch.setenv("DLKIT_DATASET", "mnist")
    assert course.dataset() == "mnist"


@pytest.mark.parametrize("content, problem", [
    ('dataset = "cifar10"', "dataset = 'cifar10' is not a data set of the course; choose one of "
                            "'mnist', 'fashion-mnist'"),
    ('dataset = fashion-mnist', "not valid TOML"),
])
def test_a_bad_setting_names_the_file_and_the_choices(settings, content, problem):
    settings.write_text(content)
    with pytest.raises(course.CourseSettingsError) as error:
        course.dataset()
    assert str(error.value).startswith(f"{settings}: ") and problem in str(error.value)


def test_a_bad_environment_override_is_named(settings, monkeypatch):
    monkeypatch.setenv("DLKIT_DATASET", "Fashion")
    with pytest.raises(course.CourseSettingsError, match=r"^\$DLKIT_DATASET: dataset = 'Fashion' is not"):
        course.dataset()


def test_get_mnist_data_follows_the_setting(settings, fashion_data, capsys):
    settings.write_text('dataset = "fashion-mnist"')
    data = get_mnist_data(num_validation=50)
    assert data["class_names"] == FASHION_MNIST_CLASSES
    assert data["description"] == "small Fashion-MNIST for a test"
    assert data["X_train"].shape == (450, 1, 28, 28) and data["X_test"].shape == (100, 1, 28, 28)
    assert "Using small Fashion-MNIST for a test" in capsys.readouterr().out
    mnist = get_mnist_data(dataset="mnist", verbose=False)  # an explicit choice wins; MNIST falls back
    assert mnist["class_names"] == [str(d) for d in range(10)]
    assert mnist["description"].startswith("tiny MNIST fixture")


def test_fashion_mnist_not_fetched_says_how_to_fetch_it(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("DLKIT_DATA_DIR", str(tmp_path / "empty"))
    settings.write_text('dataset = "fashion-mnist"')
    with pytest.raises(DataFileError) as error:
        get_mnist_data()
    message = str(error.value)
    assert "fashion-mnist: missing: no such folder" in message
    assert "python data_scripts/get_fashion_mnist.py" in message and "dataset-fashion-mnist" in message


def test_the_graders_jail_sees_the_setting_and_its_override(tmp_path):
    # The student's kernel reads course.toml (and $DLKIT_DATASET, passed on to it) in its jail.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    prepare_scratch(scratch)
    assert "DLKIT_DATASET" in KERNEL_ENV
    code = "from assignments import course; print(course.dataset())"
    for env, expected in [({}, "mnist"), ({"DLKIT_DATASET": "fashion-mnist"}, "fashion-mnist")]:
        argv = sandboxed([sys.executable, "-c", code], scratch, readable=readable_paths("01_softmax"))
        run = subprocess.run(argv, cwd="/", capture_output=True, text=True, timeout=60,
                             env={"PATH": "/usr/bin:/bin", **env})
        assert (run.returncode, run.stdout.strip()) == (0, expected), run.stderr


@pytest.mark.nbgrader
def test_hidden_tests_do_not_depend_on_the_data_set(fashion_data, tmp_path, monkeypatch, capsys):
    # 01's reference graded in the jail on Fashion-MNIST: full marks, as on MNIST. The MNIST next
    # to it is broken, so a kernel that loaded MNIST instead would fail.
    (fashion_data / "mnist").mkdir()
    (fashion_data / "mnist" / "train-images-idx3-ubyte").write_bytes(b"broken")
    monkeypatch.setenv("DLKIT_DATASET", "fashion-mnist")
    path = tmp_path / "01_softmax" / "01_softmax.ipynb"
    path.parent.mkdir()
    nbformat.write(correct_submission("01_softmax/01_softmax.ipynb"), path)
    assert main(["check", str(path), "--hidden"]) == 0, capsys.readouterr().out
    assert re.search(r"total +12/12\n", capsys.readouterr().out)


def test_accuracy_targets_cover_every_data_set_and_trained_assignment():
    assert set(course.ACCURACY_TARGETS) == set(course.DATASETS)
    for targets in course.ACCURACY_TARGETS.values():
        assert set(targets) == {"01_softmax", "02_fully_connected", "04_cnn"}
        assert all(0.5 < value < 1 for value in targets.values())
    assert np.isclose(course.ACCURACY_TARGETS["mnist"]["04_cnn"], 0.99)
