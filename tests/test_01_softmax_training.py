"""Exercise 01 training loop, beyond the shared tests of
tests/test_exercise_contracts.py (reference passes, stub fails, each catalogued mistake named):
correct variants pass, and the loop is graded with the student's own loss."""
import math
import sys

import numpy as np
import pytest
from tqdm.auto import tqdm

from grader_tests.checking import GradingFailure
from grader_tests.mutants.softmax import MUTANTS, reference_linear_loss, train_correctly
from grader_tests.softmax import (
    check_train_linear_classifier,
    expected_training,
    training_scenarios,
)

TRAIN_MUTANTS = [m for m in MUTANTS if m.function == "train_linear_classifier"]


# Correct loops that look different from the reference. They call this module's
# `linear_classifier_loss`, as a student's loop calls the notebook's.

def linear_classifier_loss(W, b, X, y, reg):
    scores = X @ W + b
    scores = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y]).mean() + 0.5 * reg * np.sum(W * W)
    p[np.arange(n), y] -= 1
    p /= n
    return loss, X.T @ p + reg * W, p.sum(axis=0)


correct_linear_loss = linear_classifier_loss


def train_in_place_with_shuffled_indices(W, b, data, learning_rate=1e-2, momentum=0.9, lr_decay=0.95,
                                         reg=1e-4, batch_size=200, num_epochs=20, patience=3, seed=0,
                                         verbose=True):
    """Copies once, then updates in place; shuffles an index array; a while loop; np.copy for best."""
    W, b = np.array(W, copy=True), np.array(b, copy=True)
    vel = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
    rng = np.random.default_rng(seed)
    n = data["X_train"].shape[0]
    indices = np.arange(n)
    losses, train_accs, val_accs = [], [], []
    best, best_acc, stale, epoch = None, None, 0, 0
    while epoch < num_epochs and stale < patience:
        rng.shuffle(indices)
        for k in range(math.ceil(n / batch_size)):
            rows = indices[k * batch_size:(k + 1) * batch_size]
            loss, dW, db = linear_classifier_loss(W, b, data["X_train"][rows], data["y_train"][rows], reg)
            losses.append(loss)
            vel["W"] *= momentum
            vel["W"] -= learning_rate * dW
            vel["b"] *= momentum
            vel["b"] -= learning_rate * db
            W += vel["W"]
            b += vel["b"]
        learning_rate = learning_rate * lr_decay
        epoch += 1
        train_accs.append((np.argmax(data["X_train"] @ W + b, axis=1) == data["y_train"]).mean())
        val_accs.append((np.argmax(data["X_val"] @ W + b, axis=1) == data["y_val"]).mean())
        if best_acc is None or val_accs[-1] > best_acc:
            best, best_acc, stale = (np.copy(W), np.copy(b)), val_accs[-1], 0
        else:
            stale += 1
    return dict(W=best[0], b=best[1], loss_history=losses, train_acc_history=train_accs,
                val_acc_history=val_accs, epochs_run=epoch)


def train_other_momentum_form(W, b, data, learning_rate=1e-2, momentum=0.9, lr_decay=0.95, reg=1e-4,
                              batch_size=200, num_epochs=20, patience=3, seed=0, verbose=True):
    """v = mu v + lr dW; W = W - v (the same updates); permutes the data arrays; a progress bar
    that ignores `verbose` (the check keeps it off stderr); histories as arrays."""
    X, y = data["X_train"], data["y_train"]
    rng = np.random.default_rng(seed)
    v_W, v_b = 0 * W, 0 * b
    params = {"W": W, "b": b}
    best = dict(params)
    best_acc, without, losses, accs = -np.inf, 0, [], {"train": [], "val": []}
    epochs = 0
    for epoch in tqdm(range(num_epochs), file=sys.stderr):
        perm = rng.permutation(len(X))
        X_shuffled, y_shuffled = X[perm], y[perm]
        for start in range(0, len(X), batch_size):
            loss, dW, db = linear_classifier_loss(params["W"], params["b"], X_shuffled[start:start + batch_size],
                                                  y_shuffled[start:start + batch_size], reg)
            losses.append(float(loss))
            v_W = momentum * v_W + learning_rate * dW
            v_b = momentum * v_b + learning_rate * db
            params = {"W": params["W"] - v_W, "b": params["b"] - v_b}
        learning_rate *= lr_decay
        epochs = epoch + 1
        for split in ("train", "val"):
            scores = data[f"X_{split}"] @ params["W"] + params["b"]
            accs[split].append(float(np.mean(scores.argmax(1) == data[f"y_{split}"])))
        if accs["val"][-1] > best_acc:
            best_acc, without, best = accs["val"][-1], 0, params  # params is rebound, never mutated
        else:
            without += 1
            if without == patience:
                break
    return {"W": best["W"], "b": best["b"], "loss_history": np.array(losses),
            "train_acc_history": np.array(accs["train"]), "val_acc_history": np.array(accs["val"]),
            "epochs_run": epochs}


@pytest.mark.parametrize("variant", [train_in_place_with_shuffled_indices, train_other_momentum_form])
def test_correct_but_different_loops_pass(variant):
    check_train_linear_classifier(variant, linear_classifier_loss)


def test_nothing_reaches_stderr_even_with_a_progress_bar_left_on(capfd):
    check_train_linear_classifier(train_other_momentum_form, linear_classifier_loss)
    assert capfd.readouterr().err == ""


# The loop is graded with the student's own loss: a wrong loss is not penalised twice.

def loss_with_doubled_gradients(W, b, X, y, reg):
    loss, dW, db = correct_linear_loss(W, b, X, y, reg)
    return loss, 2 * dW, 2 * db


def train_calling(loss_function):
    def train(W, b, data, **options):
        global linear_classifier_loss
        saved, linear_classifier_loss = linear_classifier_loss, loss_function
        try:
            return train_in_place_with_shuffled_indices(W, b, data, **options)
        finally:
            linear_classifier_loss = saved
    return train


def test_a_correct_loop_calling_a_wrong_loss_passes_when_graded_with_that_loss():
    check_train_linear_classifier(train_calling(loss_with_doubled_gradients), loss_with_doubled_gradients)


def test_the_check_uses_the_loss_it_is_given():
    with pytest.raises(GradingFailure, match="loss_history"):
        check_train_linear_classifier(train_calling(loss_with_doubled_gradients), linear_classifier_loss)


def test_a_loss_that_raises_is_named_as_the_cause():
    def broken_loss(W, b, X, y, reg):
        raise ValueError("shapes (12,5) and (3,5) not aligned")

    with pytest.raises(GradingFailure) as failure:
        check_train_linear_classifier(train_calling(broken_loss), broken_loss)
    message = str(failure.value)
    assert "raised ValueError" in message and "fix linear_classifier_loss first" in message


# The scenarios are sharp where the brief asks, and fair (shuffling cannot matter).

def test_early_stopping_really_triggers():
    early = [s for s in training_scenarios() if s.options["patience"] == 1]
    assert early
    for scenario in early:
        result = expected_training(reference_linear_loss, scenario)
        assert result["epochs_run"] < scenario.options["num_epochs"]
        assert result["epochs_run"] == int(np.argmax(result["val_acc_history"])) + 1 + scenario.options["patience"]


def test_best_epoch_is_not_the_last_in_every_scenario():
    for scenario in training_scenarios():
        history = expected_training(reference_linear_loss, scenario)["val_acc_history"]
        assert int(np.argmax(history)) < len(history) - 1
        assert history.count(max(history)) == 1


def test_momentum_makes_a_visible_difference():
    by_momentum = {s.options["momentum"]: s for s in training_scenarios() if s.options["batch_size"] >= 12
                   and s.options["patience"] > 1}
    assert set(by_momentum) == {0.0, 0.9}
    with_momentum = expected_training(reference_linear_loss, by_momentum[0.9])["loss_history"]
    without = expected_training(reference_linear_loss, by_momentum[0.0])["loss_history"]
    assert not np.allclose(with_momentum[1:], without[1:], rtol=1e-2)


def test_a_minibatch_scenario_whose_batch_size_does_not_divide_n():
    minibatch = [s for s in training_scenarios() if s.options["batch_size"] < len(s.data["y_train"])]
    assert minibatch
    for scenario in minibatch:
        n, size = len(scenario.data["y_train"]), scenario.options["batch_size"]
        assert n % size != 0
        result = expected_training(reference_linear_loss, scenario)
        assert len(result["loss_history"]) == result["epochs_run"] * math.ceil(n / size)


@pytest.mark.parametrize("seed", [1, 2])
def test_shuffling_does_not_change_what_is_graded(seed):
    for scenario in training_scenarios():
        scenario.options["seed"] = seed
        expected = expected_training(reference_linear_loss, scenario)
        got = train_correctly(scenario.W, scenario.b, scenario.data, **scenario.options)
        for key in ("loss_history", "train_acc_history", "val_acc_history", "W", "b"):
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-9, atol=1e-12)
        assert got["epochs_run"] == expected["epochs_run"]


def test_failure_message_names_the_scenario_the_call_and_each_difference():
    mutant = next(m for m in TRAIN_MUTANTS if m.implementation.__name__ == "train_patience_off_by_one")
    with pytest.raises(GradingFailure) as failure:
        check_train_linear_classifier(mutant.implementation, reference_linear_loss)
    message = str(failure.value)
    assert "early stopping with patience 1" in message
    assert "called as train_linear_classifier(W, b, data, learning_rate=" in message
    assert "epochs_run:\n    expected 3\n    returned 4" in message


def test_a_wrong_return_value_is_described():
    def returns_tuple(W, b, data, **options):
        return W, b

    with pytest.raises(GradingFailure, match="no dict returned: got a tuple"):
        check_train_linear_classifier(returns_tuple, linear_classifier_loss)
