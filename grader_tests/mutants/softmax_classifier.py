"""Realistic mistakes in assignment 01 (softmax classifier)."""
import numpy as np

from grader_tests.checking import Mutant


def softmax_without_max_shift(z):
    exp = np.exp(z)
    return exp / np.sum(exp, axis=1, keepdims=True)


def softmax_max_over_columns(z):
    exp = np.exp(z - np.max(z, axis=0, keepdims=True))
    return exp / np.sum(exp, axis=1, keepdims=True)


def softmax_normalised_over_columns(z):
    exp = np.exp(z - np.max(z, axis=1, keepdims=True))
    return exp / np.sum(exp, axis=0, keepdims=True)


def softmax_normalised_over_batch(z):
    exp = np.exp(z - np.max(z, axis=1, keepdims=True))
    return exp / np.sum(exp)


def softmax_without_keepdims(z):
    exp = np.exp(z - np.max(z, axis=1))
    return exp / np.sum(exp, axis=1)


def softmax_in_place(z):
    z -= np.max(z, axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= np.sum(z, axis=1, keepdims=True)
    return z


def softmax_returns_log_probabilities(z):
    shifted = z - np.max(z, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


MUTANTS = [
    Mutant("softmax", "no max subtraction",
           "exp overflows to inf for scores above ~710, and inf/inf is nan: subtract each row's "
           "maximum before exponentiating.", softmax_without_max_shift),
    Mutant("softmax", "maximum taken over the wrong axis (axis=0)",
           "Subtract the maximum of each row (axis=1, keepdims=True), not of each column.",
           softmax_max_over_columns),
    Mutant("softmax", "normalised over the wrong axis (axis=0)",
           "Each row (one example) must sum to 1: divide by the sum over axis=1.",
           softmax_normalised_over_columns),
    Mutant("softmax", "normalised over the whole batch",
           "Divide by each row's own sum (axis=1, keepdims=True), not by the sum of all entries.",
           softmax_normalised_over_batch),
    Mutant("softmax", "keepdims missing",
           "np.max(z, axis=1) has shape (N,), which broadcasts along columns; "
           "use keepdims=True to get shape (N, 1).", softmax_without_keepdims),
    Mutant("softmax", "input modified in place",
           "`z -= ...` changes the caller's array; write `shifted = z - ...` instead.",
           softmax_in_place),
    Mutant("softmax", "returns log-probabilities",
           "That is log-softmax; exponentiate to return probabilities.",
           softmax_returns_log_probabilities),
]
