"""Hidden checks of assignment 03: batch normalisation, layer normalisation, dropout, and the
FullyConnectedNet that uses them.

Expected values come from independent formulations in float64: normalisation written with explicit
sums over the normalised axis, closed-form gradients (the kit's own tests verify them against
numerical gradients), and a separate forward/backward for networks (`normalized_mlp`). Dropout is
random, so its checks are structural: every output is 0 or x / p, the fraction kept is near p over a
large tensor, the same seed gives the same output, test mode is the identity, and the backward pass
follows the mask of its own forward. Conventions the checks rely on, from the contract:
- every call gets its own copy of bn_param / ln_param / dropout_param, so a forward may fill in
  defaults with setdefault or update batch norm's running averages in place; the running averages
  are read from that copy after the call (bn_param['running_mean'], bn_param['running_var']);
- biased variance (divide by the number of values normalised), eps inside the square root;
  running = momentum * running + (1 - momentum) * batch statistic; test mode uses them and keeps them;
- a backward pass is graded on the cache of the student's own forward (train mode); gradients that
  are the exact derivative of the student's own forward are accepted too;
- dropout_param['p'] is the probability of keeping a unit; with a 'seed' the same call gives the
  same output, whichever generator draws the mask; NumPy's global random state is restored after
  every probe;
- networks are checked through `params` (set to known values after construction) and
  `loss(X, y=None)`: y given is train mode, y None test mode; normalisation layers use their
  default eps (1e-5) and momentum (0.9), and running averages start at zero.
"""
from __future__ import annotations

import copy
import functools
from typing import Any, Callable, Sequence

import numpy as np
from scipy.special import log_softmax

from assignments.gradient_check import numerical_gradient
from grader_tests.checking import Case, ContractError, GradingFailure, close, run
from grader_tests.networks import (
    INIT_SEED,
    constructor_call,
    known_params,
    loss_and_grads,
    mlp_param_shapes,
    model_params,
    params_dict,
    structure_cases,
)
from grader_tests.gradients import (
    NUMERICAL_ATOL,
    NUMERICAL_RTOL,
    adapt_mutants,
    check_backward,
    check_case_parts,
    require_forward_runs,
    split_pair,
)
from grader_tests.mutants.normalization_dropout import MUTANTS, WORKING

EPS, MOMENTUM = 1e-5, 0.9
"""The contract's defaults for bn_param and ln_param."""

# ------------------------------------------------------------------------------------ oracles


def normalize(x, axis: int, eps: float, stats=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x_hat, mean, var) in float64, with mean and var over `axis` (kept as a length-1 axis) as
    explicit sums, or the given stats = (mean, var)."""
    x = np.asarray(x, dtype=np.float64)
    if stats is None:
        count = x.shape[axis]
        mean = np.sum(x, axis=axis, keepdims=True) / count
        var = np.sum(np.square(x - mean), axis=axis, keepdims=True) / count
    else:
        mean, var = (np.asarray(s, dtype=np.float64) for s in stats)
    return (x - mean) / np.sqrt(var + eps), mean, var


def normalize_backward(x_hat, var, gamma, dout, axis: int, eps: float):
    """(dx, dgamma, dbeta) of out = gamma * x_hat + beta, x_hat normalised over `axis` with the
    statistics of the same x; closed form in float64. gamma and beta are per feature (last axis)."""
    dout = np.asarray(dout, dtype=np.float64)
    dx_hat = dout * np.asarray(gamma, dtype=np.float64)
    dx = (dx_hat - dx_hat.mean(axis=axis, keepdims=True)
          - x_hat * (dx_hat * x_hat).mean(axis=axis, keepdims=True)) / np.sqrt(var + eps)
    return dx, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)


def _keeping_random_state(function: Callable) -> Callable:
    """`function`, leaving NumPy's global random state as it found it (dropout may seed it)."""
    @functools.wraps(function)
    def wrapper(*args):
        state = np.random.get_state()
        try:
            return function(*args)
        finally:
            np.random.set_state(state)
    return wrapper


# ------------------------------------------------------------------------------- batch norm

BN_PARTS = ("out", "bn_param['running_mean']", "bn_param['running_var']")


def _features(rng, n: int, d: int) -> np.ndarray:
    """n examples of d features, each feature with its own mean and spread (a wrong axis shows)."""
    return rng.normal(rng.uniform(-3, 3, d), rng.uniform(0.5, 4.0, d), (n, d))


def _scale_shift(rng, d: int, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    return (1 + 0.5 * rng.standard_normal(d)).astype(dtype), rng.standard_normal(d).astype(dtype)


def _running(rng, d: int) -> dict[str, np.ndarray]:
    return {"running_mean": rng.standard_normal(d), "running_var": rng.uniform(0.5, 3.0, d)}


def _batchnorm_inputs() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, dict]]:
    rng = np.random.default_rng(60)
    tiny = _features(rng, 6, 4)
    tiny[:, 1] = 2.5 + 1e-4 * rng.standard_normal(6)
    tiny[:, 3] = -1.25
    return [
        ("train mode, a square input (N = D = 6), default eps and momentum, no running averages yet",
         _features(rng, 6, 6), *_scale_shift(rng, 6), {"mode": "train"}),
        ("train mode, N = 8 examples of D = 5 features, default eps and momentum",
         _features(rng, 8, 5), *_scale_shift(rng, 5), {"mode": "train"}),
        ("train mode, N = 4, D = 7, custom eps 0.1 and momentum 0.5, given running averages",
         _features(rng, 4, 7), *_scale_shift(rng, 7),
         {"mode": "train", "eps": 0.1, "momentum": 0.5, **_running(rng, 7)}),
        ("train mode, features of tiny variance (feature 1 has std 1e-4, feature 3 is constant)",
         tiny, *_scale_shift(rng, 4), {"mode": "train"}),
        ("train mode, a single example (N = 1: the batch variance is 0), given running averages",
         _features(rng, 1, 5), *_scale_shift(rng, 5), {"mode": "train", **_running(rng, 5)}),
        ("train mode, float32 x, gamma and beta, N = 10, D = 3 (float32 tolerances)",
         _features(rng, 10, 3).astype(np.float32), *_scale_shift(rng, 3, np.float32), {"mode": "train"}),
        ("test mode with given running averages (far from the batch's own statistics)",
         _features(rng, 5, 4), *_scale_shift(rng, 4), {"mode": "test", **_running(rng, 4)}),
        ("test mode, a single example, custom eps 0.5, given running averages",
         _features(rng, 1, 3), *_scale_shift(rng, 3), {"mode": "test", "eps": 0.5, **_running(rng, 3)}),
    ]


def batchnorm_reference(x, gamma, beta, bn_param) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """batchnorm_forward by the contract, in float64 (the batch norm oracle).

    Inputs: x (N, D), gamma and beta (D,), bn_param with 'mode' ('train' or 'test') and optionally
    'eps', 'momentum', 'running_mean', 'running_var' (zeros when absent).
    Returns (out (N, D), running_mean (D,), running_var (D,)), the running averages as bn_param
    holds them after the call.
    """
    p = {"eps": EPS, "momentum": MOMENTUM, **bn_param}
    d = x.shape[1]
    running_mean = np.asarray(p.get("running_mean", np.zeros(d)), dtype=np.float64)
    running_var = np.asarray(p.get("running_var", np.zeros(d)), dtype=np.float64)
    if p["mode"] == "train":
        x_hat, mean, var = normalize(x, 0, p["eps"])
        running_mean = p["momentum"] * running_mean + (1 - p["momentum"]) * mean[0]
        running_var = p["momentum"] * running_var + (1 - p["momentum"]) * var[0]
    else:
        x_hat, _, _ = normalize(x, 0, p["eps"], (running_mean, running_var))
    return (np.asarray(gamma, np.float64) * x_hat + beta, running_mean, running_var)


def batchnorm_forward_cases() -> list[Case]:
    cases = []
    for description, x, gamma, beta, bn_param in _batchnorm_inputs():
        cases.append(Case(f"{description}; expected ({', '.join(BN_PARTS)}) after the call",
                          {"x": x, "gamma": gamma, "beta": beta, "bn_param": bn_param},
                          batchnorm_reference(x, gamma, beta, bn_param)))
    return cases


def _normalization_backward_cases(inputs, param_name: str, axis: int, seed: int) -> list[Case]:
    """(dx, dgamma, dbeta) cases on (description, x, gamma, beta, param) inputs, with a random dout:
    batch norm (axis 0, param_name "bn_param") or layer norm (axis 1, "ln_param")."""
    rng = np.random.default_rng(seed)
    cases = []
    for description, x, gamma, beta, param in inputs:
        dout = rng.standard_normal(x.shape).astype(x.dtype)
        eps = (param or {}).get("eps", EPS)
        x_hat, _, var = normalize(x, axis, eps)
        cases.append(Case(f"{description}; expected (dx, dgamma, dbeta)",
                          {"x": x, "gamma": gamma, "beta": beta, param_name: param, "dout": dout},
                          normalize_backward(x_hat, var, gamma, dout, axis, eps)))
    return cases


def batchnorm_backward_cases() -> list[Case]:
    train = [inputs for inputs in _batchnorm_inputs() if inputs[-1]["mode"] == "train"]
    return _normalization_backward_cases(train, "bn_param", axis=0, seed=61)


def _batchnorm_probe(forward: Callable) -> Callable:
    """(x, gamma, beta, bn_param) -> (out, running_mean, running_var), the forward on its own copy
    of bn_param, whose running averages it reports."""
    def probe(x, gamma, beta, bn_param):
        param = copy.deepcopy(bn_param)
        out, _ = split_pair(forward(x, gamma, beta, param), "batchnorm_forward")
        if not isinstance(param, dict) or not {"running_mean", "running_var"} <= param.keys():
            raise ContractError("batchnorm_forward must keep bn_param['running_mean'] and "
                                "bn_param['running_var'] (the given code's last lines store them)")
        return out, np.array(param["running_mean"], copy=True), np.array(param["running_var"], copy=True)
    return probe


def check_batchnorm_forward(batchnorm_forward: Callable) -> None:
    """batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache), and the running averages it
    leaves in bn_param, in train and test mode."""
    for case in batchnorm_forward_cases():
        check_case_parts("batchnorm_forward", _batchnorm_probe(batchnorm_forward), case,
                         adapt_mutants(MUTANTS, "batchnorm_forward", _batchnorm_probe), BN_PARTS)


def _check_normalization_backward(name: str, forward_name: str, forward: Callable, backward: Callable,
                                  cases: list[Case]) -> None:
    for case in cases:
        check_backward(name, forward, backward, case, forward_name=forward_name,
                       wrt=("x", "gamma", "beta"), mutants=MUTANTS,
                       mutant_forward=WORKING[forward_name])


def check_batchnorm_backward(batchnorm_forward: Callable, batchnorm_backward: Callable) -> None:
    """batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta) on the cache of the student's own
    batchnorm_forward in train mode; the exact derivative of that forward is accepted too."""
    _check_normalization_backward("batchnorm_backward", "batchnorm_forward", batchnorm_forward,
                                  batchnorm_backward, batchnorm_backward_cases())


def check_batchnorm_backward_alt(batchnorm_forward: Callable, batchnorm_backward_alt: Callable) -> None:
    """batchnorm_backward_alt: the same gradients as batchnorm_backward, on the same cache."""
    _check_normalization_backward("batchnorm_backward_alt", "batchnorm_forward", batchnorm_forward,
                                  batchnorm_backward_alt, batchnorm_backward_cases())


# ------------------------------------------------------------------------------- layer norm


def _examples(rng, n: int, d: int) -> np.ndarray:
    """n examples of d features, each example with its own mean and spread."""
    return rng.normal(rng.uniform(-3, 3, (n, 1)), rng.uniform(0.5, 4.0, (n, 1)), (n, d))


def _layernorm_inputs() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, dict | None]]:
    rng = np.random.default_rng(62)
    tiny = _examples(rng, 5, 6)
    tiny[1] = 0.75 + 1e-4 * rng.standard_normal(6)
    tiny[3] = 2.0
    return [
        ("a square input (N = D = 5), ln_param {} (default eps)", _examples(rng, 5, 5),
         *_scale_shift(rng, 5), {}),
        ("N = 4 examples of D = 6 features, ln_param {}", _examples(rng, 4, 6), *_scale_shift(rng, 6), {}),
        ("N = 3, D = 8, ln_param None (all defaults)", _examples(rng, 3, 8), *_scale_shift(rng, 8), None),
        ("N = 5, D = 4, custom eps 0.5", _examples(rng, 5, 4), *_scale_shift(rng, 4), {"eps": 0.5}),
        ("a single example (N = 1) of D = 7 features, ln_param {'mode': 'test'} (layer norm is the "
         "same in both modes)", _examples(rng, 1, 7), *_scale_shift(rng, 7), {"mode": "test"}),
        ("examples of tiny variance (example 1 has std 1e-4, example 3 is constant)", tiny,
         *_scale_shift(rng, 6), {}),
        ("float32 x, gamma and beta, N = 6, D = 5 (float32 tolerances)",
         _examples(rng, 6, 5).astype(np.float32), *_scale_shift(rng, 5, np.float32), {}),
    ]


def layernorm_forward_cases() -> list[Case]:
    cases = []
    for description, x, gamma, beta, ln_param in _layernorm_inputs():
        eps = (ln_param or {}).get("eps", EPS)
        expected = np.asarray(gamma, np.float64) * normalize(x, 1, eps)[0] + beta
        cases.append(Case(f"{description}; expected out", {"x": x, "gamma": gamma, "beta": beta,
                                                           "ln_param": ln_param}, expected))
    return cases


def layernorm_backward_cases() -> list[Case]:
    return _normalization_backward_cases(_layernorm_inputs(), "ln_param", axis=1, seed=63)


def _layernorm_probe(forward: Callable) -> Callable:
    """(x, gamma, beta, ln_param) -> out, the forward on its own copy of ln_param."""
    def probe(x, gamma, beta, ln_param):
        return split_pair(forward(x, gamma, beta, copy.deepcopy(ln_param)), "layernorm_forward")[0]
    return probe


def check_layernorm_forward(layernorm_forward: Callable) -> None:
    """layernorm_forward(x, gamma, beta, ln_param) -> (out, cache): each example normalised over
    its features, then scaled by gamma and shifted by beta (per feature)."""
    for case in layernorm_forward_cases():
        check_case_parts("layernorm_forward", _layernorm_probe(layernorm_forward), case,
                         adapt_mutants(MUTANTS, "layernorm_forward", _layernorm_probe))


def check_layernorm_backward(layernorm_forward: Callable, layernorm_backward: Callable) -> None:
    """layernorm_backward(dout, cache) -> (dx, dgamma, dbeta) on the student's own cache."""
    _check_normalization_backward("layernorm_backward", "layernorm_forward", layernorm_forward,
                                  layernorm_backward, layernorm_backward_cases())


# ---------------------------------------------------------------------------------- dropout

DROPOUT_FORWARD_PARTS = {
    "train": ("all outputs are 0 or x / p", "fraction of units kept"),
    "seeds": ("the same seed twice gives the same output", "another seed gives another output"),
    "unseeded": ("two calls without a seed give different outputs",),
    "test": ("out equals x", "fraction of outputs that are 0"),
}


def _dropout_rtol(x) -> float:
    return 1e-4 if np.asarray(x).dtype == np.float32 else 1e-6


def _out_like(value: Any, x: np.ndarray, name: str = "dropout_forward") -> np.ndarray:
    out = np.asarray(split_pair(value, name)[0])
    if out.shape != x.shape:
        raise ContractError(f"{name} must return out of x's shape {x.shape}, got shape {out.shape}")
    return out


def _dropout_forward_probe(kind: str) -> Callable[[Callable], Callable]:
    """adapter(dropout_forward) -> (x, dropout_param) -> the properties of DROPOUT_FORWARD_PARTS[kind].

    The first call gets x itself (so that a change to it is seen); every call gets its own copy of
    dropout_param.
    """
    def adapter(forward):
        @_keeping_random_state
        def probe(x, dropout_param):
            out = _out_like(forward(x, copy.deepcopy(dropout_param)), x)
            again = lambda param: _out_like(forward(np.array(x, copy=True), copy.deepcopy(param)), x)
            if kind == "train":
                p = dropout_param["p"]
                scaled = np.isclose(out, np.asarray(x, np.float64) / p, rtol=_dropout_rtol(x), atol=0)
                return bool(np.all((out == 0) | scaled)), float(np.mean(out != 0))
            if kind == "seeds":
                other = {**dropout_param, "seed": dropout_param["seed"] + 1}
                return (bool(np.array_equal(out, again(dropout_param))),
                        not np.array_equal(out, again(other)))
            if kind == "unseeded":
                return (not np.array_equal(out, again(dropout_param)),)
            return bool(np.array_equal(out, x)), float(np.mean(out == 0))
        return probe
    return adapter


def dropout_forward_cases() -> list[Case]:
    """The cases of dropout_forward; case.extra["kind"] picks the probe."""
    rng = np.random.default_rng(64)
    large = rng.standard_normal((400, 500))
    images = rng.standard_normal((25, 3, 20, 28))
    specs = [
        ("train", "train mode, p = 0.3, seed 0, x of shape (400, 500)", large,
         {"p": 0.3, "mode": "train", "seed": 0}, (True, 0.3), 0.01),
        ("train", "train mode, p = 0.8 (no seed), a 4-D x of shape (25, 3, 20, 28)", images,
         {"p": 0.8, "mode": "train"}, (True, 0.8), 0.01),
        ("train", "train mode, p = 0.5, seed 7, float32 x of shape (300, 200)",
         rng.standard_normal((300, 200)).astype(np.float32), {"p": 0.5, "mode": "train", "seed": 7},
         (True, 0.5), 0.01),
        ("train", "train mode, p = 1 (keep everything), seed 3, x of shape (20, 30)",
         rng.standard_normal((20, 30)), {"p": 1.0, "mode": "train", "seed": 3}, (True, 1.0), 0.0),
        ("seeds", "train mode, p = 0.6, seed 123, x of shape (50, 40), called twice with seed 123 and "
         "once with seed 124", rng.standard_normal((50, 40)), {"p": 0.6, "mode": "train", "seed": 123},
         (True, True), 0.0),
        ("unseeded", "train mode, p = 0.5 without a seed, x of shape (50, 40), called twice",
         rng.standard_normal((50, 40)), {"p": 0.5, "mode": "train"}, (True,), 0.0),
        ("test", "test mode, p = 0.3, seed 1, x of shape (40, 60)", rng.standard_normal((40, 60)),
         {"p": 0.3, "mode": "test", "seed": 1}, (True, 0.0), 0.02),
        ("test", "test mode, p = 0.5 without a seed, a 4-D x of shape (4, 3, 5, 6)",
         rng.standard_normal((4, 3, 5, 6)), {"p": 0.5, "mode": "test"}, (True, 0.0), 0.02),
    ]
    cases = []
    for kind, description, x, param, expected, atol in specs:
        parts = DROPOUT_FORWARD_PARTS[kind]
        shown = ", ".join(f"{part}: {value}" for part, value in zip(parts, expected))
        tolerance = f" (within {atol})" if kind in ("train", "test") and atol else ""
        cases.append(Case(f"{description}; expected {shown}{tolerance}", {"x": x, "dropout_param": param},
                          expected, rtol=0.0, atol=atol, extra={"kind": kind, "parts": parts}))
    return cases


def check_dropout_forward(dropout_forward: Callable) -> None:
    """dropout_forward(x, dropout_param) -> (out, cache): inverted dropout that keeps each unit with
    probability p, reproducible with a seed, the identity in test mode; x left unchanged."""
    for case in dropout_forward_cases():
        adapter = _dropout_forward_probe(case.extra["kind"])
        check_case_parts("dropout_forward", adapter(dropout_forward), case,
                         adapt_mutants(MUTANTS, "dropout_forward", adapter), case.extra["parts"])


DROPOUT_BACKWARD_PARTS = ("dx = dout * out / x where the forward kept the unit",
                          "dx = 0 where the forward dropped the unit")


def _dropout_backward_probe(forward: Callable) -> Callable[[Callable], Callable]:
    """adapter(dropout_backward) -> (x, dropout_param, dout) -> DROPOUT_BACKWARD_PARTS as booleans.

    The backward gets the cache of `forward`'s call on the same input; which units that call kept,
    and by what factor, is read from its output (x has no zeros): the backward must follow it.
    """
    def adapter(backward):
        @_keeping_random_state
        def probe(x, dropout_param, dout):
            value = forward(np.array(x, copy=True), copy.deepcopy(dropout_param))
            out = _out_like(value, x).astype(np.float64)
            dx = np.asarray(backward(dout, split_pair(value, "dropout_forward")[1]))
            if dx.shape != x.shape:
                raise ContractError(f"dropout_backward must return dx of x's shape {x.shape}, "
                                    f"got shape {dx.shape}")
            kept = out != 0
            expected = np.asarray(dout, np.float64) * out / np.asarray(x, np.float64)
            # equal_nan: where a broken forward returned NaN (0 / 0 at p = 1, say), a backward
            # consistent with it returns NaN too; the forward's own check grades the forward
            follows = np.allclose(dx[kept], expected[kept], rtol=_dropout_rtol(x), atol=0, equal_nan=True)
            return (bool(follows),
                    bool(np.all(dx[~kept] == 0)))
        return probe
    return adapter


def dropout_backward_cases() -> list[Case]:
    rng = np.random.default_rng(65)
    specs = [
        ("train mode, p = 0.4, seed 5, x of shape (50, 60)", rng.standard_normal((50, 60)),
         {"p": 0.4, "mode": "train", "seed": 5}),
        ("train mode, p = 0.75 (no seed), a 3-D x of shape (8, 5, 6)", rng.standard_normal((8, 5, 6)),
         {"p": 0.75, "mode": "train"}),
        ("train mode, p = 0.5, seed 2, float32 x and dout of shape (30, 20)",
         rng.standard_normal((30, 20)).astype(np.float32), {"p": 0.5, "mode": "train", "seed": 2}),
        ("train mode, p = 1, seed 4, x of shape (10, 12)", rng.standard_normal((10, 12)),
         {"p": 1.0, "mode": "train", "seed": 4}),
        ("test mode, p = 0.3, x of shape (20, 15) (expected dx = dout)", rng.standard_normal((20, 15)),
         {"p": 0.3, "mode": "test"}),
    ]
    cases = []
    for description, x, param in specs:
        dout = rng.standard_normal(x.shape).astype(x.dtype)
        cases.append(Case(f"{description}, dx from the cache of the same dropout_forward call; expected "
                          f"({', '.join(DROPOUT_BACKWARD_PARTS)}) to hold",
                          {"x": x, "dropout_param": param, "dout": dout}, (True, True), rtol=0.0, atol=0.0))
    return cases


def check_dropout_backward(dropout_forward: Callable, dropout_backward: Callable) -> None:
    """dropout_backward(dout, cache) -> dx on the cache of the student's own dropout_forward: the
    gradient flows through the units that forward kept, by the factor it applied; dout unchanged."""
    mutants = adapt_mutants(MUTANTS, "dropout_backward",
                            _dropout_backward_probe(WORKING["dropout_forward"]))
    for case in dropout_backward_cases():
        forward_inputs = {k: v for k, v in case.inputs.items() if k != "dout"}
        require_forward_runs("dropout_backward", _keeping_random_state(dropout_forward),
                             "dropout_forward", case.description, forward_inputs)
        check_case_parts("dropout_backward", _dropout_backward_probe(dropout_forward)(dropout_backward),
                         case, mutants, DROPOUT_BACKWARD_PARTS)


# ------------------------------------------------------------------------------------ networks

NET = "FullyConnectedNet"
CONSTRUCTOR_ARGS = ("hidden_dims", "input_dim", "num_classes", "dropout_keep_ratio", "normalization",
                    "reg", "weight_scale", "dtype", "seed")


def normalized_mlp(X, params: dict[str, Any], num_layers: int, normalization: str | None = None,
                   y=None, reg: float = 0.0, running: Sequence[tuple] | None = None) -> dict[str, Any]:
    """affine - [batch/layer norm] - relu - ... - affine - softmax, in float64, without dropout.

    Inputs:
    - params: W1, b1, ... (and gamma1, beta1, ... of the hidden layers when normalised).
    - normalization: None, 'batchnorm' or 'layernorm'.
    - running: None for train mode (batch norm uses the batch's statistics), or test mode's
      [(running_mean, running_var) per hidden layer].
    - y: labels, for the loss and gradients (train mode only).

    Returns a dict: 'scores'; 'stats', the batch statistics [(mean, var) per hidden layer] of batch
    norm in train mode; with y also 'loss' (with 0.5 * reg * sum of every W**2) and 'grads'.
    """
    P = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    h = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    axis = 1 if normalization == "layernorm" else 0
    tape, stats = [], []
    for i in range(1, num_layers + 1):
        record = {"input": h}
        z = h @ P[f"W{i}"] + P[f"b{i}"]
        if i < num_layers:
            if normalization is not None:
                given = running[i - 1] if normalization == "batchnorm" and running is not None else None
                z_hat, mean, var = normalize(z, axis, EPS, given)
                if normalization == "batchnorm" and running is None:
                    stats.append((mean[0], var[0]))
                record.update(z_hat=z_hat, var=var)
                z = P[f"gamma{i}"] * z_hat + P[f"beta{i}"]
            record["active"] = z > 0
            z = np.maximum(z, 0)
        tape.append(record)
        h = z
    result = {"scores": h, "stats": stats}
    if y is None:
        return result
    n = len(X)
    log_p = log_softmax(h, axis=1)
    loss = -np.mean(log_p[np.arange(n), y])
    loss += 0.5 * reg * sum(np.sum(np.square(P[f"W{i}"])) for i in range(1, num_layers + 1))
    delta = (np.exp(log_p) - np.eye(h.shape[1])[y]) / n
    grads = {}
    for i in range(num_layers, 0, -1):
        record = tape[i - 1]
        if i < num_layers:
            delta = delta * record["active"]
            if normalization is not None:
                delta, grads[f"gamma{i}"], grads[f"beta{i}"] = normalize_backward(
                    record["z_hat"], record["var"], P[f"gamma{i}"], delta, axis, EPS)
        grads[f"W{i}"] = record["input"].T @ delta + reg * P[f"W{i}"]
        grads[f"b{i}"] = delta.sum(axis=0)
        delta = delta @ P[f"W{i}"].T
    result.update(loss=loss, grads=grads)
    return result


def _build(Net: type, kwargs: dict[str, Any]):
    """Net(hidden_dims, **other constructor arguments), with np.random seeded first."""
    kwargs = {k: v for k, v in kwargs.items() if k in CONSTRUCTOR_ARGS}
    args = [kwargs.pop("hidden_dims")]
    np.random.seed(INIT_SEED)
    return Net(*args, **kwargs)


def _set_params(model, values: dict[str, Any]) -> None:
    params = params_dict(model)
    model_params(model, list(values))  # every key exists before any is replaced
    for key, value in values.items():
        params[key] = np.array(value, copy=True)


def _loss_and_grads(model, X, y, keys: Sequence[str]) -> tuple[Any, list[Any]]:
    return loss_and_grads(model, X, y, keys, f"{NET}.loss(X, y)")


def _own_numerical_gradients(model, X, y, keys: Sequence[str]) -> list[np.ndarray]:
    """Numerical gradients of the model's own loss(X, y)[0] with respect to params[k].

    Each perturbed value is stored with `params[k] = value` rather than changed in place: the
    model lives in the student's kernel, and `params[k]` is a copy of its array there.
    """
    params = params_dict(model)

    def loss_at(key: str) -> Callable[[np.ndarray], float]:
        def loss(value: np.ndarray) -> float:
            params[key] = value
            return float(model.loss(X, y)[0])
        return loss

    gradients = []
    for key in keys:
        value = np.array(params[key], copy=True)
        gradients.append(numerical_gradient(loss_at(key), value))
        params[key] = value
    return gradients


def _net_probe(case: Case) -> Callable[[type], Callable]:
    """adapter(Net) -> function(*case inputs) that builds a network and reports one property.

    case.extra: "kind" (what to report, see below), "keys" (parameter names it concerns), "params"
    (the names among the inputs of parameter values to set after construction), and for some kinds
    "without dropout" (the oracle's loss or scores of the same network without dropout).
    """
    extra = case.extra
    kind, keys, names = extra["kind"], extra["keys"], list(case.inputs)

    def adapter(Net):
        @_keeping_random_state
        def probe(*values):
            given = dict(zip(names, values))
            model = _build(Net, given)
            params = params_dict(model)
            if kind == "names":
                return (*(k in params for k in keys), len(params))
            if kind == "init":
                return tuple(np.array(value, copy=True) for value in model_params(model, keys))
            if kind == "dtypes":
                dtype = np.dtype(given.get("dtype", np.float32))
                return tuple(k in params and np.asarray(params[k]).dtype == dtype for k in keys)
            _set_params(model, {k: given[k] for k in extra["params"]})
            X, y = given["X"], given.get("y")
            if kind == "scores after a training step":
                _loss_and_grads(model, X, y, [])
                return model.loss(given["X_test"])
            if kind == "loss":
                loss, grads = _loss_and_grads(model, X, y, keys)
                return (loss, *grads)
            if kind == "deterministic":
                first, second = (_loss_and_grads(model, X, y, keys) for _ in range(2))
                same = close(first[0], second[0], 0.0, 0.0) and all(
                    close(a, b, 0.0, 0.0) for a, b in zip(first[1], second[1]))
                return (same,)
            if kind == "consistent":
                _, grads = _loss_and_grads(model, X, y, keys)
                numerical = _own_numerical_gradients(model, X, y, keys)
                return tuple(close(g, num, NUMERICAL_RTOL, NUMERICAL_ATOL)
                             for g, num in zip(grads, numerical))
            if kind == "dropout in training":
                loss, _ = _loss_and_grads(model, X, y, [])
                return (not close(loss, extra["without dropout"], 1e-6, 1e-9),)
            if kind == "test scores":
                return (close(model.loss(X), extra["without dropout"], 1e-6, 1e-9),)
            raise ValueError(f"unknown probe kind {kind!r}")
        return probe
    return adapter


def _call(kwargs: dict[str, Any]) -> str:
    return constructor_call(NET, kwargs, positional=("hidden_dims",))


def _dims(kwargs: dict[str, Any]) -> list[int]:
    return [kwargs["input_dim"], *kwargs["hidden_dims"], kwargs["num_classes"]]


def _structure_cases(kwargs: dict[str, Any], kinds: Sequence[str]) -> list[Case]:
    """"names" (exactly the contract's parameters), "init" (gamma ones, beta zeros), "dtypes"."""
    shapes = mlp_param_shapes(_dims(kwargs), normalized=kwargs.get("normalization") is not None)
    return structure_cases(_call(kwargs), kwargs, shapes, kinds, dtype=kwargs.get("dtype", np.float32))


def _value_cases(kwargs: dict[str, Any], X, y, seed: int, *, X_test=None, dtype=np.float64,
                 note: str = "") -> list[Case]:
    """(loss, grads) = loss(X, y) and, given X_test, the scores loss(X_test) after that training
    step, with params set to known values, against `normalized_mlp`."""
    dims = _dims(kwargs)
    L, normalization = len(dims) - 1, kwargs.get("normalization")
    params = known_params(np.random.default_rng(seed), dims, normalization is not None, dtype)
    keys = list(params)
    call = f"{_call(kwargs)} on X of shape {np.shape(X)}{note}"
    set_params = f"params {', '.join(keys)} set to known values"
    train = normalized_mlp(X, params, L, normalization, y, kwargs.get("reg", 0.0))
    parts = ["loss", *(f"grads[{k!r}]" for k in keys)]
    extra = {"keys": keys, "params": keys}
    cases = [Case(f"model.loss(X, y) (train mode) of {call} with {set_params}; expected ({', '.join(parts)})",
                  {**kwargs, "X": X, "y": y, **params}, (train["loss"], *(train["grads"][k] for k in keys)),
                  extra={**extra, "kind": "loss", "parts": parts})]
    if X_test is not None:
        running = [((1 - MOMENTUM) * mean, (1 - MOMENTUM) * var) for mean, var in train["stats"]]
        scores = normalized_mlp(X_test, params, L, normalization, running=running or None)["scores"]
        what = ("batch norm normalises with the running averages, which one training step moved from 0 "
                "to 0.1 * the batch's statistics" if normalization == "batchnorm" else "test mode")
        cases.append(Case(f"scores = model.loss(X_test) (test mode, X_test of shape {np.shape(X_test)}) "
                          f"right after one model.loss(X, y) of {call} with {set_params}; expected the "
                          f"scores of the last affine layer ({what})",
                          {**kwargs, "X": X, "y": y, "X_test": X_test, **params}, scores,
                          extra={**extra, "kind": "scores after a training step", "parts": None}))
    return cases


def fully_connected_net_normalization_cases() -> list[Case]:
    """The FullyConnectedNet cases with batch and layer normalisation (no dropout), in checking order."""
    rng = np.random.default_rng(70)
    cases = []
    for normalization in ("batchnorm", "layernorm"):
        deep = {"hidden_dims": [6, 5, 4], "input_dim": 8, "num_classes": 3, "normalization": normalization}
        cases += _structure_cases(deep, ["names", "init", "dtypes"])
    shallow = {"hidden_dims": [7], "input_dim": 10, "num_classes": 4, "normalization": "batchnorm",
               "dtype": np.float64}
    cases += _structure_cases(shallow, ["names", "dtypes"])
    cases += _structure_cases({"hidden_dims": [6, 5], "input_dim": 8, "num_classes": 3}, ["names"])
    X4, y4 = rng.standard_normal((6, 2, 5)), rng.integers(0, 4, 6)
    runs = [
        ({"hidden_dims": [7, 6], "input_dim": 10, "num_classes": 4, "normalization": "batchnorm", "reg": 0.0},
         X4, y4, rng.standard_normal((3, 2, 5))),
        ({"hidden_dims": [6, 6], "input_dim": 10, "num_classes": 4, "normalization": "batchnorm", "reg": 0.4},
         X4.reshape(6, 10), y4, rng.standard_normal((1, 10))),
        ({"hidden_dims": [5, 7], "input_dim": 10, "num_classes": 4, "normalization": "layernorm", "reg": 0.3},
         X4, y4, rng.standard_normal((2, 2, 5))),
        ({"hidden_dims": [6, 5], "input_dim": 10, "num_classes": 4, "normalization": None, "reg": 0.2},
         X4, y4, None),
    ]
    for kwargs, X, y, X_test in runs:
        cases += _value_cases({**kwargs, "dtype": np.float64}, X, y, 71, X_test=X_test)
    f32 = {"hidden_dims": [6, 5], "input_dim": 10, "num_classes": 4, "normalization": "batchnorm", "reg": 0.1}
    cases += _value_cases(f32, X4.astype(np.float32), y4, 72, dtype=np.float32,
                          note=" (the default dtype float32: float32 tolerances)")
    return cases


def _dropout_net_cases(kwargs: dict[str, Any], X, y, seed: int, kinds: Sequence[str]) -> list[Case]:
    dims = _dims(kwargs)
    normalization = kwargs.get("normalization")
    params = known_params(np.random.default_rng(seed), dims, normalization is not None)
    keys = list(params)
    plain = normalized_mlp(X, params, len(dims) - 1, normalization, y, kwargs.get("reg", 0.0))
    call = f"{_call(kwargs)} on X of shape {np.shape(X)} with params {', '.join(keys)} set to known values"
    specs = {
        "deterministic": (f"two calls of model.loss(X, y) of {call}; expected the same loss and "
                          f"gradients (the seed makes dropout's masks reproducible)",
                          ("same loss and grads twice",), "X y"),
        "consistent": (f"model.loss(X, y) of {call}: its gradients against numerical gradients of the "
                       f"same model's loss; expected a match for every parameter",
                       tuple(f"grads[{k!r}]" for k in keys), "X y"),
        "dropout in training": (f"model.loss(X, y) (train mode) of {call}; expected a loss different from "
                                f"the same network's without dropout ({plain['loss']:.6f}): dropout is on "
                                f"in training", ("loss differs from the loss without dropout",), "X y"),
        "test scores": (f"scores = model.loss(X) (test mode) of {call}; expected the scores of the same "
                        f"network without dropout: dropout is off at test time",
                        ("scores equal those without dropout",), "X"),
    }
    cases = []
    for kind in kinds:
        description, parts, data = specs[kind]
        inputs = {**kwargs, **{"X": X, "y": y}, **params} if data == "X y" else {**kwargs, "X": X, **params}
        without = plain["loss"] if kind == "dropout in training" else plain["scores"]
        cases.append(Case(description, inputs, tuple(True for _ in parts), rtol=0.0, atol=0.0,
                          extra={"kind": kind, "keys": keys, "params": keys, "parts": parts,
                                 "without dropout": without}))
    return cases


def fully_connected_net_dropout_cases() -> list[Case]:
    """The FullyConnectedNet cases with dropout (dropout_keep_ratio < 1), in checking order."""
    rng = np.random.default_rng(73)
    wide = {"hidden_dims": [40, 30], "input_dim": 12, "num_classes": 5, "dropout_keep_ratio": 0.5,
            "reg": 0.1, "dtype": np.float64, "seed": 3}
    X, y = rng.standard_normal((8, 12)), rng.integers(0, 5, 8)
    cases = _dropout_net_cases(wide, X, y, 74, ["deterministic", "dropout in training", "test scores"])
    small = {"hidden_dims": [9, 7], "input_dim": 6, "num_classes": 4, "dropout_keep_ratio": 0.6,
             "reg": 0.2, "dtype": np.float64, "seed": 5}
    cases += _dropout_net_cases(small, rng.standard_normal((5, 6)), rng.integers(0, 4, 5), 75, ["consistent"])
    for normalization, seed in (("batchnorm", 7), ("layernorm", 8)):
        kwargs = {"hidden_dims": [8, 6], "input_dim": 5, "num_classes": 3, "dropout_keep_ratio": 0.7,
                  "normalization": normalization, "reg": 0.05, "dtype": np.float64, "seed": seed}
        X, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
        kinds = ["consistent", "test scores"] if normalization == "layernorm" else ["consistent"]
        cases += _dropout_net_cases(kwargs, X, y, 76, kinds)
    return cases


def consistent_with_own_loss(Net: type, case: Case) -> bool:
    """Whether a network's gradients deserve credit on a "loss" case although they miss the oracle.

    Inputs:
    - Net: the network class (FullyConnectedNet's contract).
    - case: a case of kind "loss" from `fully_connected_net_normalization_cases()` or
      `fully_connected_net_dropout_cases()`.
    Returns True when the case is float64, Net's loss matches the expected loss and its gradients
    are the numerical gradients of its own loss (the exact derivative of what it computes);
    False otherwise, also when the network raises.
    """
    if np.dtype(case.inputs.get("dtype", np.float32)) != np.float64:
        return False
    keys, given = case.extra["keys"], case.inputs

    @_keeping_random_state
    def consistent():
        model = _build(Net, given)
        _set_params(model, {k: given[k] for k in case.extra["params"]})
        loss, grads = _loss_and_grads(model, given["X"], given["y"], keys)
        if not close(loss, case.expected[0], *(NUMERICAL_RTOL, NUMERICAL_ATOL)):
            return False
        numerical = _own_numerical_gradients(model, given["X"], given["y"], keys)
        return all(close(g, n, NUMERICAL_RTOL, NUMERICAL_ATOL) for g, n in zip(grads, numerical))

    outcome = run(consistent, {})
    return outcome.error is None and bool(outcome.value)


def _check_network(Net: type, cases: list[Case]) -> None:
    for case in cases:
        adapter = _net_probe(case)
        try:
            check_case_parts(NET, adapter(Net), case, adapt_mutants(MUTANTS, NET, adapter),
                             case.extra["parts"])
        except GradingFailure as failure:
            if case.extra["kind"] != "loss":
                raise
            if consistent_with_own_loss(Net, case):
                continue
            raise failure.with_line("These gradients do not match numerical gradients "
                                    "of your own loss on this input either.") from None


def check_fully_connected_net_normalization(FullyConnectedNet: type) -> None:
    """FullyConnectedNet with normalization 'batchnorm' or 'layernorm': parameter names, initial
    gamma and beta, dtypes, loss and gradients in train mode, scores in test mode."""
    _check_network(FullyConnectedNet, fully_connected_net_normalization_cases())


def check_fully_connected_net_dropout(FullyConnectedNet: type) -> None:
    """FullyConnectedNet with dropout_keep_ratio < 1: reproducible with a seed, on in training, off
    at test time, and gradients consistent with its own loss (also with normalisation)."""
    _check_network(FullyConnectedNet, fully_connected_net_dropout_cases())
