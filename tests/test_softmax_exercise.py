"""Exercise 01 softmax: the hidden check passes the reference and correct variants, fails the
released stub, and names every catalogued mistake."""
import numpy as np
import pytest
from scipy.special import logsumexp

from grader_tests.checking import GradingFailure
from grader_tests.mutants.softmax_classifier import MUTANTS
from grader_tests.softmax_classifier import check_softmax, softmax_cases


def test_reference_solution_passes(reference_01):
    check_softmax(reference_01.softmax)


def test_released_stub_fails(released_01):
    with pytest.raises(GradingFailure, match="raised NotImplementedError"):
        check_softmax(released_01.softmax)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.implementation.__name__)
def test_each_mutant_fails_with_its_name(mutant):
    with pytest.raises(GradingFailure) as failure:
        check_softmax(mutant.implementation)
    assert f"known mistake: {mutant.name}" in str(failure.value)


def softmax_loops(z):
    p = np.empty(np.shape(z), dtype=float)
    for i, row in enumerate(np.asarray(z, dtype=float)):
        e = np.exp(row - row.max())
        p[i] = e / e.sum()
    return p


def softmax_logsumexp(z):
    return np.exp(z - logsumexp(z, axis=1, keepdims=True))


def softmax_float32_preserving(z):
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return (e / e.sum(axis=1, keepdims=True)).astype(z.dtype if z.dtype.kind == "f" else np.float64)


@pytest.mark.parametrize("variant", [softmax_loops, softmax_logsumexp, softmax_float32_preserving])
def test_correct_but_different_implementations_pass(variant):
    check_softmax(variant)


def test_cases_cover_the_edge_cases_the_design_asks_for():
    shapes_and_dtypes = [(case.inputs["z"].shape, case.inputs["z"].dtype) for case in softmax_cases()]
    assert any(shape[0] == 1 for shape, _ in shapes_and_dtypes)
    assert any(shape[0] != shape[1] for shape, _ in shapes_and_dtypes)
    assert any(dtype == np.float32 for _, dtype in shapes_and_dtypes)
    assert any(dtype.kind == "i" for _, dtype in shapes_and_dtypes)
    assert max(np.abs(case.inputs["z"]).max() for case in softmax_cases()) >= 1e4


def test_failure_message_shows_input_expected_and_returned():
    def off_by_a_bit(z):
        return softmax_loops(z) * 1.01

    with pytest.raises(GradingFailure) as failure:
        check_softmax(off_by_a_bit)
    message = str(failure.value)
    assert "random scores, 4 examples x 7 classes" in message
    assert "input z = array of shape (4, 7)" in message
    assert "expected:" in message and "returned:" in message
    assert "known mistake" not in message  # no catalogued mistake behaves like this one
