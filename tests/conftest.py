"""Shared fixtures: the reference solution and released stubs of the assignment a test module is
named after, loaded as modules, and one audited run of each reference notebook."""
import os

import numpy  # noqa: F401  (loaded before the line below: this process keeps its BLAS threads)
import pytest

from assignments import paths
from assignments.notebooks import read_notebook
from assignments.instructor.submission import BLAS_THREAD_VARIABLES
from grader_tests.registry import ASSIGNMENTS
from tests import notebook_definitions
from tests.audited_run import execute_audited
from tests.system_tools import all_tools_present, missing_tools

# Kernels and nbgrader processes started by the tests use one BLAS thread. The tests check behaviour,
# not speed, and OpenBLAS threads that wait for a core other work keeps busy spin: with two threads
# on a loaded 2-core machine a small training step took 20 times longer (benchmarks measure speed).
for name in BLAS_THREAD_VARIABLES:
    os.environ.setdefault(name, "1")


# The suite runs in parallel processes (pytest-xdist, `-n 4 --dist loadfile` in pyproject.toml), a test
# module at a time per process, so that its module fixtures are built once. Modules that take minutes,
# most of it waiting on kernels, servers and time limits, start first, so that the short ones fill the
# cores beside them.
LONGEST_FIRST = ("test_hostile_submissions", "test_distributed_grading", "test_parallel_grading", "test_autograde",
                 "test_hub", "test_student_experience", "test_browser", "test_autograde_cifar10", "test_lms",
                 "test_cli", "test_release", "test_bundle", "test_selfcheck")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Without some system tool, run in one process: the check below then stops the run, when the
    selected tests need the tool, with the message and exit status a worker process cannot give."""
    if not hasattr(config, "workerinput") and config.getoption("dist", "no") != "no" and not all_tools_present():
        config.option.dist, config.option.numprocesses = "no", 0


def pytest_collection_modifyitems(config, items):
    """Stop before any test runs when the selected tests need a system tool this machine lacks; then
    put the longest modules first (each module keeps its own order)."""
    problems = missing_tools(items)
    if problems:
        pytest.exit("missing system tools:\n  " + "\n  ".join(problems), returncode=pytest.ExitCode.USAGE_ERROR)

    def rank(item):
        module = item.module.__name__.rsplit(".", 1)[-1]
        return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank)


def _assignment_of(request) -> str:
    """The assignment a kit test module is named after: tests/test_02_... -> "02_fully_connected"."""
    number = request.module.__name__.rsplit(".", 1)[-1].split("_")[1]
    return next(name for name in ASSIGNMENTS if name.startswith(f"{number}_"))


@pytest.fixture
def reference(request):
    """The definitions of the reference solution of the module's assignment."""
    return notebook_definitions.reference(_assignment_of(request))


@pytest.fixture
def released(request):
    """The definitions of the released stubs of the module's assignment."""
    return notebook_definitions.released(_assignment_of(request))


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
