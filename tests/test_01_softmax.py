"""Exercise 01 softmax and cross-entropy, beyond the shared tests of
tests/test_exercise_contracts.py (reference passes, stub fails, each catalogued mistake named):
correct variants pass, each loss mistake fails just the part it breaks, messages explain."""
import numpy as np
import pytest
from scipy.special import logsumexp

from grader_tests.checking import GradingFailure
from grader_tests.mutants.softmax import MUTANTS
from grader_tests.softmax import check_softmax, softmax_cases


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


def softmax_allocating_like_input(z):
    """Fills an output allocated like its input (np.empty_like): correct for the float scores the
    course uses, and the hidden checks use no other dtype."""
    p = np.empty_like(z)
    for i in range(len(z)):
        e = np.exp(z[i] - z[i].max())
        p[i] = e / e.sum()
    return p


@pytest.mark.parametrize("variant", [softmax_loops, softmax_logsumexp, softmax_float32_preserving,
                                     softmax_allocating_like_input])
def test_correct_but_different_implementations_pass(variant):
    check_softmax(variant)


def test_cases_cover_the_edge_cases_the_design_asks_for():
    shapes_and_dtypes = [(case.inputs["z"].shape, case.inputs["z"].dtype) for case in softmax_cases()]
    assert any(shape[0] == 1 for shape, _ in shapes_and_dtypes)
    assert any(shape[0] != shape[1] for shape, _ in shapes_and_dtypes)
    assert any(dtype == np.float32 for _, dtype in shapes_and_dtypes)
    assert all(dtype.kind == "f" for _, dtype in shapes_and_dtypes)  # the course passes no integer arrays
    assert any(np.array_equal(c.inputs["z"], np.round(c.inputs["z"])) for c in softmax_cases())  # ties
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


# softmax_cross_entropy and linear_classifier_loss ---------------------------------------------------

from scipy.special import log_softmax  # noqa: E402

from grader_tests.softmax import (  # noqa: E402
    check_linear_classifier_gradients,
    check_linear_classifier_loss,
    check_softmax_cross_entropy,
    check_softmax_cross_entropy_gradient,
    check_softmax_cross_entropy_loss,
    linear_classifier_cases,
    softmax_cross_entropy_cases,
)

CE_CHECKS = {"loss": check_softmax_cross_entropy_loss, "gradient": check_softmax_cross_entropy_gradient}
LINEAR_CHECKS = {"loss": check_linear_classifier_loss, "gradient": check_linear_classifier_gradients}

# Which graded part each catalogued mistake must fail; it must pass the other. A mistake in the loss
# whose gradient is still the exact gradient of that loss keeps the gradient marks.
FAILS = {
    "ce_loss_summed": {"loss"},
    "ce_dscores_not_divided": {"gradient"},
    "ce_nothing_divided": {"loss"},
    "ce_mean_over_all_entries": {"loss"},
    "ce_without_max_shift": {"loss", "gradient"},
    "ce_without_minus_one": {"gradient"},
    "ce_log_of_softmax": {"loss"},
    "ce_labels_indexed_wrongly": {"loss", "gradient"},
    "ce_scores_modified_in_place": {"loss", "gradient"},
    "linear_reg_without_half": {"loss"},
    "linear_reg_gradient_halved": {"gradient"},
    "linear_bias_regularised": {"loss"},
    "linear_dW_not_divided_by_n": {"gradient"},
    "linear_db_not_summed": {"gradient"},
    "linear_db_summed_over_classes": {"gradient"},
    "linear_dW_transposed": {"gradient"},
    "linear_reg_missing_from_gradient": {"gradient"},
}
LOSS_MUTANTS = [m for m in MUTANTS if m.function in ("softmax_cross_entropy", "linear_classifier_loss")]


def test_every_loss_mutant_says_which_part_it_breaks():
    assert sorted(m.implementation.__name__ for m in LOSS_MUTANTS) == sorted(FAILS)


@pytest.mark.parametrize("mutant", LOSS_MUTANTS, ids=lambda m: m.implementation.__name__)
def test_each_loss_mutant_fails_what_it_breaks_with_its_name_and_passes_the_rest(mutant):
    checks = CE_CHECKS if mutant.function == "softmax_cross_entropy" else LINEAR_CHECKS
    for part, check in checks.items():
        if part in FAILS[mutant.implementation.__name__]:
            with pytest.raises(GradingFailure) as failure:
                check(mutant.implementation)
            assert f"known mistake: {mutant.name}" in str(failure.value), part
        else:
            check(mutant.implementation)


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.function == "softmax_cross_entropy"],
                         ids=lambda m: m.implementation.__name__)
def test_the_combined_cross_entropy_check_names_each_mistake(mutant):
    with pytest.raises(GradingFailure) as failure:
        check_softmax_cross_entropy(mutant.implementation)
    assert f"known mistake: {mutant.name}" in str(failure.value)


# Correct implementations that look different from the reference.

def ce_loops(scores, y):
    scores = np.asarray(scores, dtype=float)
    n = scores.shape[0]
    loss, dscores = 0.0, np.zeros_like(scores)
    for i in range(n):
        row = scores[i] - scores[i].max()
        log_norm = np.log(np.exp(row).sum())
        loss += (log_norm - row[y[i]]) / n
        for j in range(scores.shape[1]):
            dscores[i, j] = (np.exp(row[j] - log_norm) - (j == y[i])) / n
    return loss, dscores


def ce_logsumexp_onehot(scores, y):
    onehot = np.eye(scores.shape[1])[y]
    log_probs = scores - logsumexp(scores, axis=1, keepdims=True)
    loss = -np.einsum("ij,ij->", onehot, log_probs) / len(y)
    return float(loss), (np.exp(log_probs) - onehot) / len(y)


def ce_float32_preserving(scores, y):
    dtype = scores.dtype if scores.dtype.kind == "f" else np.float64
    s = scores.astype(dtype)
    s = s - s.max(axis=1, keepdims=True)
    log_probs = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    rows = np.arange(s.shape[0])
    grad = np.exp(log_probs)
    grad[rows, y] -= 1
    return -log_probs[rows, y].mean(), (grad / s.shape[0]).astype(dtype)


def ce_scipy(scores, y):
    log_probs = log_softmax(scores, axis=1)
    rows = np.arange(len(y))
    probabilities = np.exp(log_probs)
    probabilities[rows, y] -= 1
    return np.array(-log_probs[rows, y].mean()), probabilities / len(y)


def ce_shifting_in_place(scores, y):
    """Works in a copy of the scores, in place, and allocates the gradient like the scores."""
    s = scores.copy()
    s -= s.max(axis=1, keepdims=True)
    s -= np.log(np.exp(s).sum(axis=1, keepdims=True))  # log-probabilities
    rows = np.arange(len(y))
    dscores = np.zeros_like(scores)
    dscores += np.exp(s)
    dscores[rows, y] -= 1
    return -s[rows, y].mean(), dscores / len(y)


@pytest.mark.parametrize("variant", [ce_loops, ce_logsumexp_onehot, ce_float32_preserving, ce_scipy,
                                     ce_shifting_in_place])
def test_correct_but_different_cross_entropies_pass(variant):
    check_softmax_cross_entropy(variant)


def linear_loops(W, b, X, y, reg):
    n, (d, c) = X.shape[0], W.shape
    loss, dW, db = 0.0, np.zeros((d, c)), np.zeros(c)
    for i in range(n):
        scores = X[i] @ W + b
        example_loss, dscores = ce_loops(scores[None, :], y[i:i + 1])
        loss += example_loss / n
        dW += np.outer(X[i], dscores[0]) / n
        db += dscores[0] / n
    return loss + 0.5 * reg * np.sum(W ** 2), dW + reg * W, db


def linear_einsum(W, b, X, y, reg):
    scores = np.einsum("nd,dc->nc", X, W) + b
    loss, dscores = ce_logsumexp_onehot(scores, y)
    return loss + reg * np.einsum("dc,dc->", W, W) / 2, np.einsum("nd,nc->dc", X, dscores) + reg * W, \
        np.einsum("nc->c", dscores)


def linear_float32_preserving(W, b, X, y, reg):
    loss, dscores = ce_float32_preserving(X @ W + b, y)
    dW = (X.T @ dscores).astype(W.dtype) + W.dtype.type(reg) * W
    return loss + 0.5 * reg * float(np.vdot(W, W)), dW, dscores.sum(axis=0).astype(b.dtype)


def linear_other_names(weights, biases, inputs, labels, strength):
    n = inputs.shape[0]
    logits = inputs.dot(weights) + biases[np.newaxis, :]
    probs = np.exp(logits - logits.max(1)[:, None])
    probs /= probs.sum(1)[:, None]
    data_loss = -np.log(probs[range(n), labels]).sum() / n
    probs[range(n), labels] -= 1
    return (data_loss + 0.5 * strength * (weights ** 2).sum(), inputs.T.dot(probs) / n + strength * weights,
            probs.mean(axis=0))


@pytest.mark.parametrize("variant", [linear_loops, linear_einsum, linear_float32_preserving,
                                     linear_other_names])
def test_correct_but_different_linear_losses_pass(variant):
    check_linear_classifier_loss(variant)
    check_linear_classifier_gradients(variant)


# A consistent pair keeps the gradient marks; a degenerate one does not.

def ce_doubled_pair(scores, y):
    loss, dscores = ce_scipy(scores, y)
    return 2 * loss, 2 * dscores


def test_gradient_of_a_wrong_but_consistent_cross_entropy_earns_the_gradient_marks():
    with pytest.raises(GradingFailure):
        check_softmax_cross_entropy_loss(ce_doubled_pair)
    check_softmax_cross_entropy_gradient(ce_doubled_pair)


def linear_reg_without_half_consistent(W, b, X, y, reg):
    loss, dW, db = linear_einsum(W, b, X, y, 0.0)
    return loss + reg * np.sum(W ** 2), dW + 2 * reg * W, db


def test_gradient_of_a_wrong_but_consistent_linear_loss_earns_the_gradient_marks():
    with pytest.raises(GradingFailure, match="regularisation term without the factor 0.5"):
        check_linear_classifier_loss(linear_reg_without_half_consistent)
    check_linear_classifier_gradients(linear_reg_without_half_consistent)


def ce_unfinished(scores, y):
    return 0.0, np.zeros(np.shape(scores))


def linear_bias_forgotten(W, b, X, y, reg):
    loss, dW, db = linear_einsum(W, np.zeros_like(b), X, y, reg)
    return loss, dW, np.zeros_like(b)


@pytest.mark.parametrize("check,function", [(check_softmax_cross_entropy_gradient, ce_unfinished),
                                            (check_linear_classifier_gradients, linear_bias_forgotten)],
                         ids=["constant loss, zero dscores", "b left out of the loss, db = 0"])
def test_zero_gradients_of_a_loss_that_ignores_its_input_are_not_taken_as_consistent(check, function):
    with pytest.raises(GradingFailure) as failure:
        check(function)
    assert "not the numerical gradients of your own loss" in str(failure.value)


def test_gradient_failure_explains_both_comparisons_and_names_only_gradient_mistakes():
    with pytest.raises(GradingFailure) as failure:
        check_softmax_cross_entropy_gradient(MUTANTS_BY_NAME["ce_dscores_not_divided"])
    message = str(failure.value)
    assert "dscores for random scores, 4 examples x 7 classes" in message
    assert "expected:" in message and "returned:" in message
    assert "not the numerical gradients of your own loss" in message
    assert "known mistake: dscores not divided by N" in message
    # this mistake's gradient belongs to its (wrong) loss, so it is no gradient mistake
    assert "neither the loss nor dscores" not in message


MUTANTS_BY_NAME = {m.implementation.__name__: m.implementation for m in MUTANTS}


def test_linear_gradient_failure_shows_shapes():
    with pytest.raises(GradingFailure) as failure:
        check_linear_classifier_gradients(MUTANTS_BY_NAME["linear_dW_transposed"])
    message = str(failure.value)
    assert "(dW, db) for reg = 0, 6 examples, D = 4 features, C = 3 classes" in message
    assert "array of shape (4, 3)" in message and "array of shape (3, 4)" in message


@pytest.mark.parametrize("check", [*CE_CHECKS.values(), *LINEAR_CHECKS.values()], ids=lambda c: c.__name__)
def test_a_function_returning_the_wrong_form_is_told_so(check):
    def loss_only(*args):
        return 1.0

    with pytest.raises(GradingFailure, match=r"must return a tuple \(loss, d"):
        check(loss_only)


def test_cross_entropy_cases_cover_the_edge_cases():
    cases = softmax_cross_entropy_cases()
    scores = [case.inputs["scores"] for case in cases]
    assert any(s.shape[0] == 1 for s in scores)
    assert any(s.shape[0] != s.shape[1] for s in scores)
    assert any(s.dtype == np.float32 for s in scores) and all(s.dtype.kind == "f" for s in scores)
    assert max(np.abs(s).max() for s in scores) >= 1e4
    for case in cases:  # the oracle stays finite on huge scores
        assert np.isfinite(case.expected[0]) and np.all(np.isfinite(case.expected[1]))


def test_linear_cases_cover_the_edge_cases():
    inputs = [case.inputs for case in linear_classifier_cases()]
    assert any(i["reg"] == 0 for i in inputs) and any(i["reg"] > 0 for i in inputs)
    assert any(i["X"].shape[0] == 1 for i in inputs)
    assert all(i["W"].shape[0] != i["W"].shape[1] for i in inputs)
    assert all(i["X"].shape[0] != i["W"].shape[1] for i in inputs)
    assert any(i["W"].dtype == np.float32 for i in inputs) and all(i["X"].dtype.kind == "f" for i in inputs)


@pytest.mark.parametrize("check", [*CE_CHECKS.values()], ids=lambda c: c.__name__)
def test_modifying_the_input_is_reported(check):
    with pytest.raises(GradingFailure, match="modified its input scores in place"):
        check(MUTANTS_BY_NAME["ce_scores_modified_in_place"])
