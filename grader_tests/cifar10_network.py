"""Hidden check of assignment 05's own network (part 1): through the network probe's contract
(`params`, `loss(X, y=None)`), the student's `build_model()` scores a small batch with the right
shape, returns a gradient for every parameter with its shape, and those gradients are the
derivatives of the student's own loss, checked numerically.

Any architecture is allowed, so there is no oracle: the gradients are compared with centred
differences of the same network's loss along two directions per parameter (the returned gradient's
own direction, and a random one), a directional derivative that sums over every entry and so stays
far above the rounding noise of a float32 network (see GRADIENT_RTOL).
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from grader_tests.checking import ContractError, GradingFailure
from grader_tests.networks import build_seeded, loss_and_grads, params_dict

BATCH = 4
GRADIENT_RTOL = 0.05
"""Largest difference between a directional derivative taken from the returned gradient and the
centred difference of the loss, relative to the larger of the gradient's norm and that difference
(so a slope near zero along a random direction is not judged by its own rounding and max-pool
switches). Measured (tests/test_05_cifar10_network.py): the reference network 0.0009 (56x below),
a network computing in float32 0.004 (12x below); mistakes 0.09 (pooling's gradient spread over
the window) to 0.6 (ReLU mask dropped)."""
STEP = 1e-4
"""Length of the step along a unit direction in one parameter's space (float64 parameters)."""


def _batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(50)
    return rng.standard_normal((BATCH, 3, 32, 32)).astype(np.float32) * 0.25, np.array([0, 3, 7, 9])


def _loss(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    loss, _ = loss_and_grads(model, X, y, (), "loss")
    return float(loss)


def _directional_errors(model: Any, name: str, value: np.ndarray, grad: np.ndarray, X, y) -> list[tuple]:
    """[(direction, derivative from grad, centred difference)] for the two directions of `name`."""
    rng = np.random.default_rng(51)
    random = rng.standard_normal(value.shape)
    norm = np.linalg.norm(grad)
    directions = {"along the returned gradient": grad / norm if norm > 0 else random / np.linalg.norm(random),
                  "along a random direction": random / np.linalg.norm(random)}
    results = []
    for label, u in directions.items():
        model.params[name] = value + STEP * u
        plus = _loss(model, X, y)
        model.params[name] = value - STEP * u
        minus = _loss(model, X, y)
        results.append((label, float(np.vdot(grad, u)), (plus - minus) / (2 * STEP)))
    model.params[name] = value
    return results


def gradient_errors(model: Any, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], X, y
                    ) -> dict[str, tuple[float, str]]:
    """For each parameter, the larger relative difference of its two directional derivatives (see
    GRADIENT_RTOL) and a description of it."""
    errors = {}
    for name, value in params.items():
        scale = max(float(np.linalg.norm(grads[name])), 1e-6)
        worst = (-1.0, "")
        for label, analytic, numeric in _directional_errors(model, name, value, grads[name], X, y):
            error = abs(analytic - numeric) / max(scale, abs(numeric))
            worst = max(worst, (error, f"{label}: the returned gradient gives a slope of {analytic:.6g}, "
                                       f"the loss changes at {numeric:.6g}"))
        errors[name] = worst
    return errors


def network_gradient_errors(build_model: Callable) -> dict[str, tuple[float, str]]:
    """gradient_errors of build_model() on the check's batch, with float64 copies of its parameters.
    Raises ContractError when the network does not keep the contract (scores, grads' keys and shapes)."""
    X, y = _batch()
    model = build_seeded(build_model, {})
    params = {k: np.asarray(v, dtype=np.float64) for k, v in params_dict(model).items()}
    for key, value in params.items():
        model.params[key] = value
    scores = np.asarray(model.loss(X))
    if scores.shape != (BATCH, 10):
        raise ContractError(f"loss(X) returned scores of shape {scores.shape}, expected ({BATCH}, 10)")
    _, grads = loss_and_grads(model, X, y, list(params), "loss")
    grads = dict(zip(params, (np.asarray(g, dtype=np.float64) for g in grads)))
    wrong_shapes = {k: (g.shape, params[k].shape) for k, g in grads.items() if g.shape != params[k].shape}
    if wrong_shapes:
        raise ContractError("grads differ in shape from params: " + ", ".join(
            f"grads[{k!r}] {g} vs params[{k!r}] {p}" for k, (g, p) in wrong_shapes.items()))
    return gradient_errors(model, params, grads, X, y)


def check_cifar_net(build_model: Callable) -> None:
    """Grade build_model() (default config) on a batch of 4 images: scores (4, 10), grads keyed and
    shaped like params, and every parameter's gradient against centred differences of the loss
    (with float64 copies of the parameters). Raises GradingFailure."""
    scenario = f"build_model() with its default config, on {BATCH} random images of shape (3, 32, 32)"
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            errors = network_gradient_errors(build_model)
    except ContractError as error:
        raise GradingFailure(f"CifarNet failed a hidden check on {scenario}: {error}") from None
    except Exception as error:  # the student's code may raise anything
        raise GradingFailure(f"CifarNet failed a hidden check on {scenario}: it raised "
                             f"{type(error).__name__}: {error}") from None
    failures = [f"  grads[{name!r}] {text} (relative difference {error:.2g}, at most {GRADIENT_RTOL} allowed)"
                for name, (error, text) in errors.items() if not error <= GRADIENT_RTOL]
    if failures:
        raise GradingFailure("\n".join([
            f"CifarNet failed a hidden check on {scenario}: its gradients are not the derivatives of its "
            f"loss (centred differences of loss(X, y) along unit directions, step {STEP}).", *failures,
            "  Check the backward pass of the layers of those parameters, and of the layers above them."]))
