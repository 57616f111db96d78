"""Shared fixtures: the kit's notebooks loaded as modules."""
import pytest

from assignments import paths
from assignments.notebooks import load_definitions
from tests.builders import SOFTMAX_NB


@pytest.fixture(scope="session")
def reference_01():
    """Assignment 01's reference solution (source notebook) as a module."""
    return load_definitions(paths.SOURCE_DIR / SOFTMAX_NB)


@pytest.fixture(scope="session")
def released_01():
    """Assignment 01's student stubs (release notebook) as a module."""
    return load_definitions(paths.RELEASE_DIR / SOFTMAX_NB)
