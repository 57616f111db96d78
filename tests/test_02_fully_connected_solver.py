"""Exercise 02 Solver: the hidden check passes the reference and fails the stub and every mutant."""
import copy
import socket
import threading

import pytest

from assignments import paths
from assignments.jail import remote
from assignments.notebooks import load_definitions
from grader_tests.checking import GradingFailure
from grader_tests.mutants.fully_connected_solver import MUTANTS, WorkingSolver
from grader_tests.fully_connected_solver import check_solver

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


class DeepCopyingSolver(WorkingSolver):
    """Keeps its best parameters with copy.deepcopy, as many students do."""

    def _keep_best(self, val_acc):
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = copy.deepcopy(self.model.params)


def test_a_solver_deep_copying_the_grader_models_params_passes_across_the_wall():
    """Graded as while grading: the Solver runs on the student's side of a channel and the scripted
    model stays in the grader, so self.model.params is a live view (a deep copy once reached a socket)."""
    ours, theirs = socket.socketpair()
    server = remote.Endpoint(theirs, namespace={"Solver": DeepCopyingSolver}, trusting=True)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    endpoint = remote.Endpoint(ours, trusting=False)
    try:
        check_solver(endpoint.lookup("Solver"))
    finally:
        endpoint.close()
        thread.join(5)
