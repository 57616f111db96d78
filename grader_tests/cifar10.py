"""Hidden grading of assignment 05: the accuracy of the student's saved model on held-out data.

The model is rebuilt with the student's own `build_model(**config)`, its parameters (and state)
are loaded from the submitted .npz file without unpickling anything, and it classifies the
CIFAR-10 test batch, read here in the grader's process: `get_cifar10_data` never hands it to a
notebook, and the grading jail hides the file from the student's kernel
(`assignments.data.heldout_files`), so the model cannot look up the labels while it is graded.
CIFAR-10 is public, though: held out means unseen by the kit's training and unreadable during
grading, not secret. Points follow accuracy thresholds.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from assignments.data import load_cifar10_test, locate_dataset
from assignments.model_io import ModelFileError, load_model_file
from grader_tests.checking import GradingFailure

FULL_DATA_THRESHOLDS = (0.50, 0.60, 0.65, 0.70)
"""Test accuracy earning 1, 2, 3 and 4 points on the real CIFAR-10 test batch (10,000 images)."""
FIXTURE_THRESHOLDS = (0.40, 0.55, 0.70, 0.85)
"""The same on the synthetic fixture (50 test images of coloured shapes, far easier than photos);
the reference network reaches 92% there."""
FULL_TEST_SIZE = 10_000


def thresholds_for(num_test: int) -> tuple[float, ...]:
    return FULL_DATA_THRESHOLDS if num_test >= FULL_TEST_SIZE else FIXTURE_THRESHOLDS


def heldout_accuracy(model_file: str, build_model: Callable, batch_size: int = 200) -> tuple[float, int]:
    """Accuracy of the saved model on the held-out test batch, and that batch's size."""
    try:
        config, params, state, mean_image = load_model_file(model_file)
    except ModelFileError as error:
        raise GradingFailure(f"The saved model could not be loaded: {error}") from error
    try:
        model = build_model(**config)
    except Exception as error:  # the student's code may raise anything
        raise GradingFailure(f"build_model(**config) failed for the saved config {config}: "
                             f"{type(error).__name__}: {error}") from error
    expected = {name: np.shape(value) for name, value in model.params.items()}
    saved = {name: value.shape for name, value in params.items()}
    if saved != expected:
        raise GradingFailure(f"The saved parameters {saved} do not fit the model that build_model(**config) "
                             f"builds, whose parameters are {expected}.")
    for name, value in params.items():
        model.params[name] = value.astype(np.asarray(model.params[name]).dtype)
    if state:
        model.state = {name: value for name, value in state.items()}
    directory, _ = locate_dataset("cifar10")
    X_test, y_test = load_cifar10_test(directory)
    X_test = X_test - mean_image
    correct = 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for start in range(0, X_test.shape[0], batch_size):
            scores = model.loss(X_test[start:start + batch_size])
            correct += int(np.sum(np.argmax(scores, axis=1) == y_test[start:start + batch_size]))
    return correct / X_test.shape[0], X_test.shape[0]


def submitted_file(model_file: str) -> str:
    """`model_file`, checked to be the submission's own file while nbgrader grades.

    The hidden tests run in the grader's process, which can read every student's folder, while the
    file name comes from the student's notebook: during autograde it must name a regular file in
    the submission's working folder, not a path or a link elsewhere (another student's model).
    """
    if os.environ.get("NBGRADER_EXECUTION") != "autograde":
        return model_file
    path, here = Path(model_file), Path.cwd().resolve()
    if path.is_symlink() or (here / path).resolve().parent != here:
        raise GradingFailure(f"MODEL_FILE must name a file saved in the notebook's own folder, such as "
                             f"'cifar10_model.npz'; {model_file!r} is a link or lies elsewhere.")
    return model_file


def cifar10_points(model_file: str, build_model: Callable) -> float:
    """Points (0 to 4) for the saved model's held-out accuracy; prints the accuracy and thresholds.

    Returned as the last value of the grade cell, which nbgrader reads as partial credit.
    """
    accuracy, num_test = heldout_accuracy(submitted_file(model_file), build_model)
    thresholds = thresholds_for(num_test)
    points = float(sum(accuracy >= t for t in thresholds))
    print(f"held-out accuracy {accuracy:.4f} on {num_test} test images; thresholds "
          f"{', '.join(f'{t:.0%}' for t in thresholds)} earn 1 point each: {points:g} of {len(thresholds)}")
    return points
