"""Exercise 02 Solver, beyond the shared tests (tests/test_exercise_contracts.py): a Solver that deep-copies
the model's parameters passes across the grading wall."""
import copy
import socket
import threading

from assignments.jail import remote
from grader_tests.fully_connected_solver import check_solver
from grader_tests.mutants.fully_connected_solver import WorkingSolver

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
