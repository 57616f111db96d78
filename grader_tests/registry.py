"""Every assignment's graded questions, declared once: where to find an exercise and what grades it.

An entry names the assignment's notebooks (source/NN/NN.ipynb holds the reference solution and
the hidden tests, release/NN/NN.ipynb the student's stubs and visible tests), and for each graded
test cell (`grade_id`) the hidden check that grades it, the notebook names the hidden test passes
that check, and the function it grades. The entry also names the catalogue of student mistakes
(`grader_tests/mutants/<module>.py`: `MUTANTS`, and `WORKING`, the correct definitions each
mutant breaks in one place) and the kit's own tests of the assignment.

tests/test_exercise_contracts.py turns every entry into the shared tests: each hidden test cell
calls exactly what its entry declares, the reference solution passes every check, the released
stub fails it, a stub that a graded function uses is named as the thing to fix first, every
catalogued mistake fails with its name, and the catalogue's working definitions pass. Adding an
exercise is one `Question` here plus its cells in the source notebook.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from assignments import paths


@dataclass(frozen=True)
class Question:
    """One graded test cell and the hidden check behind it.

    - grade_id: the test cell's nbgrader id, e.g. "test_affine_backward".
    - check: the hidden check, `grader_tests.<module>.<check>`.
    - args: the notebook names the hidden test passes the check, in order.
    - function: the contract name graded (default: the last of `args`); the others in `args` are
      the functions it is graded with (a backward's forward, a training loop's loss).
    - kwargs: keyword arguments of the call, e.g. name="conv_forward_fast".
    - names_mistakes: the check names the catalogued mistakes of `function` (False for a speed check
      and for 05's, which has no catalogue).
    - stub_failure: what grading the released stub says, where it is not that `function` raised
      NotImplementedError (05's stub network is a class the student writes from scratch).
    - shared_tests: tests/test_exercise_contracts.py grades the reference and the stub on it (False
      where the check needs more than the notebook's definitions, e.g. a trained model file; the
      assignment's own kit tests cover it then).
    """

    grade_id: str
    module: str
    check: str
    args: tuple[str, ...]
    function: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)
    names_mistakes: bool = True
    stub_failure: str = ""
    shared_tests: bool = True

    def __post_init__(self):
        if not self.function:
            object.__setattr__(self, "function", self.args[-1])

    @property
    def uses(self) -> tuple[str, ...]:
        """The other notebook names the check grades `function` with."""
        return tuple(a for a in self.args if a != self.function)

    @property
    def hidden_test(self) -> str:
        """The code of the test cell's hidden region."""
        call = ", ".join([*self.args, *(f"{k}={v!r}" for k, v in self.kwargs.items())])
        return f"from grader_tests.{self.module} import {self.check}\n{self.check}({call})"

    def grade(self, namespace: Any) -> Any:
        """Run the hidden check on the definitions of `namespace` (a notebook module or any object
        with the names of `args`), as the hidden test does. Raises GradingFailure when it fails."""
        check: Callable = getattr(importlib.import_module(f"grader_tests.{self.module}"), self.check)
        return check(*(getattr(namespace, name) for name in self.args), **self.kwargs)


@dataclass(frozen=True)
class Assignment:
    """One assignment: its notebooks, graded questions, mistake catalogues and kit tests.

    - visible_only: graded test cells without hidden tests (their visible test is the whole check).
    """

    name: str
    questions: tuple[Question, ...]
    mutants: tuple[str, ...]
    kit_tests: tuple[str, ...]
    visible_only: tuple[str, ...] = ()

    @property
    def source_notebook(self) -> Path:
        """The reference solution with the hidden tests (nbgrader's source)."""
        return paths.SOURCE_DIR / self.name / f"{self.name}.ipynb"

    @property
    def release_notebook(self) -> Path:
        """The student's notebook: stubs and visible tests."""
        return paths.RELEASE_DIR / self.name / f"{self.name}.ipynb"

    def mutant_modules(self) -> list[ModuleType]:
        """The mistake catalogues (`grader_tests.mutants.<name>`)."""
        return [importlib.import_module(f"grader_tests.mutants.{name}") for name in self.mutants]

    def questions_of(self, function: str) -> list[Question]:
        """The questions that grade `function`."""
        return [q for q in self.questions if q.function == function]


def _questions(module: str, *declared: tuple) -> tuple[Question, ...]:
    """Questions of one grader module, each declared as (grade_id, check, args[, options])."""
    return tuple(Question(grade_id, module, check, tuple(args.split()), **(options[0] if options else {}))
                 for grade_id, check, args, *options in declared)


ASSIGNMENTS = {a.name: a for a in [
    Assignment(
        "01_softmax",
        _questions("softmax",
                   ("test_softmax", "check_softmax", "softmax"),
                   ("test_softmax_cross_entropy_loss", "check_softmax_cross_entropy_loss", "softmax_cross_entropy"),
                   ("test_softmax_cross_entropy_gradient", "check_softmax_cross_entropy_gradient",
                    "softmax_cross_entropy"),
                   ("test_linear_classifier_loss", "check_linear_classifier_loss", "linear_classifier_loss"),
                   ("test_linear_classifier_gradients", "check_linear_classifier_gradients",
                    "linear_classifier_loss"),
                   ("test_train_linear_classifier", "check_train_linear_classifier",
                    "train_linear_classifier linear_classifier_loss", {"function": "train_linear_classifier"})),
        mutants=("softmax",),
        kit_tests=("tests/test_01_softmax.py", "tests/test_01_softmax_training.py")),
    Assignment(
        "02_fully_connected",
        _questions("fully_connected",
                   ("test_affine_forward", "check_affine_forward", "affine_forward"),
                   ("test_affine_backward", "check_affine_backward", "affine_forward affine_backward"),
                   ("test_relu_forward", "check_relu_forward", "relu_forward"),
                   ("test_relu_backward", "check_relu_backward", "relu_forward relu_backward"),
                   ("test_softmax_loss", "check_softmax_loss", "softmax_loss"),
                   ("test_TwoLayerNet", "check_two_layer_net", "TwoLayerNet"),
                   ("test_sgd", "check_sgd", "sgd"),
                   ("test_sgd_momentum", "check_sgd_momentum", "sgd_momentum"),
                   ("test_rmsprop", "check_rmsprop", "rmsprop"),
                   ("test_adam", "check_adam", "adam"))
        + _questions("fully_connected_solver", ("test_Solver", "check_solver", "Solver"))
        + _questions("fully_connected", ("test_FullyConnectedNet", "check_fully_connected_net", "FullyConnectedNet")),
        mutants=("fully_connected", "fully_connected_solver"),
        kit_tests=("tests/test_02_fully_connected.py", "tests/test_02_fully_connected_solver.py")),
    Assignment(
        "03_normalization_dropout",
        _questions("normalization_dropout",
                   ("test_batchnorm_forward", "check_batchnorm_forward", "batchnorm_forward"),
                   ("test_batchnorm_backward", "check_batchnorm_backward", "batchnorm_forward batchnorm_backward"),
                   ("test_batchnorm_backward_alt", "check_batchnorm_backward_alt",
                    "batchnorm_forward batchnorm_backward_alt"),
                   ("test_layernorm_forward", "check_layernorm_forward", "layernorm_forward"),
                   ("test_layernorm_backward", "check_layernorm_backward", "layernorm_forward layernorm_backward"),
                   ("test_dropout_forward", "check_dropout_forward", "dropout_forward"),
                   ("test_dropout_backward", "check_dropout_backward", "dropout_forward dropout_backward"),
                   ("test_FullyConnectedNet_normalization", "check_fully_connected_net_normalization",
                    "FullyConnectedNet"),
                   ("test_FullyConnectedNet_dropout", "check_fully_connected_net_dropout", "FullyConnectedNet")),
        mutants=("normalization_dropout",),
        kit_tests=("tests/test_03_normalization_dropout.py",)),
    Assignment(
        "04_cnn",
        _questions("cnn",
                   ("test_conv_forward_naive", "check_conv_forward", "conv_forward_naive",
                    {"kwargs": {"name": "conv_forward_naive"}}),
                   ("test_conv_backward_naive", "check_conv_backward", "conv_forward_naive conv_backward_naive",
                    {"kwargs": {"name": "conv_backward_naive"}}),
                   ("test_max_pool_forward_naive", "check_max_pool_forward", "max_pool_forward_naive"),
                   ("test_max_pool_backward_naive", "check_max_pool_backward",
                    "max_pool_forward_naive max_pool_backward_naive"),
                   ("test_avg_pool_forward", "check_avg_pool_forward", "avg_pool_forward"),
                   ("test_avg_pool_backward", "check_avg_pool_backward", "avg_pool_forward avg_pool_backward"),
                   ("test_conv_forward_fast", "check_conv_forward", "conv_forward_fast",
                    {"kwargs": {"name": "conv_forward_fast"}}),
                   ("test_conv_backward_fast", "check_conv_backward", "conv_forward_fast conv_backward_fast",
                    {"kwargs": {"name": "conv_backward_fast"}}),
                   ("test_conv_fast_speed", "check_conv_fast_speed", "conv_forward_fast conv_backward_fast",
                    {"function": "conv_forward_fast", "names_mistakes": False}),
                   ("test_spatial_batchnorm_forward", "check_spatial_batchnorm_forward", "spatial_batchnorm_forward"),
                   ("test_spatial_batchnorm_backward", "check_spatial_batchnorm_backward",
                    "spatial_batchnorm_forward spatial_batchnorm_backward"),
                   ("test_ThreeLayerConvNet", "check_three_layer_conv_net", "ThreeLayerConvNet")),
        mutants=("cnn",),
        kit_tests=("tests/test_04_cnn.py", "tests/test_04_cnn_speed.py")),
    Assignment(
        "05_cifar10",
        _questions("cifar10_network", ("test_CifarNet", "check_cifar_net", "build_model",
                                             {"names_mistakes": False,
                                              "stub_failure": "raised NameError: name 'CifarNet' is not defined"}))
        + _questions("cifar10", ("test_heldout_accuracy", "cifar10_points", "MODEL_FILE build_model",
                                 {"names_mistakes": False, "shared_tests": False})),
        mutants=(),
        kit_tests=("tests/test_05_cifar10.py", "tests/test_05_cifar10_network.py"),
        visible_only=("test_saved_model",)),
]}
"""The assignments by name, in course order."""


def describe(assignment: Assignment) -> str:
    """Where each part of an assignment's exercises lives: its notebooks and kit tests, then one
    line per graded question: the test cell, the function, the hidden check and its mistakes.

    (`python -m grader_tests.registry [assignment ...]` prints it.)
    """
    def relative(path: Path) -> str:
        return str(path.relative_to(paths.REPO_ROOT))

    lines = [f"{assignment.name}",
             f"  stubs and visible tests: {relative(assignment.release_notebook)}",
             f"  solutions and hidden tests: {relative(assignment.source_notebook)}",
             f"  kit tests: {', '.join(assignment.kit_tests)}, tests/test_exercise_contracts.py"]
    for q in assignment.questions:
        graded = q.function + (f" (with {', '.join(q.uses)})" if q.uses else "")
        where = [f"grader_tests/mutants/{module.__name__.rsplit('.', 1)[-1]}.py"
                 for module in assignment.mutant_modules() for m in module.MUTANTS if m.function == q.function]
        mistakes = f"{len(where)} mistakes in {where[0]}" if where and q.names_mistakes else "no catalogued mistakes"
        lines.append(f"  {q.grade_id}: {graded}; grader_tests/{q.module}.py {q.check}; {mistakes}")
    lines += [f"  {grade_id}: its visible test only" for grade_id in assignment.visible_only]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:] or ASSIGNMENTS:
        print(describe(ASSIGNMENTS[name]))
