"""Exercise 02 fully-connected networks, beyond the shared tests of
tests/test_exercise_contracts.py (reference passes, stub fails, each catalogued mistake named):
correct variants pass, and the oracles are sound."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from assignments.gradient_check import numerical_gradient, numerical_gradient_array, rel_error
from grader_tests import fully_connected as fc
from grader_tests.checking import GradingFailure
from grader_tests.mutants.fully_connected import (
    MUTANTS,
    relu_forward_caching_input,
)


# ---------------------------------------------------------------- correct implementations, various


def affine_forward_loops(x, w, b):
    n = x.shape[0]
    flat = np.reshape(x, (n, -1))
    out = np.zeros((n, w.shape[1]), dtype=np.result_type(x, w, b))
    for i in range(n):
        for j in range(w.shape[1]):
            out[i, j] = np.dot(flat[i], w[:, j]) + b[j]
    return out, (x, w, b)


def affine_backward_loops(dout, cache):
    x, w, b = cache
    n = x.shape[0]
    flat = np.reshape(x, (n, -1))
    dx, dw = np.zeros(flat.shape), np.zeros(w.shape)
    for i in range(n):
        dx[i] = w @ dout[i]
        dw += np.outer(flat[i], dout[i])
    return dx.reshape(x.shape), dw, np.sum(dout, axis=0)


def affine_forward_flat_cache(x, w, b):
    """Caches the flattened x and x's shape, not x itself."""
    flat = x.reshape(len(x), -1)
    return np.tensordot(flat, w, axes=1) + b, {"x_flat": flat, "shape": x.shape, "w": w}


def affine_backward_flat_cache(dout, cache):
    dx = np.einsum("nm,dm->nd", dout, cache["w"]).reshape(cache["shape"])
    return dx, cache["x_flat"].T.dot(dout), dout.sum(0)


def relu_forward_where(x):
    out = np.where(x > 0, x, 0)
    return out, out  # the output is cache enough: out > 0 exactly where x > 0


def relu_backward_where(dout, cache):
    return np.where(cache > 0, dout, 0)


def relu_forward_mask(x):
    return x * (x > 0), x > 0


def relu_backward_mask(dout, cache):
    dx = dout.copy()
    dx[~cache] = 0
    return dx


def softmax_loss_logsumexp(x, y):
    n = x.shape[0]
    log_p = x - logsumexp(x, axis=1, keepdims=True)
    one_hot = np.zeros_like(log_p)
    one_hot[np.arange(n), y] = 1
    return -np.sum(log_p * one_hot) / n, (np.exp(log_p) - one_hot) / n


def softmax_loss_probabilities(x, y):
    """-log of a max-shifted softmax: fine unless the correct class is extremely unlikely."""
    n = x.shape[0]
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[range(n), y]).mean()
    dx = p.copy()
    dx[range(n), y] -= 1
    return loss, dx / n


def softmax_loss_in_place(x, y):
    """Shifts a copy of the scores in place and allocates the gradient like them (np.zeros_like)."""
    shifted = x.copy()
    shifted -= shifted.max(axis=1, keepdims=True)
    dx = np.zeros_like(x)
    dx += np.exp(shifted)
    dx /= dx.sum(axis=1, keepdims=True)
    loss = -np.log(dx[np.arange(len(y)), y]).mean()
    dx[np.arange(len(y)), y] -= 1
    return loss, dx / len(y)


def softmax_loss_loops(x, y):
    n = len(x)
    loss, dx = 0.0, np.zeros(np.shape(x))
    for i in range(n):
        row = np.asarray(x[i], dtype=float)
        row = row - row.max()
        p = np.exp(row) / np.exp(row).sum()
        loss -= np.log(p[y[i]])
        p[y[i]] -= 1
        dx[i] = p / n
    return loss / n, dx


def sgd_in_place(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


def sgd_momentum_in_place(w, dw, config=None):
    """Updates w and the velocity array in place, and keeps a step counter of its own."""
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    config.setdefault("velocity", np.zeros_like(w))
    config["steps"] = config.get("steps", 0) + 1
    v = config["velocity"]
    v *= config["momentum"]
    v -= config["learning_rate"] * dw
    w += v
    return w, config


def sgd_momentum_copying(w, dw, config=None):
    """Never touches the caller's dict: returns a new one."""
    c = {"learning_rate": 1e-2, "momentum": 0.9, **(config or {})}
    c["velocity"] = c["momentum"] * c.get("velocity", 0.0) - c["learning_rate"] * dw
    return w + c["velocity"], c


def rmsprop_copying(w, dw, config=None):
    c = dict(config or {})
    lr, decay, eps = c.get("learning_rate", 1e-2), c.get("decay_rate", 0.99), c.get("epsilon", 1e-8)
    c["cache"] = decay * c.get("cache", np.zeros_like(w)) + (1 - decay) * np.square(dw)
    return w - lr * dw / (np.sqrt(c["cache"]) + eps), c


def adam_in_place(w, dw, config=None):
    config = {} if config is None else config
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8),
                       ("t", 0)):
        config.setdefault(key, value)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config["t"] += 1
    b1, b2, t = config["beta1"], config["beta2"], config["t"]
    config["m"] *= b1
    config["m"] += (1 - b1) * dw
    config["v"] *= b2
    config["v"] += (1 - b2) * dw * dw
    lr_t = config["learning_rate"] * np.sqrt(1 - b2**t) / (1 - b1**t)
    # The same step as the contract's, rearranged: epsilon is scaled to stay outside the sqrt.
    w -= lr_t * config["m"] / (np.sqrt(config["v"]) + config["epsilon"] * np.sqrt(1 - b2**t))
    return w, config


def _layers_loss(params, num_layers, X, y, reg, dtype):
    """A network built from this file's layer functions, with per-layer caches in a list."""
    h = X.astype(dtype)
    caches = []
    for i in range(1, num_layers + 1):
        h, cache = affine_forward_flat_cache(h, params[f"W{i}"], params[f"b{i}"])
        relu_cache = None
        if i < num_layers:
            h, relu_cache = relu_forward_mask(h)
        caches.append((cache, relu_cache))
    if y is None:
        return h
    loss, dh = softmax_loss_logsumexp(h, y)
    grads = {}
    for i in range(num_layers, 0, -1):
        cache, relu_cache = caches[i - 1]
        if relu_cache is not None:
            dh = relu_backward_mask(dh, relu_cache)
        dh, dW, grads[f"b{i}"] = affine_backward_flat_cache(dh, cache)
        W = params[f"W{i}"]
        loss += 0.5 * reg * np.sum(W * W)
        grads[f"W{i}"] = dW + reg * W
    return loss, grads


class TwoLayerNetFromLayers:
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
        self.reg = reg
        self.params = {"W1": np.random.normal(0.0, weight_scale, (input_dim, hidden_dim)),
                       "b1": np.zeros(hidden_dim),
                       "W2": np.random.normal(0.0, weight_scale, (hidden_dim, num_classes)),
                       "b2": np.zeros(num_classes)}

    def loss(self, X, y=None):
        return _layers_loss(self.params, 2, X, y, self.reg, np.float64)


class FullyConnectedNetFromLayers:
    """Draws weights with its own generator and casts X to its dtype in loss."""

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout_keep_ratio=1,
                 normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        self.reg, self.dtype = reg, dtype
        self.num_layers = 1 + len(hidden_dims)
        rng = np.random.default_rng(seed)
        dims = [input_dim, *hidden_dims, num_classes]
        self.params = {}
        for i in range(self.num_layers):
            weights = weight_scale * rng.standard_normal((dims[i], dims[i + 1]))
            self.params[f"W{i + 1}"] = weights.astype(dtype)
            self.params[f"b{i + 1}"] = np.zeros(dims[i + 1], dtype=dtype)

    def loss(self, X, y=None):
        return _layers_loss(self.params, self.num_layers, X, y, self.reg, self.dtype)


# ------------------------------------------------------------------------------- the notebooks


# ---------------------------------------------------------------------------------- the mutants


# ------------------------------------------------------------ correct but different, accepted


@pytest.mark.parametrize("forward, backward", [
    (affine_forward_loops, affine_backward_loops),
    (affine_forward_flat_cache, affine_backward_flat_cache),
    (lambda x, w, b: list(affine_forward_flat_cache(x, w, b)), affine_backward_flat_cache),
], ids=["loops", "einsum with the flattened x cached", "returns a list"])
def test_correct_affine_variants_pass(forward, backward):
    fc.check_affine_forward(forward)
    fc.check_affine_backward(forward, backward)


@pytest.mark.parametrize("forward, backward", [
    (relu_forward_where, relu_backward_where),
    (relu_forward_mask, relu_backward_mask),
], ids=["output cached", "mask cached"])
def test_correct_relu_variants_pass(forward, backward):
    fc.check_relu_forward(forward)
    fc.check_relu_backward(forward, backward)


@pytest.mark.parametrize("variant", [softmax_loss_logsumexp, softmax_loss_probabilities, softmax_loss_loops,
                                     softmax_loss_in_place])
def test_correct_softmax_loss_variants_pass(variant):
    fc.check_softmax_loss(variant)


@pytest.mark.parametrize("check, variant", [
    (fc.check_sgd, sgd_in_place),
    (fc.check_sgd_momentum, sgd_momentum_in_place),
    (fc.check_sgd_momentum, sgd_momentum_copying),
    (fc.check_rmsprop, rmsprop_copying),
    (fc.check_adam, adam_in_place),
], ids=lambda v: getattr(v, "__name__", ""))
def test_correct_optimizer_variants_pass(check, variant):
    check(variant)


def test_correct_network_variants_pass():
    fc.check_two_layer_net(TwoLayerNetFromLayers)
    fc.check_fully_connected_net(FullyConnectedNetFromLayers)


# ------------------------------------------------------------ backward: a consistent pair


def affine_forward_without_bias(x, w, b):
    return x.reshape(len(x), -1) @ w, (x, w)


def affine_backward_without_bias(dout, cache):
    x, w = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, np.zeros(w.shape[1])


def test_a_backward_consistent_with_its_own_wrong_forward_passes():
    with pytest.raises(GradingFailure, match="known mistake: bias ignored"):
        fc.check_affine_forward(affine_forward_without_bias)
    fc.check_affine_backward(affine_forward_without_bias, affine_backward_without_bias)


def test_a_backward_matching_neither_oracle_says_so():
    def doubled_db(dout, cache):
        dx, dw, db = affine_backward_loops(dout, cache)
        return dx, dw, 2 * db

    with pytest.raises(GradingFailure) as failure:
        fc.check_affine_backward(affine_forward_loops, doubled_db)
    message = str(failure.value)
    assert "The parts that differ: db." in message
    assert "do not match numerical gradients of your own affine_forward on this input either" in message
    assert "known mistake" not in message


def test_relu_backward_has_no_numerical_escape_at_zero():
    # Numerical gradients at exact zeros are 0.5 * dout; the convention is 0.
    def half_at_zero(dout, cache):
        return dout * ((cache > 0) + 0.5 * (cache == 0))

    with pytest.raises(GradingFailure, match="exact zeros"):
        fc.check_relu_backward(relu_forward_caching_input, half_at_zero)


# --------------------------------------------------------------------------- the oracles are sound


def test_affine_backward_oracle_matches_numerical_gradients():
    for case in fc.affine_backward_cases():
        x, w, b, dout = (np.array(case.inputs[k], dtype=np.float64) for k in ("x", "w", "b", "dout"))
        numerical = (numerical_gradient_array(lambda v: fc.affine_reference(v, w, b), x, dout),
                     numerical_gradient_array(lambda v: fc.affine_reference(x, v, b), w, dout),
                     numerical_gradient_array(lambda v: fc.affine_reference(x, w, v), b, dout))
        for got, expected in zip(case.expected, numerical):
            assert got.shape == expected.shape
            assert rel_error(got, expected) < 1e-7


def test_softmax_loss_oracle_matches_numerical_gradients():
    for case in fc.softmax_loss_cases():
        if np.abs(case.inputs["x"]).max() > 100:
            continue  # at 1e4 the loss is too flat for h = 1e-5 in float64 to help
        x, y = np.array(case.inputs["x"], dtype=np.float64), case.inputs["y"]
        loss, dx = case.expected
        assert abs(loss - softmax_loss_loops(x, y)[0]) < 1e-12
        numerical = numerical_gradient(lambda v: softmax_loss_loops(v, y)[0], x)
        np.testing.assert_allclose(dx, numerical, rtol=1e-6, atol=1e-9)


def test_network_oracle_matches_numerical_gradients():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((4, 2, 3)), np.array([0, 2, 1, 2])
    layers = [(rng.standard_normal((6, 5)), rng.standard_normal(5)),
              (rng.standard_normal((5, 4)), rng.standard_normal(4)),
              (rng.standard_normal((4, 3)), rng.standard_normal(3))]
    loss, gradients = fc.mlp_reference(X, layers, y, reg=0.3)
    flat = [array for layer in layers for array in layer]
    for array, gradient in zip(flat, gradients):
        numerical = numerical_gradient(lambda _: fc.mlp_reference(X, layers, y, reg=0.3)[0], array)
        assert rel_error(gradient, numerical) < 1e-6


def test_optimizer_oracle_follows_the_contract_by_hand():
    w, dw = np.array([1.0, -2.0]), np.array([0.5, -0.25])
    next_w, config = fc.optimizer_step_reference("adam", w, dw, None)
    # t = 1: m_hat = dw and v_hat = dw**2, so each coordinate moves by learning_rate * sign(dw).
    np.testing.assert_allclose(next_w, w - 1e-3 * np.sign(dw), rtol=1e-7)
    assert config["t"] == 1
    next_w, config = fc.optimizer_step_reference("sgd_momentum", w, dw, {"velocity": np.array([0.1, 0.1])})
    np.testing.assert_allclose(config["velocity"], 0.9 * 0.1 - 1e-2 * dw)
    np.testing.assert_allclose(next_w, w + config["velocity"])


# --------------------------------------------------------------------- coverage and messages


def test_cases_cover_the_edge_cases_the_design_asks_for():
    affine = [case.inputs["x"] for case in fc.affine_forward_cases()]
    assert any(x.ndim == 4 for x in affine) and any(x.ndim == 2 for x in affine)
    assert any(x.shape[0] == 1 for x in affine)
    assert {x.dtype.kind for x in affine} == {"f"} and any(x.dtype == np.float32 for x in affine)
    relu = [case.inputs["x"] for case in fc.relu_forward_cases()]
    assert any(np.any(x == 0) for x in relu) and all(x.dtype.kind == "f" for x in relu)
    softmax = [case.inputs["x"] for case in fc.softmax_loss_cases()]
    assert max(np.abs(x).max() for x in softmax) >= 1e4
    assert any(x.shape[0] == 1 for x in softmax) and any(x.dtype == np.float32 for x in softmax)
    for rule in fc.STATE_KEYS:
        cases = fc.optimizer_cases(rule)
        assert any(case.inputs["config"] is None for case in cases)
        assert any(case.extra["kind"] == "steps" for case in cases)
        assert any(case.inputs["w"].dtype == np.float32 for case in cases)
    for rule in ("rmsprop", "adam"):
        epsilons = [(case.inputs["config"] or {}).get("epsilon", 1e-8) for case in fc.optimizer_cases(rule)]
        assert max(epsilons) >= 1e-2


def test_failure_message_shows_input_expected_returned_and_differing_parts():
    with pytest.raises(GradingFailure) as failure:
        fc.check_sgd_momentum(lambda w, dw, config=None: (w - 0.5e-2 * dw, {"velocity": -0.5e-2 * dw}))
    message = str(failure.value)
    assert message.startswith("sgd_momentum failed a hidden check on one step of sgd_momentum with "
                              "config=None")
    assert "input w = array of shape (3, 4)" in message and "input config = None" in message
    assert "expected:" in message and "returned:" in message
    assert "The parts that differ: next_w, config['velocity']." in message
    assert "known mistake" not in message


def test_missing_state_in_the_returned_config_is_explained():
    with pytest.raises(GradingFailure) as failure:
        fc.check_adam(lambda w, dw, config=None: (w, {}))
    assert "the config adam returned has no key 'm'" in str(failure.value)


def test_an_optimizer_that_changes_dw_fails():
    def sgd_scaling_dw(w, dw, config=None):
        dw *= 1e-2
        return w - dw, config or {}

    with pytest.raises(GradingFailure, match="modified its input dw in place"):
        fc.check_sgd(sgd_scaling_dw)


def test_no_warning_leaks_from_a_failing_check(recwarn):
    no_max = next(m for m in MUTANTS if m.name == "no max subtraction")
    with pytest.raises(GradingFailure):
        fc.check_softmax_loss(no_max.implementation)
    with pytest.raises(GradingFailure):
        fc.check_affine_backward(affine_forward_loops, lambda dout, cache: (np.log(-dout), 0, 0))
    assert len(recwarn) == 0
