"""Exercise 02 Solver: the hidden check passes the reference and fails the stub and every mutant."""
import pytest

from assignments import paths
from assignments.notebooks import load_definitions
from grader_tests.checking import GradingFailure
from grader_tests.mutants.solver import MUTANTS, WorkingSolver
from grader_tests.solver import check_solver

NOTEBOOK = "02_fully_connected/02_fully_connected.ipynb"


def test_reference_solver_passes():
    check_solver(load_definitions(paths.SOURCE_DIR / NOTEBOOK).Solver)


def test_released_stub_fails():
    with pytest.raises(GradingFailure, match="raised NotImplementedError"):
        check_solver(load_definitions(paths.RELEASE_DIR / NOTEBOOK).Solver)


def test_the_mutants_base_is_itself_correct():
    check_solver(WorkingSolver)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.implementation.__name__)
def test_each_mutant_fails_with_its_name(mutant):
    with pytest.raises(GradingFailure) as failure:
        check_solver(mutant.implementation)
    assert f"known mistake: {mutant.name}" in str(failure.value)
