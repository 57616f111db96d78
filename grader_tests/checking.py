"""The machinery every hidden check shares: run a student's function safely, compare, explain.

A hidden check describes a *case* (named inputs and the expected result from an independent
oracle). `check_case` calls the student's function on copies of the inputs, then fails with a
`GradingFailure` whose message says what was checked, on which input, what was expected, what came
back, and which catalogued mistake (a `Mutant`) behaves the same way on that input; the failure's
`mistakes` name those mistakes for the grader too.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np


class ContractError(Exception):
    """A student's function returned a value of the wrong form (raised by the grader's probes).

    check_case reports it as "<function> raised ContractError: <what the contract wants>".
    """


@dataclass(frozen=True)
class Mutant:
    """A realistic mistake in one student function.

    - function: the contract name it stands in for (e.g. "softmax").
    - name: a short name of the mistake, as the feedback shows it.
    - hint: one sentence on how to fix it.
    - implementation: a callable with the contract's signature that makes exactly this mistake;
      no part of the mistake's identity (equality, hash): a check may wrap it, as it wraps the
      student's function, and still names the same mistake.
    """

    function: str
    name: str
    hint: str
    implementation: Callable = field(compare=False)


def known_mistake_line(mutant: Mutant) -> str:
    """The line of a failure message that names `mutant`'s mistake and how to fix it.

    Returns e.g. "  This looks like a known mistake: no max subtraction. Subtract each row's max ...".
    """
    return f"  This looks like a known mistake: {mutant.name}. {mutant.hint}"


class GradingFailure(AssertionError):
    """A hidden check failed; the message is written for the student.

    Inputs:
    - explanation: what was checked, on which input, what was expected and what came back.
    - mistakes: the catalogued mistakes that behave the same way on that input.
    The message is the explanation, then one `known_mistake_line` per mistake; `mistakes` keeps
    them as a tuple of `Mutant`s (empty when none matches), for the grader to record.
    """

    def __init__(self, explanation: str, mistakes: Sequence[Mutant] = ()):
        self.explanation = explanation
        self.mistakes: tuple[Mutant, ...] = tuple(mistakes)
        super().__init__("\n".join([explanation, *map(known_mistake_line, self.mistakes)]))

    def with_line(self, line: str) -> GradingFailure:
        """This failure with one more line of explanation, `line` (before the named mistakes)."""
        return GradingFailure(f"{self.explanation}\n  {line}", self.mistakes)


@dataclass
class Case:
    """One graded input: what it is, the arguments by name, and the expected return value."""

    description: str
    inputs: dict[str, Any]
    expected: Any
    rtol: float | None = None
    atol: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What a function did on a case: returned `value`, raised `error`, or modified an input."""

    value: Any = None
    error: BaseException | None = None
    modified: tuple[str, ...] = ()


def run(function: Callable, inputs: dict[str, Any]) -> Outcome:
    """Call `function(**inputs)` on deep copies, quietly, and report what happened.

    Floating-point warnings are silenced (they go to stderr, which is no grade signal here);
    any exception is caught and returned, so a check can name it instead of crashing.
    """
    args = copy.deepcopy(inputs)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value = function(*args.values())
    except Exception as error:  # the student's code may raise anything
        return Outcome(error=error)
    modified = tuple(name for name in inputs if not _same(args[name], inputs[name]))
    return Outcome(value=value, modified=modified)


def tolerances(*arrays: Any) -> tuple[float, float]:
    """(rtol, atol) suited to the least precise float dtype among `arrays`."""
    low_precision = any(np.asarray(a).dtype in (np.float16, np.float32) for a in arrays)
    return (1e-4, 1e-6) if low_precision else (1e-6, 1e-9)


def close(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    """True when got has expected's structure and every number agrees within tolerance."""
    if isinstance(expected, tuple):
        return (isinstance(got, (tuple, list)) and len(got) == len(expected)
                and all(close(g, e, rtol, atol) for g, e in zip(got, expected)))
    try:
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    expected_array = np.asarray(expected, dtype=np.float64)
    return (got_array.shape == expected_array.shape
            and bool(np.allclose(got_array, expected_array, rtol=rtol, atol=atol, equal_nan=True)))


def check_case(name: str, function: Callable, case: Case, mutants: list[Mutant]) -> Any:
    """Grade one call of the student's `function` (contract name `name`) on `case`.

    Returns the student's value when it matches the expected one; raises GradingFailure otherwise.
    """
    rtol, atol = (case.rtol, case.atol) if case.rtol is not None else tolerances(*case.inputs.values())
    outcome = run(function, case.inputs)
    if outcome.error is None and not outcome.modified and close(outcome.value, case.expected, rtol, atol):
        return outcome.value
    lines = [f"{name} failed a hidden check on {case.description}."]
    lines += [f"  input {arg} = {_show(value)}" for arg, value in case.inputs.items()]
    if outcome.error is not None:
        lines.append(f"  {name} raised {type(outcome.error).__name__}: {outcome.error}")
    elif outcome.modified:
        lines.append(f"  {name} modified its input {', '.join(outcome.modified)} in place; "
                     "work on a copy or build new arrays.")
    else:
        lines.append(f"  expected: {_show(case.expected)}")
        lines.append(f"  returned: {_show(outcome.value)}")
    raise GradingFailure("\n".join(lines), matching_mutants(outcome, case, [m for m in mutants if m.function == name],
                                                         rtol, atol))


def matching_mutants(outcome: Outcome, case: Case, mutants: list[Mutant],
                     rtol: float, atol: float) -> list[Mutant]:
    """The catalogued mistakes that behave like `outcome` on `case`."""
    found = []
    for mutant in mutants:
        theirs = run(mutant.implementation, case.inputs)
        if outcome.error is not None:
            same = theirs.error is not None and type(theirs.error) is type(outcome.error)
        elif outcome.modified:
            same = theirs.modified == outcome.modified
        else:
            same = (theirs.error is None and not theirs.modified
                    and close(outcome.value, theirs.value, rtol, atol))
        if same:
            found.append(mutant)
    return found


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in b)
    return True


def _show(value: Any) -> str:
    """A short, readable rendering of an argument or result (shape and a few numbers)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if isinstance(value, np.ndarray) and value.ndim >= 3 and value.size > 12:
        # images and feature maps: a few numbers say more than hundreds of lines
        flat = value.astype(np.float64).ravel()
        first = np.array2string(flat[:6], precision=6, separator=", ")
        return (f"array of shape {value.shape}, dtype {value.dtype}: min {np.nanmin(flat):.6g}, "
                f"max {np.nanmax(flat):.6g}, mean {np.nanmean(flat):.6g}, first values {first[:-1]}, ...]")
    if isinstance(value, np.ndarray):
        text = np.array2string(value, threshold=12, edgeitems=2, precision=6, max_line_width=100)
        return f"array of shape {value.shape}, dtype {value.dtype}:\n    " + text.replace("\n", "\n    ")
    return repr(value)
