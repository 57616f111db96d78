"""Assignment 05: the held-out accuracy grading of a saved model."""
import types

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from assignments import paths
from assignments.data import get_cifar10_data
from assignments.model_io import save_model
from assignments.notebooks import load_definitions
from grader_tests.checking import GradingFailure
from grader_tests.cifar10 import FIXTURE_THRESHOLDS, FULL_DATA_THRESHOLDS, cifar10_points, thresholds_for

NOTEBOOK = "05_cifar10/05_cifar10.ipynb"


@pytest.fixture(scope="module")
def reference():
    return load_definitions(paths.SOURCE_DIR / NOTEBOOK)


@pytest.fixture(scope="module")
def trained_file(reference, tmp_path_factory):
    """The reference network trained briefly on the fixture, saved as a student would."""
    data = get_cifar10_data(verbose=False)
    config = {"filters": [8, 16], "hidden_dim": 32}
    model = reference.build_model(**config)
    reference.Solver(model, data, update_rule=reference.adam, optim_config={"learning_rate": 2e-3},
                     batch_size=32, num_epochs=5, seed=0, verbose=False).train()
    return save_model(tmp_path_factory.mktemp("model") / "cifar10_model.npz", model, config, data["mean_image"])


def test_the_reference_network_split_across_threads_computes_the_batchs_loss(reference):
    """CifarNet.loss splits the batch (assignments.parallel.split_batch); the result is the same."""
    model = reference.build_model(filters=[4, 8], hidden_dim=16)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 3, 32, 32)), rng.integers(0, 10, 10)
    with threadpool_limits(2, user_api="blas"):
        loss, grads = model.loss(X, y)
        scores = model.loss(X)
    whole_loss, whole_grads = model.loss_in_one_thread(X, y)
    assert loss == pytest.approx(whole_loss, rel=1e-5)
    for name, grad in whole_grads.items():
        np.testing.assert_allclose(grads[name], grad, rtol=1e-4, atol=1e-6)
        assert grads[name].dtype == model.params[name].dtype == np.float32
    np.testing.assert_allclose(scores, model.loss_in_one_thread(X), rtol=1e-5, atol=1e-6)


def test_a_trained_reference_model_earns_points(reference, trained_file, capsys):
    points = cifar10_points(str(trained_file), reference.build_model)
    assert points >= 2
    assert "held-out accuracy" in capsys.readouterr().out


def test_a_model_that_always_answers_one_class_earns_nothing(tmp_path):
    class Constant:
        def __init__(self):
            self.params = {"W": np.zeros(1)}

        def loss(self, X, y=None):
            scores = np.zeros((X.shape[0], 10))
            scores[:, 3] = 1
            return scores

    path = save_model(tmp_path / "constant", Constant(), {}, np.zeros((3, 32, 32)))
    assert cifar10_points(str(path), lambda: Constant()) == 0


def test_the_released_stub_fails_with_a_clear_message(trained_file):
    stub = load_definitions(paths.RELEASE_DIR / NOTEBOOK)
    with pytest.raises(GradingFailure, match=r"build_model\(\*\*config\) failed .*NameError"):
        cifar10_points(str(trained_file), stub.build_model)


def test_a_missing_model_file_fails_with_a_clear_message(reference, tmp_path):
    with pytest.raises(GradingFailure, match="could not be loaded: .*no such model file"):
        cifar10_points(str(tmp_path / "cifar10_model.npz"), reference.build_model)


def test_parameters_of_another_architecture_are_reported(reference, trained_file):
    def other(**config):
        return reference.build_model(**{**config, "hidden_dim": 64})

    with pytest.raises(GradingFailure, match="do not fit the model"):
        cifar10_points(str(trained_file), other)


def test_thresholds_depend_on_the_size_of_the_test_set():
    assert thresholds_for(10_000) == FULL_DATA_THRESHOLDS
    assert thresholds_for(50) == FIXTURE_THRESHOLDS
    assert all(a < b for a, b in zip(FULL_DATA_THRESHOLDS, FULL_DATA_THRESHOLDS[1:]))


def test_no_model_object_is_ever_unpickled(reference, trained_file):
    assert isinstance(reference.build_model, types.FunctionType)
    with np.load(trained_file, allow_pickle=False) as archive:
        assert all(archive[name].dtype != object for name in archive.files)


@pytest.mark.parametrize("name", ["../elsewhere/cifar10_model.npz", "/abs/other/cifar10_model.npz", "link.npz"])
def test_while_grading_the_model_file_must_be_the_submissions_own(tmp_path, monkeypatch, trained_file, name):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link.npz").symlink_to(trained_file)
    with pytest.raises(GradingFailure, match="must name a file saved in the notebook's own folder"):
        cifar10_points(name, lambda: None)
