"""Hidden checks of assignment 02 (fully-connected networks): layers, loss, optimizers, networks.

Expected values come from independent formulations: `np.einsum` on the flattened input for affine
layers, closed-form gradients verified against numerical ones (the kit's own tests do that),
`scipy.special.log_softmax` for the loss, the contract's update formulas for the optimizers, and a
separate einsum forward/backward for the networks. Conventions the checks rely on, from the
contract:
- a backward pass gets the cache the student's own forward returned, never one built here;
- ReLU's gradient at exactly 0 is 0: dx = dout * (x > 0);
- softmax_loss is a mean over the batch; its huge-score case keeps the correct class near the
  row maximum, so -log(p) of a max-shifted softmax is accepted as well as log-sum-exp;
- optimizer state is read from the returned config only ('velocity', 'cache', 'm', 'v', 't'),
  in-place and copying updates alike, and extra keys are ignored;
- networks are checked through `params` (set to known values after construction, as the Solver
  assigns them) and `loss(X, y=None)`; X may have any shape (N, d1, ..., dk).
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Sequence

import numpy as np
from scipy.special import log_softmax

from grader_tests.checking import Case, ContractError
from grader_tests.gradients import (
    adapt_mutants,
    check_backward,
    check_case_parts,
    check_forward,
    split_pair,
)
from grader_tests.networks import constructor_call, known_params, mlp_param_shapes, net_probe, structure_cases
from grader_tests.mutants.fully_connected import MUTANTS, WORKING

# ---------------------------------------------------------------------------------------- affine


def affine_reference(x, w, b) -> np.ndarray:
    """out = x.reshape(N, D) @ w + b in float64, with np.einsum (the affine oracle).

    Inputs: x of shape (N, d1, ..., dk) with D = d1 * ... * dk, w (D, M), b (M,).
    Returns out of shape (N, M), float64.
    """
    x = np.asarray(x, dtype=np.float64)
    return np.einsum("nd,dm->nm", x.reshape(x.shape[0], -1), np.asarray(w, dtype=np.float64)) + b


def _affine_inputs() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20)
    return [
        ("a batch of 3 inputs of shape (2, 3, 4) (D = 24) and M = 5 outputs",
         rng.standard_normal((3, 2, 3, 4)), rng.standard_normal((24, 5)), rng.standard_normal(5)),
        ("2-D x with N = 4 examples, D = 6, M = 3", rng.standard_normal((4, 6)),
         rng.standard_normal((6, 3)), rng.standard_normal(3)),
        ("a single example (N = 1) of shape (3, 5) and M = 2", rng.standard_normal((1, 3, 5)),
         rng.standard_normal((15, 2)), rng.standard_normal(2)),
        ("whole-number inputs (float64 holding integers), x of shape (2, 3, 2) and M = 4",
         *(rng.integers(-4, 5, shape).astype(np.float64) for shape in [(2, 3, 2), (6, 4), (4,)])),
        ("float32 inputs, x of shape (5, 4, 2) and M = 7",
         rng.standard_normal((5, 4, 2)).astype(np.float32),
         rng.standard_normal((8, 7)).astype(np.float32), rng.standard_normal(7).astype(np.float32)),
    ]


def affine_forward_cases() -> list[Case]:
    return [Case(f"{description}; expected out", {"x": x, "w": w, "b": b}, affine_reference(x, w, b))
            for description, x, w, b in _affine_inputs()]


def affine_backward_cases() -> list[Case]:
    rng = np.random.default_rng(21)
    cases = []
    for description, x, w, b in _affine_inputs():
        shape = (x.shape[0], w.shape[1])
        dout = (rng.integers(-3, 4, shape) if x.dtype.kind == "i"
                else rng.standard_normal(shape).astype(x.dtype))
        x_flat = np.asarray(x, dtype=np.float64).reshape(x.shape[0], -1)
        d = np.asarray(dout, dtype=np.float64)
        expected = (np.einsum("nm,dm->nd", d, w).reshape(x.shape),
                    np.einsum("nd,nm->dm", x_flat, d),
                    np.einsum("nm->m", d))
        cases.append(Case(f"{description}; expected (dx, dw, db)",
                          {"x": x, "w": w, "b": b, "dout": dout}, expected))
    return cases


def check_affine_forward(affine_forward: Callable) -> None:
    """affine_forward(x, w, b) -> (out, cache): out = x flattened to (N, D) @ w + b."""
    for case in affine_forward_cases():
        check_forward("affine_forward", affine_forward, case, MUTANTS)


def check_affine_backward(affine_forward: Callable, affine_backward: Callable) -> None:
    """affine_backward(dout, cache) -> (dx, dw, db), on the cache of the student's affine_forward.

    dx has x's original shape. Gradients that are the exact derivative of the student's own
    affine_forward are accepted too (that forward is graded by its own check).
    """
    for case in affine_backward_cases():
        check_backward("affine_backward", affine_forward, affine_backward, case,
                       forward_name="affine_forward", wrt=("x", "w", "b"), mutants=MUTANTS,
                       mutant_forward=WORKING["affine_forward"])


# ------------------------------------------------------------------------------------------ relu


def _relu_inputs() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(22)
    return [
        ("a 3 x 4 input with both signs", rng.standard_normal((3, 4))),
        ("float input with exact zeros (whole numbers in float64)",
         rng.integers(-2, 3, (3, 6)).astype(np.float64)),
        ("a 4-D input of shape (2, 3, 4, 5)", rng.standard_normal((2, 3, 4, 5))),
        ("a single example (N = 1)", rng.standard_normal((1, 7))),
        ("float32 input", rng.standard_normal((4, 3)).astype(np.float32)),
    ]


def relu_forward_cases() -> list[Case]:
    return [Case(f"{description}; expected out", {"x": x}, np.where(x > 0, x, 0))
            for description, x in _relu_inputs()]


def relu_backward_cases() -> list[Case]:
    rng = np.random.default_rng(23)
    cases = []
    for description, x in _relu_inputs():
        dtype = np.float32 if x.dtype == np.float32 else np.float64
        dout = rng.standard_normal(x.shape).astype(dtype)
        cases.append(Case(f"{description}; expected dx = dout * (x > 0)", {"x": x, "dout": dout},
                          np.where(x > 0, dout, 0.0)))
    return cases


def check_relu_forward(relu_forward: Callable) -> None:
    """relu_forward(x) -> (out, cache): out = max(0, x) elementwise, x left unchanged."""
    for case in relu_forward_cases():
        check_forward("relu_forward", relu_forward, case, MUTANTS)


def check_relu_backward(relu_forward: Callable, relu_backward: Callable) -> None:
    """relu_backward(dout, cache) -> dx = dout * (x > 0), on the student's own cache.

    The gradient at exact zeros is 0 by convention, so numerical gradients (0.5 there) are no
    oracle here: only the closed form is accepted. dout must be left unchanged.
    """
    for case in relu_backward_cases():
        check_backward("relu_backward", relu_forward, relu_backward, case,
                       forward_name="relu_forward", wrt=("x",), mutants=MUTANTS,
                       mutant_forward=WORKING["relu_forward"], numerical=False)


# ---------------------------------------------------------------------------------- softmax_loss


def softmax_loss_cases() -> list[Case]:
    rng = np.random.default_rng(24)
    inputs = [
        ("5 examples x 4 classes", 3 * rng.standard_normal((5, 4)), rng.integers(0, 4, 5)),
        ("a single example (N = 1) with 6 classes", rng.standard_normal((1, 6)), np.array([4])),
        ("3 examples x 7 classes", 2 * rng.standard_normal((3, 7)), np.array([6, 0, 3])),
        ("8 examples x 3 classes", rng.standard_normal((8, 3)), rng.integers(0, 3, 8)),
        ("huge scores (up to 1e4 in magnitude; each correct class within 2 of its row maximum)",
         np.array([[1e4, 0.0, -1e4], [1000.0, 1000.0, 999.0], [-1e4, -1e4 + 1, -1e4 + 2],
                   [5e3, -5e3, 5e3 - 2]]), np.array([0, 2, 1, 2])),
        ("whole-number scores (float64 holding integers, with ties)", rng.integers(-5, 6, (4, 5)).astype(np.float64),
         np.array([0, 4, 2, 2])),
        ("float32 scores", (4 * rng.standard_normal((6, 5))).astype(np.float32), rng.integers(0, 5, 6)),
    ]
    cases = []
    for description, x, y in inputs:
        log_p = log_softmax(np.asarray(x, dtype=np.float64), axis=1)
        n = x.shape[0]
        one_hot = np.eye(x.shape[1])[y]
        expected = (-np.mean(log_p[np.arange(n), y]), (np.exp(log_p) - one_hot) / n)
        cases.append(Case(f"{description}; expected (loss, dx)", {"x": x, "y": y}, expected))
    return cases


def check_softmax_loss(softmax_loss: Callable) -> None:
    """softmax_loss(x, y) -> (loss, dx): mean cross-entropy of softmax(x) and its gradient."""
    for case in softmax_loss_cases():
        check_case_parts("softmax_loss", softmax_loss, case, MUTANTS, ("loss", "dx"))


# ---------------------------------------------------------------------------------- optimizers

STATE_KEYS = {"sgd": (), "sgd_momentum": ("velocity",), "rmsprop": ("cache",), "adam": ("m", "v", "t")}
"""The state each update rule keeps in its config, under the contract's names."""

DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}


def optimizer_step_reference(rule: str, w: np.ndarray, dw: np.ndarray, config: dict | None
                             ) -> tuple[np.ndarray, dict]:
    """One update of the contract's optimizer `rule`, in float64 (the optimizer oracle).

    Inputs:
    - rule: "sgd", "sgd_momentum", "rmsprop" or "adam".
    - w, dw: the weights and their gradient, of the same shape.
    - config: the hyper-parameters and state so far, or None; missing entries take the
      contract's defaults.
    Returns (next_w, config) with config holding every hyper-parameter and the new state
    ('velocity'; 'cache'; 'm', 'v' and 't').
    """
    c = {**DEFAULTS[rule], **(config or {})}
    w, dw = np.asarray(w, dtype=np.float64), np.asarray(dw, dtype=np.float64)
    lr = c["learning_rate"]
    if rule == "sgd":
        return w - lr * dw, c
    if rule == "sgd_momentum":
        c["velocity"] = c["momentum"] * c.get("velocity", 0.0) - lr * dw
        return w + c["velocity"], c
    if rule == "rmsprop":
        decay = c["decay_rate"]
        c["cache"] = decay * c.get("cache", 0.0) + (1 - decay) * dw**2
        return w - lr * dw / (np.sqrt(c["cache"]) + c["epsilon"]), c
    b1, b2 = c["beta1"], c["beta2"]
    c["t"] = c.get("t", 0) + 1
    c["m"] = b1 * c.get("m", 0.0) + (1 - b1) * dw
    c["v"] = b2 * c.get("v", 0.0) + (1 - b2) * dw**2
    m_hat, v_hat = c["m"] / (1 - b1**c["t"]), c["v"] / (1 - b2**c["t"])
    return w - lr * m_hat / (np.sqrt(v_hat) + c["epsilon"]), c


def _state(config: Any, rule: str) -> tuple:
    """The state kept in a returned config, in STATE_KEYS order; ContractError if it is missing."""
    if not isinstance(config, dict):
        raise ContractError(f"{rule} must return (next_w, config) with config a dict, "
                            f"but config is a {type(config).__name__}")
    state = []
    for key in STATE_KEYS[rule]:
        if key not in config:
            raise ContractError(
                f"the config {rule} returned has no key {key!r} (its keys: {sorted(config)}); "
                f"store the new {key} in config[{key!r}] so that the next step can use it")
        value = config[key]
        state.append(np.array(value, copy=True) if key != "t" else value)
    return tuple(state)


def _one_step_probe(rule: str) -> Callable[[Callable], Callable]:
    """adapter(update) -> (w, dw, config) -> (next_w, *state read from the returned config).

    w and config are copied first, so an update in place is as good as one that builds new arrays.
    """
    def adapter(update):
        def step(w, dw, config):
            next_w, returned = split_pair(update(np.array(w, copy=True), dw, copy.deepcopy(config)),
                                          rule, ("next_w", "config"))
            return (np.array(next_w, copy=True), *_state(returned, rule))
        return step
    return adapter


def _steps_probe(rule: str) -> Callable[[Callable], Callable]:
    """adapter(update) -> (w, dws, config) -> (every next_w stacked, *final state).

    Each step gets the w and config the previous step returned, as the Solver does.
    """
    def adapter(update):
        def steps(w, dws, config):
            w, config, history = np.array(w, copy=True), copy.deepcopy(config), []
            for dw in dws:
                w, config = split_pair(update(w, dw, config), rule, ("next_w", "config"))
                history.append(np.array(w, copy=True))
            return (np.stack(history), *_state(config, rule))
        return steps
    return adapter


def _expected(rule: str, w, dws, config, stacked: bool = True) -> tuple:
    """(every next_w stacked, or the only one, *final state) by the contract's formulas."""
    history, config = [], copy.deepcopy(config)
    for dw in dws:
        w, config = optimizer_step_reference(rule, w, dw, config)
        history.append(w)
    return (np.stack(history) if stacked else history[-1]), *(config[key] for key in STATE_KEYS[rule])


def _state_parts(rule: str) -> list[str]:
    return [f"config[{key!r}]" for key in STATE_KEYS[rule]]


def optimizer_cases(rule: str) -> list[Case]:
    """The cases of one update rule; case.extra["kind"] ("one step" or "steps") picks the probe."""
    rng = np.random.default_rng({"sgd": 30, "sgd_momentum": 31, "rmsprop": 32, "adam": 33}[rule])
    shape = (3, 4)
    w, dw = rng.standard_normal(shape), rng.standard_normal(shape)
    w32, dw32 = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
    dws = rng.standard_normal((3, *shape))
    velocity = 0.1 * rng.standard_normal(shape)
    cache = 0.5 * rng.random(shape) + 0.01
    m, v = 0.1 * rng.standard_normal(shape), 0.5 * rng.random(shape) + 0.01
    one_step = {
        "sgd": [("config=None (defaults)", None),
                ("learning_rate 0.3", {"learning_rate": 0.3}),
                ("an extra key in config", {"learning_rate": 0.05, "note": "kept"})],
        "sgd_momentum": [
            ("config=None (defaults, zero velocity)", None),
            ("a partial config: learning_rate 0.1 only", {"learning_rate": 0.1}),
            ("a starting velocity and default learning_rate and momentum", {"velocity": velocity}),
            ("a full config: learning_rate 0.05, momentum 0.5, a starting velocity",
             {"learning_rate": 0.05, "momentum": 0.5, "velocity": velocity})],
        "rmsprop": [
            ("config=None (defaults, zero cache)", None),
            ("a starting cache and the default hyper-parameters", {"cache": cache}),
            ("a custom epsilon 0.1, decay_rate 0.9, learning_rate 0.1 and a starting cache",
             {"learning_rate": 0.1, "decay_rate": 0.9, "epsilon": 0.1, "cache": cache}),
            ("a partial config: epsilon 0.01 only", {"epsilon": 1e-2})],
        "adam": [
            ("config=None (defaults: zero moments, t = 0)", None),
            ("starting moments m, v and t = 5 with the default hyper-parameters",
             {"m": m, "v": v, "t": 5}),
            ("a custom epsilon 0.1, beta1 0.5, beta2 0.75, learning_rate 0.01, moments and t = 2",
             {"learning_rate": 1e-2, "beta1": 0.5, "beta2": 0.75, "epsilon": 0.1, "m": m, "v": v, "t": 2}),
            ("a partial config: epsilon 0.5 only", {"epsilon": 0.5})],
    }[rule]
    f32 = {k: np.asarray(a, dtype=np.float32) for k, a in (("velocity", velocity), ("cache", cache),
                                                           ("m", m), ("v", v))}
    float32_config = {"sgd": ("learning_rate 0.1", {"learning_rate": 0.1}),
                      "sgd_momentum": ("a float32 starting velocity", {"velocity": f32["velocity"]}),
                      "rmsprop": ("a float32 starting cache", {"cache": f32["cache"]}),
                      "adam": ("float32 moments m, v and t = 3",
                               {"m": f32["m"], "v": f32["v"], "t": 3})}[rule]
    several = {"sgd": [None], "sgd_momentum": [None, {"momentum": 0.8, "learning_rate": 0.03}],
               "rmsprop": [None, {"decay_rate": 0.5}], "adam": [None, {"beta1": 0.7, "t": 1}]}[rule]

    def one(description, w, dw, config):
        parts = ["next_w", *_state_parts(rule)]
        return Case(f"one step of {rule} with {description}; expected ({', '.join(parts)}), the "
                    f"state read from the returned config", {"w": w, "dw": dw, "config": config},
                    _expected(rule, w, dw[None], config, stacked=False),
                    extra={"kind": "one step", "parts": parts})

    cases = [one(description, w, dw, config) for description, config in one_step]
    cases.append(one(f"float32 w and dw, {float32_config[0]}", w32, dw32, float32_config[1]))
    for config in several:
        start = "config=None" if config is None else f"config {config}"
        parts = ["next_w after each step", *(f"{p} after the last step" for p in _state_parts(rule))]
        cases.append(Case(
            f"{len(dws)} consecutive steps of {rule} from {start}, each step given the w and config "
            f"the previous one returned; expected ({', '.join(parts)})",
            {"w": w, "dws": dws, "config": config}, _expected(rule, w, dws, config),
            extra={"kind": "steps", "parts": parts}))
    return cases


def _check_update_rule(rule: str, update: Callable) -> None:
    for case in optimizer_cases(rule):
        adapter = _one_step_probe(rule) if case.extra["kind"] == "one step" else _steps_probe(rule)
        check_case_parts(rule, adapter(update), case, adapt_mutants(MUTANTS, rule, adapter),
                         case.extra["parts"])


def check_sgd(sgd: Callable) -> None:
    """sgd(w, dw, config=None) -> (next_w, config): next_w = w - learning_rate * dw (default 1e-2)."""
    _check_update_rule("sgd", sgd)


def check_sgd_momentum(sgd_momentum: Callable) -> None:
    """sgd_momentum: v = momentum * v - learning_rate * dw; next_w = w + v; v in config['velocity']."""
    _check_update_rule("sgd_momentum", sgd_momentum)


def check_rmsprop(rmsprop: Callable) -> None:
    """rmsprop: cache = decay * cache + (1 - decay) * dw**2; w - lr * dw / (sqrt(cache) + eps)."""
    _check_update_rule("rmsprop", rmsprop)


def check_adam(adam: Callable) -> None:
    """adam: t += 1 first; bias-corrected moments m, v; state in config['m'], ['v'], ['t']."""
    _check_update_rule("adam", adam)


# -------------------------------------------------------------------------------------- networks

CONSTRUCTOR_ARGS = {
    "TwoLayerNet": ("input_dim", "hidden_dim", "num_classes", "weight_scale", "reg"),
    "FullyConnectedNet": ("hidden_dims", "input_dim", "num_classes", "reg", "weight_scale", "dtype"),
}
DEFAULT_WEIGHT_SCALE = {"TwoLayerNet": 1e-3, "FullyConnectedNet": 1e-2}


def mlp_reference(X, layers: Sequence[tuple[np.ndarray, np.ndarray]], y=None, reg: float = 0.0):
    """affine - relu - ... - affine - softmax in float64, by einsum: scores, or (loss, gradients).

    The gradients come as [dW1, db1, dW2, db2, ...]; the L2 term 0.5 * reg * sum(W**2) covers the
    weight matrices only.
    """
    activations = [np.asarray(X, dtype=np.float64).reshape(len(X), -1)]
    for i, (W, b) in enumerate(layers):
        z = np.einsum("nd,dm->nm", activations[-1], np.asarray(W, np.float64)) + np.asarray(b, np.float64)
        activations.append(z if i == len(layers) - 1 else np.maximum(z, 0))
    scores = activations[-1]
    if y is None:
        return scores
    n = len(X)
    log_p = log_softmax(scores, axis=1)
    loss = -np.mean(log_p[np.arange(n), y]) + 0.5 * reg * sum(np.sum(np.square(W, dtype=np.float64))
                                                             for W, _ in layers)
    delta = (np.exp(log_p) - np.eye(scores.shape[1])[y]) / n
    gradients: list[np.ndarray] = []
    for i in reversed(range(len(layers))):
        W = np.asarray(layers[i][0], np.float64)
        gradients[:0] = [np.einsum("nd,nm->dm", activations[i], delta) + reg * W, delta.sum(axis=0)]
        delta = np.einsum("nm,dm->nd", delta, W) * (activations[i] > 0)
    return loss, gradients


def _net_probe(name: str, case: Case) -> Callable[[type], Callable]:
    """networks.net_probe for `case` of TwoLayerNet or FullyConnectedNet (hidden_dims is positional)."""
    return net_probe(case.extra["kind"], list(case.inputs), case.extra["keys"],
                     constructor_args=CONSTRUCTOR_ARGS[name],
                     default_weight_scale=DEFAULT_WEIGHT_SCALE[name], default_dtype=np.float32,
                     loss_name=f"{name}.loss(X, y)", positional=("hidden_dims",))


def _structure_cases(name: str, kwargs: dict[str, Any], dims: Sequence[int], call: str,
                     kinds: Sequence[str]) -> list[Case]:
    """Cases on a freshly built network: "shapes", "biases" (zero), "weight std", "dtypes"."""
    return structure_cases(call, kwargs, mlp_param_shapes(dims), kinds,
                           weight_scale=kwargs.get("weight_scale", DEFAULT_WEIGHT_SCALE[name]),
                           dtype=kwargs.get("dtype", np.float32))


def _loss_cases(name: str, kwargs: dict[str, Any], dims: Sequence[int], X, y, seed: int,
                call: str, scores: bool = True, dtype=np.float64) -> list[Case]:
    """scores = loss(X) (when `scores`) and (loss, grads) = loss(X, y), with params set to known values."""
    params = known_params(np.random.default_rng(seed), dims, False, dtype)
    keys = list(params)
    layers = [(params[f"W{i}"], params[f"b{i}"]) for i in range(1, len(dims))]
    set_params = f"params {', '.join(keys)} set to known values"
    cases = []
    if scores:
        cases.append(Case(f"scores = model.loss(X) (y=None) of {call} with {set_params}; expected the "
                          f"scores of the last affine layer", {**kwargs, "X": X, **params},
                          mlp_reference(X, layers), extra={"kind": "scores", "keys": keys, "parts": None}))
    loss, gradients = mlp_reference(X, layers, y, kwargs.get("reg", 0.0))
    parts = ["loss", *(f"grads[{k!r}]" for k in keys)]
    cases.append(Case(f"model.loss(X, y) of {call} with {set_params}; expected ({', '.join(parts)})",
                      {**kwargs, "X": X, "y": y, **params}, (loss, *gradients),
                      extra={"kind": "loss", "keys": keys, "parts": parts}))
    return cases


def _call(name: str, kwargs: dict[str, Any]) -> str:
    return constructor_call(name, kwargs, positional=("hidden_dims",))


def two_layer_net_cases() -> list[Case]:
    """The TwoLayerNet cases, in the order they are checked."""
    name = "TwoLayerNet"
    rng = np.random.default_rng(40)
    init = {"input_dim": 200, "hidden_dim": 50, "num_classes": 40, "weight_scale": 1e-2}
    cases = _structure_cases(name, init, [200, 50, 40], _call(name, init), ["shapes", "biases", "weight std"])
    X4, y4 = rng.standard_normal((5, 3, 2, 2)), rng.integers(0, 4, 5)
    X2, y2 = rng.standard_normal((3, 12)), np.array([3, 0, 1])
    for reg, X, y, scores in ((0.0, X4, y4, True), (0.7, X4, y4, False), (0.25, X2, y2, True)):
        kwargs = {"input_dim": 12, "hidden_dim": 7, "num_classes": 4, "weight_scale": 1e-3, "reg": reg}
        cases += _loss_cases(name, kwargs, [12, 7, 4], X, y, 41,
                             f"{_call(name, kwargs)} on X of shape {X.shape}", scores=scores)
    cases += _structure_cases(name, {}, [3072, 100, 10], "TwoLayerNet() (the defaults)",
                              ["shapes", "weight std"])
    Xd, yd = rng.standard_normal((2, 3, 32, 32)), np.array([9, 2])
    cases += _loss_cases(name, {}, [3072, 100, 10], Xd, yd, 42,
                         "TwoLayerNet() (default reg = 0.0) on X of shape (2, 3, 32, 32)", scores=False)
    return cases


def fully_connected_net_cases() -> list[Case]:
    """The FullyConnectedNet cases (normalization=None, dropout_keep_ratio=1), in checking order."""
    name = "FullyConnectedNet"
    rng = np.random.default_rng(50)
    deep = {"hidden_dims": [6, 5, 4], "input_dim": 8, "num_classes": 3}
    cases = _structure_cases(name, deep, [8, 6, 5, 4, 3], _call(name, deep), ["shapes", "biases", "dtypes"])
    shallow = {"hidden_dims": [7], "input_dim": 10, "num_classes": 4, "dtype": np.float64}
    cases += _structure_cases(name, shallow, [10, 7, 4], _call(name, shallow), ["shapes", "biases", "dtypes"])
    spread = {"hidden_dims": [60, 50], "input_dim": 80, "num_classes": 40, "weight_scale": 5e-2}
    cases += _structure_cases(name, spread, [80, 60, 50, 40], _call(name, spread), ["weight std"])
    X4, y4 = rng.standard_normal((5, 3, 2, 2)), rng.integers(0, 4, 5)
    X2, y2 = rng.standard_normal((4, 9)), np.array([2, 2, 0, 1])
    runs = [({"hidden_dims": [6, 5], "input_dim": 12, "num_classes": 4, "reg": 0.0}, X4, y4, True),
            ({"hidden_dims": [6, 5, 4], "input_dim": 12, "num_classes": 4, "reg": 0.6}, X4, y4, False),
            ({"hidden_dims": [8], "input_dim": 9, "num_classes": 3, "reg": 0.3}, X2, y2, True)]
    for kwargs, X, y, scores in runs:
        kwargs = {**kwargs, "dtype": np.float64}
        dims = [kwargs["input_dim"], *kwargs["hidden_dims"], kwargs["num_classes"]]
        cases += _loss_cases(name, kwargs, dims, X, y, 51, f"{_call(name, kwargs)} on X of shape {X.shape}",
                             scores=scores)
    f32 = {"hidden_dims": [6, 5], "input_dim": 12, "num_classes": 4, "reg": 0.1, "dtype": np.float32}
    cases += _loss_cases(name, f32, [12, 6, 5, 4], X4.astype(np.float32), y4, 52,
                         f"{_call(name, f32)} on float32 X of shape (5, 3, 2, 2) (float32 tolerances)",
                         scores=False, dtype=np.float32)
    cases += _structure_cases(name, {"hidden_dims": [100]}, [3072, 100, 10],
                              "FullyConnectedNet([100]) (the other arguments default)",
                              ["shapes", "dtypes", "weight std"])
    return cases


def _check_network(name: str, Net: type, cases: list[Case]) -> None:
    for case in cases:
        adapter = _net_probe(name, case)
        check_case_parts(name, adapter(Net), case, adapt_mutants(MUTANTS, name, adapter),
                         case.extra["parts"])


def check_two_layer_net(TwoLayerNet: type) -> None:
    """TwoLayerNet: parameter shapes and initialisation, scores, loss and gradients with L2 reg."""
    _check_network("TwoLayerNet", TwoLayerNet, two_layer_net_cases())


def check_fully_connected_net(FullyConnectedNet: type) -> None:
    """FullyConnectedNet (no dropout, no normalization): shapes, init, dtype, scores, loss, grads."""
    _check_network("FullyConnectedNet", FullyConnectedNet, fully_connected_net_cases())
