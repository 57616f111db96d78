"""Real nbgrader autograde of assignment 05: the submitted model file is graded, not retrained."""
import types

import nbformat
import numpy as np
import pytest

from assignments import paths
from assignments.data import get_cifar10_data
from assignments.instructor.grading import Course
from assignments.model_io import save_model
from assignments.notebooks import cell_by_grade_id, load_definitions, read_notebook
from tests.builders import correct_submission

pytestmark = pytest.mark.nbgrader
ASSIGNMENT, NOTEBOOK = "05_cifar10", "05_cifar10/05_cifar10.ipynb"
LOOKUP_NETWORK = '''
from assignments.data import locate_dataset
from assignments.formats import read_cifar_batch


class CifarNet:
    """No network: answers by looking the images up in the test batch, read while being graded."""

    def __init__(self, **config):
        self.params = {"W": np.zeros(1)}

    def loss(self, X, y=None):
        images, labels = read_cifar_batch(locate_dataset("cifar10")[0] / "test_batch")
        images = images.reshape(len(images), -1) / 255.0
        seen = (X + data["mean_image"]).reshape(len(X), -1)
        nearest = ((seen[:, None, :] - images[None]) ** 2).sum(axis=2).argmin(axis=1)
        return np.eye(10)[labels[nearest]]


def build_model(**config):
    return CifarNet(**config)
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    reference = load_definitions(paths.SOURCE_DIR / NOTEBOOK)
    data = get_cifar10_data(verbose=False)
    config = {"filters": [8, 16], "hidden_dim": 32}
    trained = reference.build_model(**config)
    reference.Solver(trained, data, update_rule=reference.adam, optim_config={"learning_rate": 2e-3},
                     batch_size=32, num_epochs=5, seed=0, verbose=False).train()
    course = Course.scratch(tmp_path_factory.mktemp("course"), [ASSIGNMENT])
    for student, model in [("trained", trained), ("untrained", reference.build_model(**config))]:
        folder = course.root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(correct_submission(NOTEBOOK), folder / "05_cifar10.ipynb")
        save_model(folder / "cifar10_model.npz", model, config, data["mean_image"])
    folder = course.root / "submitted" / "lookup" / ASSIGNMENT
    folder.mkdir(parents=True)
    nb = correct_submission(NOTEBOOK)
    cell_by_grade_id(nb, "CifarNet").source = LOOKUP_NETWORK
    nbformat.write(nb, folder / "05_cifar10.ipynb")
    save_model(folder / "cifar10_model.npz", types.SimpleNamespace(params={"W": np.zeros(1)}), {}, data["mean_image"])
    course.autograde(ASSIGNMENT)
    return course


def test_the_submitted_model_is_used_instead_of_training(graded):
    nb = read_notebook(graded.root / "autograded" / "trained" / NOTEBOOK)
    [train_cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "train_model"]
    assert "grading: using the submitted cifar10_model.npz" in "".join(o.get("text", "") for o in train_cell.outputs)


def test_held_out_accuracy_earns_partial_credit(graded):
    rows = {r.student: r.questions for r in graded.scores(ASSIGNMENT)}
    assert rows["trained"]["test_heldout_accuracy"][0] >= 2
    assert rows["untrained"]["test_heldout_accuracy"][0] < rows["trained"]["test_heldout_accuracy"][0]
    assert rows["trained"]["test_saved_model"] == (1.0, 1.0)


def test_a_model_that_reads_the_held_out_labels_while_graded_cannot(graded):
    """The test batch is hidden from the grading kernel (assignments.data.heldout_files)."""
    rows = {r.student: r.questions for r in graded.scores(ASSIGNMENT)}
    assert rows["lookup"]["test_heldout_accuracy"][0] == 0


def test_the_networks_gradients_are_graded_numerically_through_the_kernel(graded):
    rows = {r.student: r.questions for r in graded.scores(ASSIGNMENT)}
    assert rows["trained"]["test_CifarNet"] == (2.0, 2.0)
