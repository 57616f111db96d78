"""Hidden checks of assignment 01 (softmax classifier).

Expected values come from SciPy (an independent oracle), on inputs the students never see.
"""
from __future__ import annotations

import contextlib
import copy
import io
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from scipy.special import log_softmax
from scipy.special import softmax as scipy_softmax

from assignments.gradient_check import numerical_gradient
from grader_tests.checking import (Case, ContractError, GradingFailure, Mutant, check_case, close, run,
                                   tolerances)
from grader_tests.gradients import NUMERICAL_ATOL, NUMERICAL_RTOL, adapt_mutants
from grader_tests.mutants.softmax import MUTANTS


def softmax_cases() -> list[Case]:
    """Inputs that expose the usual softmax mistakes, seeded so every grader sees the same."""
    rng = np.random.default_rng(1)
    inputs = [
        ("random scores, 4 examples x 7 classes", 3 * rng.standard_normal((4, 7))),
        ("a single example (N = 1) with 10 classes", rng.standard_normal((1, 10))),
        ("a square 5 x 5 score matrix", 2 * rng.standard_normal((5, 5))),
        ("9 examples x 3 classes (more rows than columns)", rng.standard_normal((9, 3))),
        ("huge scores (up to 1e4 in magnitude)",
         np.array([[1e4, 0.0, -1e4], [1000.0, 1000.0, 999.0], [-1e4, -1e4 + 1, -1e4 + 2]])),
        ("whole-number scores (float64 holding integers, with ties)",
         rng.integers(-5, 6, size=(3, 4)).astype(np.float64)),
        ("float32 scores", rng.standard_normal((6, 5)).astype(np.float32) * 4),
    ]
    return [Case(description, {"z": z}, scipy_softmax(z.astype(np.float64), axis=1))
            for description, z in inputs]


def check_softmax(softmax: Callable) -> None:
    """Grade a student's `softmax(z) -> p` on every case; raises GradingFailure on the first miss."""
    for case in softmax_cases():
        check_case("softmax", softmax, case, MUTANTS)


# Shared by the loss and gradient checks ------------------------------------------------------------



def _part(function: Callable, index, parts: tuple[str, ...]) -> Callable:
    """`function` reduced to element(s) `index` (an int or a tuple of ints) of its returned tuple."""
    def part(*args):
        value = function(*args)
        if not (isinstance(value, (tuple, list)) and len(value) == len(parts)):
            what = (f"a {type(value).__name__} of length {len(value)}"
                    if isinstance(value, (tuple, list)) else f"a {type(value).__name__}")
            raise ContractError(f"it must return a tuple ({', '.join(parts)}), but it returned {what}")
        return tuple(value[i] for i in index) if isinstance(index, tuple) else value[index]
    part.__name__ = getattr(function, "__name__", "function")
    return part


def _parts_of_mutants(name: str, index, parts: tuple[str, ...]) -> list[Mutant]:
    return adapt_mutants(MUTANTS, name, lambda implementation: _part(implementation, index, parts))


def _own_numerical_gradients(function: Callable, inputs: dict[str, Any], wrt: tuple[str, ...]
                             ) -> tuple[np.ndarray, ...] | None:
    """Numerical gradients of the student's own loss (first return value) w.r.t. `wrt`, in float64.

    Floating-point inputs are upcast to float64 (and the inputs in `wrt` too, if integer) so that
    centred differences are accurate. None when the loss cannot be differentiated numerically.
    """
    values = {key: np.array(value, dtype=np.float64)
              if key in wrt or (isinstance(value, np.ndarray) and value.dtype.kind == "f")
              else copy.deepcopy(value) for key, value in inputs.items()}

    def loss(_):  # values[key] is perturbed in place; everything else is handed over as a copy
        value = function(*copy.deepcopy(values).values())
        return value[0] if isinstance(value, (tuple, list)) else value

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return tuple(numerical_gradient(loss, values[key]) for key in wrt)
    except Exception:  # the student's loss may raise anything, or return a non-scalar
        return None


def _gradients_accepted(function: Callable, case: Case, index, parts: tuple[str, ...],
                        wrt: tuple[str, ...]) -> tuple[bool, bool]:
    """(accepted, own_available) for the gradient(s) at `index` of `function`'s result on `case`.

    Each gradient is accepted when it matches the analytic oracle (case.expected), or the numerical
    gradient of the function's own loss on the same input: a gradient consistent with its loss is
    right, and only the loss check takes marks off for a wrong loss. A loss that does not depend on
    an input at all (numerical gradient 0, e.g. an unfinished `loss = 0.0`) is no evidence.
    """
    single = not isinstance(index, tuple)
    expected = (case.expected,) if single else case.expected
    rtol, atol = tolerances(*case.inputs.values())
    outcome = run(_part(function, index, parts), case.inputs)
    if outcome.error is not None or outcome.modified:
        return False, False
    got = (outcome.value,) if single else outcome.value
    if all(close(g, e, rtol, atol) for g, e in zip(got, expected)):
        return True, False
    own = _own_numerical_gradients(function, case.inputs, wrt)
    if own is None:
        return False, False
    num_rtol, num_atol = max(rtol, NUMERICAL_RTOL), max(atol, NUMERICAL_ATOL)
    return all(close(g, e, rtol, atol)
               or (np.max(np.abs(n), initial=0.0) > 1e-8 and close(g, n, num_rtol, num_atol))
               for g, e, n in zip(got, expected, own)), True


def _check_loss_value(name: str, function: Callable, cases: list[Case], parts: tuple[str, ...]) -> None:
    """Grade the loss, the first of `parts` that `function` returns, on each of `cases`."""
    for case in cases:
        loss_case = Case(f"the loss value for {case.description}", case.inputs, case.expected[0])
        check_case(name, _part(function, 0, parts), loss_case, _parts_of_mutants(name, 0, parts))


def _check_gradients(name: str, function: Callable, cases: list[Case], index, parts: tuple[str, ...],
                     wrt: tuple[str, ...]) -> None:
    """Grade the gradient(s) at `index` (an int or a tuple of ints) of `parts` on each of `cases`."""
    if isinstance(index, tuple):
        what = f"({', '.join(parts[i] for i in index)})"
    else:
        what = parts[index]
    for case in cases:
        expected = (tuple(case.expected[i] for i in index) if isinstance(index, tuple)
                    else case.expected[index])
        _check_gradient_case(name, function, Case(f"{what} for {case.description}", case.inputs, expected),
                             index, parts, wrt)


def _check_gradient_case(name: str, function: Callable, case: Case, index, parts: tuple[str, ...],
                         wrt: tuple[str, ...]) -> None:
    """Grade the gradient(s) at `index` of `function`'s result on `case` (see _gradients_accepted).

    The catalogued mistakes named on failure are those whose gradients this check rejects too
    (a mutant with a wrong loss but consistent gradients is no gradient mistake).
    """
    accepted, own_available = _gradients_accepted(function, case, index, parts, wrt)
    if accepted:
        return
    mutants = [Mutant(m.function, m.name, m.hint, _part(m.implementation, index, parts))
               for m in MUTANTS
               if m.function == name and not _gradients_accepted(m.implementation, case, index, parts, wrt)[0]]
    try:
        check_case(name, _part(function, index, parts), case, mutants)
    except GradingFailure as failure:
        if not own_available:
            raise
        raise failure.with_line("They are not the numerical gradients of your own loss on this input either, "
                                "so they do not belong to the loss your function returns.") from None


# softmax_cross_entropy(scores, y) -> (loss, dscores) ----------------------------------------------

CE_PARTS = ("loss", "dscores")


def softmax_cross_entropy_cases() -> list[Case]:
    """Scores and labels that expose the usual mistakes; `expected` is (loss, dscores) from SciPy."""
    rng = np.random.default_rng(2)
    inputs = [
        ("random scores, 4 examples x 7 classes", 3 * rng.standard_normal((4, 7)), rng.integers(7, size=4)),
        ("a single example (N = 1) with 10 classes", rng.standard_normal((1, 10)), np.array([3])),
        ("9 examples x 3 classes (more rows than columns)", rng.standard_normal((9, 3)),
         rng.integers(3, size=9)),
        ("huge scores (up to 1e4 in magnitude)",
         np.array([[1e4, 0.0, -1e4], [1000.0, 1000.0, 999.0], [-1e4, -1e4 + 1, -1e4 + 2]]),
         np.array([1, 2, 0])),
        ("whole-number scores (float64 holding integers, with ties)",
         rng.integers(-5, 6, size=(5, 4)).astype(np.float64), np.array([0, 3, 3, 1, 2])),
        ("float32 scores", (4 * rng.standard_normal((6, 5))).astype(np.float32), rng.integers(5, size=6)),
    ]
    cases = []
    for description, scores, y in inputs:
        n = scores.shape[0]
        log_p = log_softmax(scores.astype(np.float64), axis=1)
        loss = -np.mean(log_p[np.arange(n), y])
        dscores = np.exp(log_p) - np.eye(scores.shape[1])[y]
        cases.append(Case(description, {"scores": scores, "y": y}, (loss, dscores / n)))
    return cases


def check_softmax_cross_entropy_loss(softmax_cross_entropy: Callable) -> None:
    """Grade the loss value of `softmax_cross_entropy(scores, y) -> (loss, dscores)`."""
    _check_loss_value("softmax_cross_entropy", softmax_cross_entropy, softmax_cross_entropy_cases(), CE_PARTS)


def check_softmax_cross_entropy_gradient(softmax_cross_entropy: Callable) -> None:
    """Grade dscores: the analytic gradient, or the numerical gradient of the student's own loss."""
    _check_gradients("softmax_cross_entropy", softmax_cross_entropy, softmax_cross_entropy_cases(), 1,
                     CE_PARTS, ("scores",))


def check_softmax_cross_entropy(softmax_cross_entropy: Callable) -> None:
    """Grade both the loss value and dscores of `softmax_cross_entropy(scores, y)`."""
    check_softmax_cross_entropy_loss(softmax_cross_entropy)
    check_softmax_cross_entropy_gradient(softmax_cross_entropy)


# linear_classifier_loss(W, b, X, y, reg) -> (loss, dW, db) -----------------------------------------

LINEAR_PARTS = ("loss", "dW", "db")


def linear_classifier_cases() -> list[Case]:
    """Parameters, data and reg exposing the usual mistakes; `expected` is (loss, dW, db).

    D != C and N != C everywhere, so that transposed or wrongly summed gradients have wrong shapes.
    """
    rng = np.random.default_rng(3)

    def params(d, c, dtype=np.float64):
        return (0.5 * rng.standard_normal((d, c))).astype(dtype), (0.5 * rng.standard_normal(c)).astype(dtype)

    inputs = [
        ("reg = 0, 6 examples, D = 4 features, C = 3 classes", *params(4, 3),
         rng.standard_normal((6, 4)), rng.integers(3, size=6), 0.0),
        ("reg = 0.3, 5 examples, D = 7, C = 4", *params(7, 4), rng.standard_normal((5, 7)),
         rng.integers(4, size=5), 0.3),
        ("a single example (N = 1), reg = 0.1, D = 5, C = 3", *params(5, 3), rng.standard_normal((1, 5)),
         np.array([2]), 0.1),
        ("whole-number X (float64 holding integers), reg = 0.2, 6 examples, D = 4, C = 3", *params(4, 3),
         rng.integers(-3, 4, size=(6, 4)).astype(np.float64), rng.integers(3, size=6), 0.2),
        ("float32 W, b and X, reg = 0.1, 8 examples, D = 6, C = 5", *params(6, 5, np.float32),
         rng.standard_normal((8, 6)).astype(np.float32), rng.integers(5, size=8), 0.1),
    ]
    cases = []
    for description, W, b, X, y, reg in inputs:
        n = X.shape[0]
        W64, b64, X64 = (a.astype(np.float64) for a in (W, b, X))
        log_p = log_softmax(X64 @ W64 + b64, axis=1)
        loss = -np.mean(log_p[np.arange(n), y]) + 0.5 * reg * np.sum(W64 ** 2)
        dscores = (np.exp(log_p) - np.eye(W.shape[1])[y]) / n
        cases.append(Case(description, {"W": W, "b": b, "X": X, "y": y, "reg": reg},
                          (loss, X64.T @ dscores + reg * W64, dscores.sum(axis=0))))
    return cases


def check_linear_classifier_loss(linear_classifier_loss: Callable) -> None:
    """Grade the loss value of `linear_classifier_loss(W, b, X, y, reg) -> (loss, dW, db)`."""
    _check_loss_value("linear_classifier_loss", linear_classifier_loss, linear_classifier_cases(),
                      LINEAR_PARTS)


def check_linear_classifier_gradients(linear_classifier_loss: Callable) -> None:
    """Grade (dW, db): the analytic gradients, or numerical gradients of the student's own loss."""
    _check_gradients("linear_classifier_loss", linear_classifier_loss, linear_classifier_cases(), (1, 2),
                     LINEAR_PARTS, ("W", "b"))


# train_linear_classifier(W, b, data, ...) -> dict ---------------------------------------------------
#
# Behaviour through named observations (as in grader_tests/fully_connected_solver.py). Every
# scenario's trajectory is independent of the shuffling order (full batch, or minibatches of
# identical examples), so the expected values come from a plain oracle loop here, run with the
# *student's* linear_classifier_loss:
# a wrong loss is graded by its own checks, not a second time here.

TRAIN_RTOL, TRAIN_ATOL = 1e-6, 1e-8
"""Agreement asked of trajectories (the student's loss on a permuted batch rounds differently)."""


@dataclass
class TrainingScenario:
    """Initial parameters, data and keyword arguments of one call of train_linear_classifier."""

    description: str
    W: np.ndarray
    b: np.ndarray
    data: dict[str, np.ndarray]
    options: dict[str, Any]


def _oracle_linear_loss(W, b, X, y, reg):
    """linear_classifier_loss from SciPy's log_softmax (designs the scenarios' validation labels)."""
    n = X.shape[0]
    log_p = log_softmax(X @ W + b, axis=1)
    dscores = (np.exp(log_p) - np.eye(W.shape[1])[y]) / n
    loss = -np.mean(log_p[np.arange(n), y]) + 0.5 * reg * np.sum(W ** 2)
    return loss, X.T @ dscores + reg * W, dscores.sum(axis=0)


def _sgd_epochs(loss_function, W, b, X, y, learning_rate, momentum, lr_decay, reg, batch_size, **_):
    """For each epoch: (the losses of its minibatches, W and b after it). Minibatches in order."""
    v_W, v_b = np.zeros(W.shape), np.zeros(b.shape)
    while True:
        losses = []
        for start in range(0, X.shape[0], batch_size):
            loss, dW, db = loss_function(W, b, X[start:start + batch_size], y[start:start + batch_size], reg)
            losses.append(float(loss))
            v_W = momentum * v_W - learning_rate * np.asarray(dW)
            v_b = momentum * v_b - learning_rate * np.asarray(db)
            W, b = W + v_W, b + v_b
        learning_rate *= lr_decay
        yield losses, W, b


def _accuracy(W, b, X, y) -> float:
    return float(np.mean(np.argmax(X @ W + b, axis=1) == y))


def expected_training(loss_function: Callable, scenario: TrainingScenario) -> dict[str, Any]:
    """What train_linear_classifier returns on `scenario` when it calls `loss_function`."""
    data, options = scenario.data, scenario.options
    epochs = _sgd_epochs(loss_function, scenario.W.copy(), scenario.b.copy(), data["X_train"],
                         data["y_train"], **options)
    result = {"W": scenario.W.copy(), "b": scenario.b.copy(), "loss_history": [], "train_acc_history": [],
              "val_acc_history": [], "epochs_run": 0}
    best_val_acc, bad_epochs = -1.0, 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for _ in range(options["num_epochs"]):
            losses, W, b = next(epochs)
            result["loss_history"] += losses
            result["epochs_run"] += 1
            result["train_acc_history"].append(_accuracy(W, b, data["X_train"], data["y_train"]))
            result["val_acc_history"].append(_accuracy(W, b, data["X_val"], data["y_val"]))
            if result["val_acc_history"][-1] > best_val_acc:
                best_val_acc, bad_epochs = result["val_acc_history"][-1], 0
                result["W"], result["b"] = W, b
            else:
                bad_epochs += 1
                if bad_epochs >= options["patience"]:
                    break
    return result


def _validation_set(W, b, X, y, options, best_epoch: int, rng, size: int = 200):
    """Validation data whose accuracy is 1 after epoch `best_epoch` (1-based) and below 1 after
    every other epoch of the correct trajectory: labels are that epoch's predictions, on points
    that no epoch classifies by a margin below 1e-3 (no near-ties for rounding to flip)."""
    epochs = _sgd_epochs(_oracle_linear_loss, W, b, X, y, **options)
    params = [next(epochs)[1:] for _ in range(options["num_epochs"])]
    X_val = rng.standard_normal((size, X.shape[1]))
    margins = []
    for W_t, b_t in params:
        top2 = np.sort(X_val @ W_t + b_t, axis=1)[:, -2:]
        margins.append(top2[:, 1] - top2[:, 0])
    X_val = X_val[np.min(margins, axis=0) > 1e-3]
    W_best, b_best = params[best_epoch - 1]
    y_val = np.argmax(X_val @ W_best + b_best, axis=1)
    accuracies = [_accuracy(W_t, b_t, X_val, y_val) for W_t, b_t in params]
    if [epoch for epoch, a in enumerate(accuracies, 1) if a == 1.0] != [best_epoch]:
        raise RuntimeError(f"validation design failed: accuracies {accuracies}")  # caught by the kit's tests
    return X_val, y_val


def training_scenarios() -> list[TrainingScenario]:
    """The deterministic scenarios the training loop is graded on (fresh arrays on every call)."""
    rng = np.random.default_rng(4)
    n, d, c = 12, 5, 3
    X, y = rng.standard_normal((n, d)), rng.integers(c, size=n)
    W0, b0 = 0.1 * rng.standard_normal((d, c)), 0.1 * rng.standard_normal(c)
    # identical training examples: every minibatch has the same mean loss, so shuffling cannot matter
    n_same = 10
    X_same, y_same = np.tile(rng.standard_normal(d), (n_same, 1)), np.full(n_same, 2)
    common = {"learning_rate": 1.0, "momentum": 0.9, "lr_decay": 0.8, "reg": 0.01, "batch_size": 50,
              "num_epochs": 6, "patience": 10, "seed": 0, "verbose": False}
    plans = [
        (f"full batch ({n} training examples, batch_size 50)", X, y, common, 3),
        (f"momentum 0 (plain SGD), full batch ({n} training examples, batch_size 50)", X, y,
         {**common, "momentum": 0.0}, 4),
        (f"early stopping with patience 1, full batch ({n} training examples, batch_size 50)", X, y,
         {**common, "num_epochs": 8, "patience": 1}, 2),
        (f"minibatches: {n_same} identical training examples, batch_size 4 (minibatches of 4, 4 and 2 "
         "in every epoch)", X_same, y_same, {**common, "batch_size": 4, "num_epochs": 3}, 2),
    ]
    scenarios = []
    for description, X_train, y_train, options, best_epoch in plans:
        X_val, y_val = _validation_set(W0, b0, X_train, y_train, options, best_epoch, rng)
        data = {"X_train": X_train.copy(), "y_train": y_train.copy(), "X_val": X_val, "y_val": y_val}
        description += (f", momentum {options['momentum']}, learning_rate {options['learning_rate']}, "
                        f"lr_decay {options['lr_decay']}, reg {options['reg']}, num_epochs "
                        f"{options['num_epochs']}, patience {options['patience']}; {len(y_val)} validation "
                        f"examples whose accuracy peaks after epoch {best_epoch}")
        if options["patience"] == 1:
            description += f", so training stops after epoch {best_epoch + 1}"
        scenarios.append(TrainingScenario(description, W0.copy(), b0.copy(), data, dict(options)))
    return scenarios


def _get(result: Any, key: str) -> Any:
    if not isinstance(result, dict):
        return f"(no dict returned: got a {type(result).__name__})"
    return result.get(key, f"(no key {key!r} in the returned dict)")


def _observations(result: dict[str, Any] | Any, W_after: np.ndarray, b_after: np.ndarray) -> dict[str, Any]:
    losses = _get(result, "loss_history")
    return {
        "number of losses in loss_history (one per minibatch)":
            len(losses) if hasattr(losses, "__len__") else losses,
        "loss_history": losses,
        "train_acc_history (one accuracy per epoch)": _get(result, "train_acc_history"),
        "val_acc_history (one accuracy per epoch)": _get(result, "val_acc_history"),
        "epochs_run": _get(result, "epochs_run"),
        "returned W (the parameters after the epoch with the best validation accuracy)": _get(result, "W"),
        "returned b (the parameters after the epoch with the best validation accuracy)": _get(result, "b"),
        "the W passed in, after the call (must be unchanged)": W_after,
        "the b passed in, after the call (must be unchanged)": b_after,
    }


def observe_training(train: Callable, scenario: TrainingScenario) -> dict[str, Any] | BaseException:
    """Call `train` on a copy of `scenario` and report what it did, by name (or the exception it raised).

    Output to stdout and stderr is swallowed: a progress bar left on must not cost the test cell.
    """
    W, b = scenario.W.copy(), scenario.b.copy()
    data = copy.deepcopy(scenario.data)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"), \
                contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            result = train(W, b, data, **scenario.options)
    except Exception as error:  # the student's code may raise anything
        return error
    return _observations(result, W, b)


def _agree(got: Any, expected: Any) -> bool:
    if isinstance(expected, (int, np.integer)):
        return isinstance(got, (int, np.integer)) and not isinstance(got, bool) and got == expected
    return close(got, expected, TRAIN_RTOL, TRAIN_ATOL)


def _show_observation(value: Any) -> str:
    if isinstance(value, (list, tuple, np.ndarray)) and not isinstance(value, str):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return repr(value)
        return np.array2string(array, threshold=14, edgeitems=3, precision=6, max_line_width=100
                               ).replace("\n", "\n             ")
    return repr(value)


def _call_text(options: dict[str, Any]) -> str:
    return "train_linear_classifier(W, b, data, " + ", ".join(f"{k}={v!r}" for k, v in options.items()) + ")"


def check_train_linear_classifier(train_linear_classifier: Callable, linear_classifier_loss: Callable) -> None:
    """Grade the training loop; `linear_classifier_loss` is the student's own (what their loop calls).

    Raises GradingFailure naming the scenario, the observations that differ, expected and returned
    values, and the catalogued mistakes that behave the same way.
    """
    for scenario in training_scenarios():
        note = None
        try:
            expected = _observations(expected_training(linear_classifier_loss, scenario), scenario.W, scenario.b)
        except Exception as error:  # the student's loss raised, or returned something unusable
            note = (f"  (Your linear_classifier_loss raised {type(error).__name__}: {error} on this scenario, "
                    "so the expected values use a correct loss; fix linear_classifier_loss first.)")
            expected = _observations(expected_training(_oracle_linear_loss, scenario), scenario.W, scenario.b)
        got = observe_training(train_linear_classifier, scenario)
        if isinstance(got, dict) and all(_agree(got[key], expected[key]) for key in expected):
            continue
        lines = [f"train_linear_classifier failed a hidden check on {scenario.description}.",
                 f"  called as {_call_text(scenario.options)}"]
        if note:
            lines.append(note)
        if isinstance(got, BaseException):
            lines.append(f"  train_linear_classifier raised {type(got).__name__}: {got}")
            differing = None
        else:
            differing = [key for key in expected if not _agree(got[key], expected[key])]
            for key in differing:
                lines += [f"  {key}:", f"    expected {_show_observation(expected[key])}",
                          f"    returned {_show_observation(got[key])}"]
        raise GradingFailure("\n".join(lines), _matching_training_mutants(got, differing, scenario))


def _matching_training_mutants(got: dict[str, Any] | BaseException, differing: list[str] | None,
                               scenario: TrainingScenario) -> list[Mutant]:
    found = []
    for mutant in (m for m in MUTANTS if m.function == "train_linear_classifier"):
        theirs = observe_training(mutant.implementation, scenario)
        if isinstance(got, BaseException):
            same = isinstance(theirs, BaseException) and type(theirs) is type(got)
        else:
            same = isinstance(theirs, dict) and all(_agree(got[k], theirs[k]) for k in differing)
        if same:
            found.append(mutant)
    return found
