"""Shared fixtures: every assignment's reference solution and released stubs, loaded as modules."""
import pytest

from assignments import paths
from assignments.notebooks import load_definitions


def _definitions(directory, assignment):
    return load_definitions(directory / assignment / f"{assignment}.ipynb")


@pytest.fixture(scope="session")
def reference_01():
    return _definitions(paths.SOURCE_DIR, "01_softmax")


@pytest.fixture(scope="session")
def released_01():
    return _definitions(paths.RELEASE_DIR, "01_softmax")


@pytest.fixture(scope="session")
def reference_02():
    return _definitions(paths.SOURCE_DIR, "02_fully_connected")


@pytest.fixture(scope="session")
def released_02():
    return _definitions(paths.RELEASE_DIR, "02_fully_connected")


@pytest.fixture(scope="session")
def reference_03():
    return _definitions(paths.SOURCE_DIR, "03_normalization_dropout")


@pytest.fixture(scope="session")
def released_03():
    return _definitions(paths.RELEASE_DIR, "03_normalization_dropout")


@pytest.fixture(scope="session")
def reference_04():
    return _definitions(paths.SOURCE_DIR, "04_cnn")


@pytest.fixture(scope="session")
def released_04():
    return _definitions(paths.RELEASE_DIR, "04_cnn")
