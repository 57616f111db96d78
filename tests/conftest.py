"""Shared fixtures: every assignment's reference solution and released stubs, loaded as modules, and
one audited run of each reference notebook."""
import pytest

from assignments import paths
from assignments.notebooks import load_definitions, read_notebook
from tests.audited_run import execute_audited


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


@pytest.fixture(scope="session")
def audited_reference(tmp_path_factory):
    """assignment -> its reference notebook executed once per session on the bundled fixtures, in a
    scratch working directory (notebooks may write files, e.g. 05's model), with the hook of
    tests/audited_run.py as first cell and its report as last."""
    runs = {}

    def run(assignment):
        if assignment not in runs:
            notebook = read_notebook(paths.SOURCE_DIR / assignment / f"{assignment}.ipynb")
            runs[assignment] = execute_audited(notebook, tmp_path_factory.mktemp(assignment))
        return runs[assignment]
    return run
