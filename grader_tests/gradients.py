r"""Hidden checks of layers: a forward's output, and a backward run on the student's own cache.

A layer is a pair `forward(*inputs) -> (out, cache)` and `backward(dout, cache) -> gradients`.
The cache is private to the student's pair, so a backward pass is only ever graded through the
student's own forward: `check_backward` runs `backward(dout, forward(*inputs)[1])`.

Its expected gradients come from an independent oracle (a closed form or a numerical gradient of
the correct layer). When the student's gradients miss it, they are also compared with numerical
gradients of the student's *own* forward: a backward that is the exact derivative of the forward
it came with is right (the forward's own check grades the forward), so a consistent pair is
recognised as such and only the forward loses its marks.

Catalogued backward mistakes (`Mutant`s) are backward functions that read the cache of one known
forward (`mutant_forward`); they are paired with it here, so the comparison that names a mistake
sees the same kind of value the student's pair returned.
"""
from __future__ import annotations

import copy
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from assignments.gradient_check import numerical_gradient_array
from grader_tests.checking import (Case, ContractError, GradingFailure, Mutant, check_case, close, run,
                                   tolerances)

NUMERICAL_RTOL, NUMERICAL_ATOL = 1e-5, 1e-6
"""How close gradients must be to numerical ones (centred differences in float64 have errors
near 1e-9 here; these bounds also absorb a float32 backward)."""


def split_pair(value: Any, name: str, parts: tuple[str, str] = ("out", "cache")) -> tuple[Any, Any]:
    """`value` as the two-element tuple the contract promises, or ContractError saying why not."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    what = (f"a {type(value).__name__} of length {len(value)}" if isinstance(value, (tuple, list))
            else f"a {type(value).__name__}")
    raise ContractError(f"{name} must return a pair ({parts[0]}, {parts[1]}), but it returned {what}")


def forward_output(forward: Callable, name: str) -> Callable:
    """`forward` reduced to its output: the cache is the student's own business."""
    def output(*inputs):
        return split_pair(forward(*inputs), name)[0]
    output.__name__ = getattr(forward, "__name__", name)
    return output


def backward_through(forward: Callable, backward: Callable, forward_name: str) -> Callable:
    """`(*forward_inputs, dout) -> backward(dout, cache)` with the cache of `forward`.

    The forward runs on its own copies of the inputs, so that check_case's in-place check sees
    only what the backward does (to dout); a forward that changes its inputs is the forward's
    check's business.
    """
    def through(*args):
        *forward_inputs, dout = args
        _, cache = split_pair(forward(*copy.deepcopy(forward_inputs)), forward_name)
        return backward(dout, cache)
    through.__name__ = getattr(backward, "__name__", "backward")
    return through


def adapt_mutants(mutants: Sequence[Mutant], function: str, adapter: Callable[[Callable], Callable]
                  ) -> list[Mutant]:
    """The mutants of `function`, each implementation passed through `adapter` (as the student's is)."""
    return [Mutant(m.function, m.name, m.hint, adapter(m.implementation))
            for m in mutants if m.function == function]


def check_case_parts(name: str, function: Callable, case: Case, mutants: Sequence[Mutant],
                     parts: Sequence[str] | None = None) -> Any:
    """check_case, whose failure message also names the parts of a tuple result that differ.

    parts: a name for each element of case.expected, e.g. ("dx", "dw", "db").
    """
    try:
        return check_case(name, function, case, list(mutants))
    except GradingFailure as failure:
        differing = _differing_parts(function, case, parts)
        if not differing:
            raise
        raise failure.with_line(f"The parts that differ: {', '.join(differing)}.") from None


def _differing_parts(function: Callable, case: Case, parts: Sequence[str] | None) -> list[str]:
    if parts is None or not isinstance(case.expected, tuple) or len(parts) != len(case.expected):
        return []
    outcome = run(function, case.inputs)
    got = outcome.value
    if outcome.error is not None or not isinstance(got, (tuple, list)) or len(got) != len(parts):
        return []
    rtol, atol = (case.rtol, case.atol) if case.rtol is not None else tolerances(*case.inputs.values())
    return [part for part, g, e in zip(parts, got, case.expected) if not close(g, e, rtol, atol)]


def check_forward(name: str, forward: Callable, case: Case, mutants: Sequence[Mutant]) -> Any:
    """Grade the output of `forward(*case.inputs) -> (out, cache)` against `case.expected`."""
    return check_case(name, forward_output(forward, name), case,
                      adapt_mutants(mutants, name, lambda f: forward_output(f, name)))


def check_backward(name: str, forward: Callable, backward: Callable, case: Case, *,
                   forward_name: str, wrt: Sequence[str], mutants: Sequence[Mutant],
                   mutant_forward: Callable, numerical: bool = True,
                   parts: Sequence[str] | None = None) -> None:
    """Grade `backward(dout, cache)` on the cache of the student's own `forward`.

    Inputs:
    - name, forward_name: contract names of the backward and forward functions (for messages).
    - forward, backward: the student's pair.
    - case: inputs are the forward's arguments by name, in order, then "dout"; expected is the
      gradient with respect to each input named in `wrt`, in that order, as a tuple (or a single
      array when the backward returns one gradient, as relu_backward does).
    - wrt: names of the differentiable inputs, in the order the backward returns their gradients.
    - mutants: the catalogue; those of `name` read the cache of `mutant_forward`.
    - numerical: also accept the numerical gradient of the student's own forward (turn off where
      the forward has kinks at the case's inputs, such as ReLU at exact zeros).
    - parts: names of the returned gradients, for the failure message (default: d<input>).

    Raises GradingFailure when the forward fails to run or the gradients match neither oracle.
    """
    forward_inputs = {k: v for k, v in case.inputs.items() if k != "dout"}
    require_forward_runs(name, forward, forward_name, case.description, forward_inputs)
    student = backward_through(forward, backward, forward_name)
    adapted = adapt_mutants(mutants, name, lambda b: backward_through(mutant_forward, b, forward_name))
    if parts is None and isinstance(case.expected, tuple):
        parts = [f"d{key}" for key in wrt]
    try:
        check_case_parts(name, student, case, adapted, parts)
        return
    except GradingFailure as failure:
        if not numerical:
            raise
        outcome = run(student, case.inputs)
        if outcome.error is None and not outcome.modified:
            own = own_numerical_gradients(forward, forward_name, forward_inputs, case.inputs["dout"], wrt)
            single = not isinstance(case.expected, tuple)
            if own is not None and close(outcome.value, own[0] if single else own,
                                         NUMERICAL_RTOL, NUMERICAL_ATOL):
                return  # the exact derivative of the student's own forward
            raise failure.with_line(f"These gradients do not match numerical gradients of your own "
                                    f"{forward_name} on this input either.") from None
        raise


def own_numerical_gradients(forward: Callable, forward_name: str, inputs: dict[str, Any],
                            dout: Any, wrt: Sequence[str]) -> tuple[np.ndarray, ...] | None:
    """Numerical gradients of sum(forward(**inputs)[0] * dout) w.r.t. each of `wrt`, in float64.

    Returns None when the forward cannot be differentiated numerically (it raises, returns the
    wrong shape, ...). Warnings are silenced, as in check_case.
    """
    values = copy.deepcopy(inputs)
    for key in wrt:
        values[key] = np.array(values[key], dtype=np.float64)
    output = forward_output(forward, forward_name)

    def f(_):
        # values[key] is perturbed in place; the forward gets fresh copies of everything (it may
        # change its inputs, or update a param dict such as batch norm's running averages).
        return output(*copy.deepcopy(values).values())

    dout = np.asarray(dout, dtype=np.float64)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            gradients = tuple(numerical_gradient_array(f, values[key], dout) for key in wrt)
    except Exception:  # the student's forward may raise anything
        return None
    return gradients


def require_forward_runs(name: str, forward: Callable, forward_name: str, description: str,
                         inputs: dict[str, Any]) -> None:
    """GradingFailure unless the student's forward returns (out, cache) on these inputs."""
    outcome = run(forward, inputs)
    problem = None
    if outcome.error is not None:
        problem = f"{forward_name} raised {type(outcome.error).__name__}: {outcome.error}"
    else:
        try:
            split_pair(outcome.value, forward_name)
        except ContractError as error:
            problem = str(error)
    if problem is not None:
        raise GradingFailure(
            f"{name} could not be checked on {description}: {problem}.\n"
            f"  {name} is graded with the cache your own {forward_name} returns; "
            f"fix {forward_name} first.")
