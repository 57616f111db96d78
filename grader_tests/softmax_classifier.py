"""Hidden checks of assignment 01 (softmax classifier).

Expected values come from SciPy (an independent oracle), on inputs the students never see.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.special import softmax as scipy_softmax

from grader_tests.checking import Case, check_case
from grader_tests.mutants.softmax_classifier import MUTANTS


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
        ("integer-valued scores (dtype int64)", rng.integers(-5, 6, size=(3, 4))),
        ("float32 scores", rng.standard_normal((6, 5)).astype(np.float32) * 4),
    ]
    return [Case(description, {"z": z}, scipy_softmax(z.astype(np.float64), axis=1))
            for description, z in inputs]


def check_softmax(softmax: Callable) -> None:
    """Grade a student's `softmax(z) -> p` on every case; raises GradingFailure on the first miss."""
    for case in softmax_cases():
        check_case("softmax", softmax, case, MUTANTS)
