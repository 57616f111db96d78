"""Hidden checks of assignment 04 (convolutional networks): convolution, pooling, spatial batch
norm, the fast convolution's speed, and ThreeLayerConvNet.

Expected values come from independent formulations:
- convolution: `scipy.signal.correlate` of the zero-padded input with each filter, subsampled by
  the stride; its gradients in closed form with `scipy.signal.correlate`/`convolve` on the
  stride-dilated upstream gradient (the kit's tests compare them with numerical gradients);
- average pooling: sums of an integral image (cumulative sums); max pooling: sliding windows;
- spatial batch norm: per-channel statistics of x moved to (C, N*H*W), and the gradient as the
  explicit per-channel Jacobian of the normalisation applied to dout;
- ThreeLayerConvNet: a float64 forward/backward built from the oracles above.

Conventions the checks rely on, from the contract:
- a backward pass gets the cache the student's own forward returned, never one built here, and a
  backward that is the exact derivative of the student's own forward is accepted too;
- H' = 1 + (H + 2 * pad - HH) // stride (rows and columns left over are simply not covered),
  likewise H' = 1 + (H - pool_height) // stride for pooling;
- max pooling with tied maxima: any dx that sends each window's gradient to its maximal elements
  (non-negative shares of dout, summed over overlapping windows) is accepted;
- batch norm keeps running_mean/running_var in bn_param (read after the call), biased variance,
  eps 1e-5 and momentum 0.9 unless bn_param gives them; test mode uses the running averages.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.optimize import nnls
from scipy.signal import convolve, correlate
from scipy.special import log_softmax

from assignments.jail.remote import one_blas_thread, process_of
from assignments.speed import Timing, best_times, cpu_time_visible
from grader_tests.checking import Case, ContractError, GradingFailure, check_case, run
from grader_tests.gradients import (
    require_forward_runs,
    adapt_mutants,
    backward_through,
    check_backward,
    check_case_parts,
    check_forward,
    split_pair,
)
from grader_tests.networks import constructor_call, net_probe, structure_cases
from grader_tests.mutants.cnn import MUTANTS, WORKING

FLOAT32_TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}
"""For float32 cases whose outputs are sums of a few dozen products of unit-scale numbers."""

# ----------------------------------------------------------------------------------- conv oracle


def _f64(*arrays):
    return tuple(np.asarray(a, dtype=np.float64) for a in arrays)


def _pad(x: np.ndarray, pad: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def conv_reference(x, w, b, conv_param) -> np.ndarray:
    """Cross-correlation of the zero-padded x with each filter, plus its bias, in float64."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    x, w, b = _f64(x, w, b)
    x_pad = _pad(x, pad)
    return np.array([[correlate(x_pad[n], w[f], mode="valid", method="direct")[0, ::stride, ::stride] + b[f]
                      for f in range(w.shape[0])] for n in range(x.shape[0])])


def conv_gradients_reference(x, w, b, conv_param, dout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dw, db) of the convolution in closed form, in float64.

    With dout dilated by the stride (zeros between its entries): dw[f, c] is the valid
    correlation of the padded x[:, c] with it, and the padded dx[n, c] is the sum over f of its
    full convolution with w[f, c].
    """
    stride, pad = conv_param["stride"], conv_param["pad"]
    x, w, dout = _f64(x, w, dout)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = dout.shape[2:]
    x_pad = _pad(x, pad)
    dilated = np.zeros((N, F, (H_out - 1) * stride + 1, (W_out - 1) * stride + 1))
    dilated[:, :, ::stride, ::stride] = dout
    dw = np.array([[correlate(x_pad[:, c], dilated[:, f], mode="valid", method="direct")[0, :HH, :WW]
                    for c in range(C)] for f in range(F)])
    dx_pad = np.zeros(x_pad.shape)
    rows, cols = dilated.shape[2] + HH - 1, dilated.shape[3] + WW - 1
    for f in range(F):
        for c in range(C):
            dx_pad[:, c, :rows, :cols] += convolve(dilated[:, f], w[f, c][None], mode="full",
                                                   method="direct")
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))


# --------------------------------------------------------------------------------- conv checks

WHOLE_NUMBERS = "whole numbers"
"""Marks an input of integer values held in float64: exact zeros and ties, in a dtype the course uses."""


_CONV_INPUTS = [
    # description, x shape, w shape, stride, pad, dtype
    ("N = 2, C = 3, a 7 x 5 input, F = 4 filters of 3 x 2, stride 1, pad 0",
     (2, 3, 7, 5), (4, 3, 3, 2), 1, 0, np.float64),
    ("N = 2, C = 2, an 8 x 7 input, F = 3 filters of 3 x 3, stride 2, pad 1",
     (2, 2, 8, 7), (3, 2, 3, 3), 2, 1, np.float64),
    ("N = 3, C = 2, a 6 x 9 input, F = 2 filters of 2 x 4 (wider than tall), stride 1, pad 2",
     (3, 2, 6, 9), (2, 2, 2, 4), 1, 2, np.float64),
    ("N = 2, C = 2, a 7 x 6 input, F = 3 filters of 2 x 2, stride 2, pad 0 (H' = 1 + 5 // 2 = 3: "
     "the last row is left over)", (2, 2, 7, 6), (3, 2, 2, 2), 2, 0, np.float64),
    ("a single image (N = 1) with one channel (C = 1) and one filter (F = 1): a 5 x 6 input, "
     "a 3 x 3 kernel, stride 1, pad 1", (1, 1, 5, 6), (1, 1, 3, 3), 1, 1, np.float64),
    ("whole-number inputs (float64 holding integers, exact zeros): N = 2, C = 2, a 5 x 4 input, "
     "F = 3 filters of 2 x 3, stride 1, pad 1", (2, 2, 5, 4), (3, 2, 2, 3), 1, 1, WHOLE_NUMBERS),
    ("float32 inputs: N = 2, C = 3, a 6 x 6 input, F = 4 filters of 3 x 3, stride 2, pad 2",
     (2, 3, 6, 6), (4, 3, 3, 3), 2, 2, np.float32),
]


def _random(rng, shape, dtype):
    if dtype == WHOLE_NUMBERS:
        return rng.integers(-3, 4, shape).astype(np.float64)
    return rng.standard_normal(shape).astype(dtype)


def _tolerance(dtype) -> dict:
    return FLOAT32_TOLERANCE if dtype == np.float32 else {}


def _conv_inputs(seed: int):
    rng = np.random.default_rng(seed)
    for description, x_shape, w_shape, stride, pad, dtype in _CONV_INPUTS:
        x, w, b = _random(rng, x_shape, dtype), _random(rng, w_shape, dtype), _random(rng, w_shape[0], dtype)
        yield description, x, w, b, {"stride": stride, "pad": pad}, dtype


def conv_forward_cases() -> list[Case]:
    return [Case(f"{description}; expected out", {"x": x, "w": w, "b": b, "conv_param": conv_param},
                 conv_reference(x, w, b, conv_param), **_tolerance(dtype))
            for description, x, w, b, conv_param, dtype in _conv_inputs(60)]


def conv_backward_cases() -> list[Case]:
    rng = np.random.default_rng(61)
    cases = []
    for description, x, w, b, conv_param, dtype in _conv_inputs(62):
        dout = _random(rng, conv_reference(x, w, b, conv_param).shape, dtype)
        cases.append(Case(f"{description}; expected (dx, dw, db)",
                          {"x": x, "w": w, "b": b, "conv_param": conv_param, "dout": dout},
                          conv_gradients_reference(x, w, b, conv_param, dout), **_tolerance(dtype)))
    return cases


def check_conv_forward(conv_forward: Callable, name: str = "conv_forward_naive") -> None:
    """conv_forward(x, w, b, conv_param) -> (out, cache): zero-padded cross-correlation plus bias.

    Used for conv_forward_naive and conv_forward_fast alike (name says which, for the messages
    and the catalogue of mistakes). x, w, b and conv_param must be left unchanged.
    """
    for case in conv_forward_cases():
        check_forward(name, conv_forward, case, MUTANTS)


def check_conv_backward(conv_forward: Callable, conv_backward: Callable,
                        name: str = "conv_backward_naive") -> None:
    """conv_backward(dout, cache) -> (dx, dw, db) on the cache of the student's own conv_forward.

    Used for the naive and the fast pair alike (name: "conv_backward_naive" or
    "conv_backward_fast"). Gradients that are the exact derivative of the student's own forward
    are accepted too (that forward is graded by its own check).
    """
    forward_name = name.replace("backward", "forward")
    mutant_forward = WORKING.get(forward_name, WORKING["conv_forward_naive"])
    for case in conv_backward_cases():
        check_backward(name, conv_forward, conv_backward, case, forward_name=forward_name,
                       wrt=("x", "w", "b"), mutants=MUTANTS, mutant_forward=mutant_forward)


# ------------------------------------------------------------------------------ pooling oracles


def _pool_param(pool_param) -> tuple[int, int, int]:
    return pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]


def _pool_out_shape(x_shape, pool_param) -> tuple[int, int]:
    ph, pw, stride = _pool_param(pool_param)
    return 1 + (x_shape[2] - ph) // stride, 1 + (x_shape[3] - pw) // stride


def max_pool_reference(x, pool_param) -> np.ndarray:
    ph, pw, stride = _pool_param(pool_param)
    windows = sliding_window_view(np.asarray(x, dtype=np.float64), (ph, pw), axis=(2, 3))
    return windows[:, :, ::stride, ::stride].max(axis=(4, 5))


def _windows(x_shape, pool_param):
    """(i, j, rows, cols) of every pooling window."""
    ph, pw, stride = _pool_param(pool_param)
    H_out, W_out = _pool_out_shape(x_shape, pool_param)
    for i in range(H_out):
        for j in range(W_out):
            yield i, j, slice(i * stride, i * stride + ph), slice(j * stride, j * stride + pw)


def max_pool_first_max_routing(x, pool_param, dout) -> np.ndarray:
    """dx with each window's dout sent to its first maximum (row-major), summed over windows."""
    x, dout = _f64(x, dout)
    dx = np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i, j, rows, cols in _windows(x.shape, pool_param):
                window = x[n, c, rows, cols]
                a, d = np.unravel_index(np.argmax(window), window.shape)
                dx[n, c, rows.start + a, cols.start + d] += dout[n, c, i, j]
    return dx


def is_valid_max_pool_routing(x, pool_param, dout, dx, tol: float = 1e-7) -> bool:
    """Whether dx = sum over windows of dout * (non-negative shares of the window's maxima, summing to 1).

    Decided by non-negative least squares on the shares: one unknown per (window, maximal
    element), one equation per element of dx and one per window (shares sum to 1).
    """
    x, dout = _f64(x, dout)
    try:
        dx = np.asarray(dx, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if dx.shape != x.shape or not np.all(np.isfinite(dx)):
        return False
    unknowns, window_values = [], []
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i, j, rows, cols in _windows(x.shape, pool_param):
                window = x[n, c, rows, cols]
                for a, d in zip(*np.nonzero(window == window.max())):
                    element = np.ravel_multi_index((n, c, rows.start + a, cols.start + d), x.shape)
                    unknowns.append((len(window_values), element))
                window_values.append(dout[n, c, i, j])
    A = np.zeros((x.size + len(window_values), len(unknowns)))
    for k, (window, element) in enumerate(unknowns):
        A[element, k] = window_values[window]
        A[x.size + window, k] = 1.0
    target = np.concatenate([dx.ravel(), np.ones(len(window_values))])
    shares, _ = nnls(A, target, maxiter=50 * len(unknowns))
    return bool(np.max(np.abs(A @ shares - target), initial=0.0) <= tol * max(1.0, np.abs(dout).max()))


def avg_pool_reference(x, pool_param) -> np.ndarray:
    """Window means from an integral image (cumulative sums over rows and columns)."""
    ph, pw, stride = _pool_param(pool_param)
    x = np.asarray(x, dtype=np.float64)
    integral = np.zeros((*x.shape[:2], x.shape[2] + 1, x.shape[3] + 1))
    integral[:, :, 1:, 1:] = x.cumsum(axis=2).cumsum(axis=3)
    H_out, W_out = _pool_out_shape(x.shape, pool_param)
    top, left = stride * np.arange(H_out)[:, None], stride * np.arange(W_out)[None, :]
    total = (integral[:, :, top + ph, left + pw] - integral[:, :, top, left + pw]
             - integral[:, :, top + ph, left] + integral[:, :, top, left])
    return total / (ph * pw)


def avg_pool_gradient_reference(x_shape, pool_param, dout) -> np.ndarray:
    ph, pw, _ = _pool_param(pool_param)
    dout = np.asarray(dout, dtype=np.float64)
    dx = np.zeros(x_shape)
    for i, j, rows, cols in _windows(x_shape, pool_param):
        dx[:, :, rows, cols] += dout[:, :, i, j][:, :, None, None] / (ph * pw)
    return dx


# ------------------------------------------------------------------------------ pooling checks

_POOL_INPUTS = [
    # description, x shape, pool_height, pool_width, stride
    ("N = 2, C = 3, a 6 x 8 input, 2 x 2 windows, stride 2", (2, 3, 6, 8), 2, 2, 2),
    ("overlapping 3 x 2 windows (pool_height 3, pool_width 2), stride 1, on a 7 x 5 input, N = 2, C = 2",
     (2, 2, 7, 5), 3, 2, 1),
    ("2 x 3 windows (pool_height 2, pool_width 3), stride 2, on a 7 x 8 input, N = 2, C = 2 "
     "(H' = W' = 3: the last row and column are left over)", (2, 2, 7, 8), 2, 3, 2),
    ("a single image (N = 1) with one channel (C = 1): 3 x 3 windows overlapping by one "
     "(stride 2) on a 7 x 9 input", (1, 1, 7, 9), 3, 3, 2),
    ("2 x 1 windows (pool_height 2, pool_width 1), stride 3 (gaps between windows), "
     "on an 8 x 7 input, N = 1, C = 2", (1, 2, 8, 7), 2, 1, 3),
]


def _distinct(rng, shape, offset: float = 0.0) -> np.ndarray:
    """Distinct whole numbers centred on `offset` (no ties, so exactly one maximum per window)."""
    size = int(np.prod(shape))
    return (rng.permutation(size) - size // 2 + offset).reshape(shape).astype(np.float64)


def _pool_inputs(seed: int, kind: str):
    rng = np.random.default_rng(seed)
    for description, shape, ph, pw, stride in _POOL_INPUTS:
        x = _distinct(rng, shape) if kind == "max" else 3 * rng.standard_normal(shape)
        yield description, x, {"pool_height": ph, "pool_width": pw, "stride": stride}


def max_pool_forward_cases() -> list[Case]:
    cases = [Case(f"{description}, distinct values of both signs; expected out",
                  {"x": x, "pool_param": p}, max_pool_reference(x, p))
             for description, x, p in _pool_inputs(70, "max")]
    rng = np.random.default_rng(71)
    pool = {"pool_height": 2, "pool_width": 3, "stride": 1}
    extra = [
        ("all values negative, N = 2, C = 2, a 5 x 6 input, 2 x 3 windows, stride 1",
         _distinct(rng, (2, 2, 5, 6), offset=-200.0)),
        ("whole-number input (float64 holding distinct integers), N = 2, C = 2, a 4 x 6 input, 2 x 3 "
         "windows, stride 1", _distinct(rng, (2, 2, 4, 6))),
        ("float32 input, N = 2, C = 3, a 5 x 5 input, 2 x 3 windows, stride 1",
         rng.standard_normal((2, 3, 5, 5)).astype(np.float32)),
    ]
    cases += [Case(f"{description}; expected out", {"x": x, "pool_param": pool}, max_pool_reference(x, pool))
              for description, x in extra]
    return cases


def _dout_for(rng, out_shape) -> np.ndarray:
    """Upstream gradients of magnitude 0.5 to 2 and random sign (never near 0)."""
    return rng.choice([-1.0, 1.0], out_shape) * rng.uniform(0.5, 2.0, out_shape)


def max_pool_backward_cases() -> list[Case]:
    """Tie-free inputs: one maximum per window, so dx is unique."""
    rng = np.random.default_rng(72)
    cases = []
    for description, x, p in _pool_inputs(73, "max"):
        dout = _dout_for(rng, (*x.shape[:2], *_pool_out_shape(x.shape, p)))
        cases.append(Case(f"{description}, distinct values (no ties); expected dx",
                          {"x": x, "pool_param": p, "dout": dout}, max_pool_first_max_routing(x, p, dout)))
    return cases


def max_pool_tie_cases() -> list[Case]:
    """Inputs with tied maxima; expected holds one valid routing (the first maximum of each window)."""
    rng = np.random.default_rng(74)
    inputs = [
        ("2 x 2 windows, stride 2, on values in {0, 1} (many tied maxima), N = 2, C = 2, a 4 x 6 input",
         rng.integers(0, 2, (2, 2, 4, 6)).astype(np.float64), (2, 2, 2)),
        ("3 x 3 windows overlapping by one (stride 2) on values in {0, 1, 2}, N = 1, C = 2, a 7 x 7 input",
         rng.integers(0, 3, (1, 2, 7, 7)).astype(np.float64), (3, 3, 2)),
        ("a constant input (every element ties), 2 x 3 windows, stride 1, N = 1, C = 1, a 4 x 5 input",
         np.full((1, 1, 4, 5), 0.5), (2, 3, 1)),
    ]
    cases = []
    for description, x, (ph, pw, stride) in inputs:
        p = {"pool_height": ph, "pool_width": pw, "stride": stride}
        dout = _dout_for(rng, (*x.shape[:2], *_pool_out_shape(x.shape, p)))
        cases.append(Case(
            f"{description}; any dx that sends each window's dout to its maximal elements (one of them, "
            f"or shared among them in non-negative parts), summed over overlapping windows, is accepted; "
            f"expected shows one such dx (each window's first maximum)",
            {"x": x, "pool_param": p, "dout": dout}, max_pool_first_max_routing(x, p, dout)))
    return cases


def avg_pool_forward_cases() -> list[Case]:
    cases = [Case(f"{description}; expected out", {"x": x, "pool_param": p}, avg_pool_reference(x, p))
             for description, x, p in _pool_inputs(75, "avg")]
    rng = np.random.default_rng(76)
    p = {"pool_height": 3, "pool_width": 2, "stride": 2}
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    cases.append(Case("float32 input, N = 2, C = 3, a 7 x 6 input, 3 x 2 windows, stride 2; expected out",
                      {"x": x, "pool_param": p}, avg_pool_reference(x, p)))
    return cases


def avg_pool_backward_cases() -> list[Case]:
    rng = np.random.default_rng(77)
    cases = []
    for description, x, p in _pool_inputs(78, "avg"):
        dout = rng.standard_normal((*x.shape[:2], *_pool_out_shape(x.shape, p)))
        cases.append(Case(f"{description}; expected dx", {"x": x, "pool_param": p, "dout": dout},
                          avg_pool_gradient_reference(x.shape, p, dout)))
    p = {"pool_height": 3, "pool_width": 2, "stride": 2}
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    dout = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    cases.append(Case("float32 input and dout, N = 2, C = 3, a 7 x 6 input, 3 x 2 windows, stride 2; "
                      "expected dx", {"x": x, "pool_param": p, "dout": dout},
                      avg_pool_gradient_reference(x.shape, p, dout)))
    return cases


def check_max_pool_forward(max_pool_forward: Callable, name: str = "max_pool_forward_naive") -> None:
    """max_pool_forward(x, pool_param) -> (out, cache): the maximum of each window, per channel."""
    for case in max_pool_forward_cases():
        check_forward(name, max_pool_forward, case, MUTANTS)


def check_max_pool_backward(max_pool_forward: Callable, max_pool_backward: Callable,
                            name: str = "max_pool_backward_naive") -> None:
    """max_pool_backward(dout, cache) -> dx on the cache of the student's own max_pool_forward.

    Tie-free inputs first (dx is unique); then inputs with tied maxima, where every valid routing
    of each window's gradient to its maximal elements is accepted.
    """
    forward_name = name.replace("backward", "forward")
    mutant_forward = WORKING["max_pool_forward_naive"]
    for case in max_pool_backward_cases():
        check_backward(name, max_pool_forward, max_pool_backward, case, forward_name=forward_name,
                       wrt=("x",), mutants=MUTANTS, mutant_forward=mutant_forward)
    for case in max_pool_tie_cases():
        check_tie_routing(name, max_pool_forward, max_pool_backward, case, forward_name, mutant_forward)


def check_tie_routing(name: str, forward: Callable, backward: Callable, case: Case, forward_name: str,
                      mutant_forward: Callable) -> None:
    """Grade a max-pool backward on one case with tied maxima, where many dx are right.

    Inputs:
    - name: the backward's name in messages ("max_pool_backward_naive").
    - forward, backward: the student's pair; backward gets the cache of forward(x, pool_param).
    - case: one of `max_pool_tie_cases()` (inputs x, pool_param, dout).
    - forward_name: the forward's name in messages.
    - mutant_forward: the forward whose cache the catalogued backward mistakes read.

    Returns None when dx is a valid routing (`is_valid_max_pool_routing`); raises GradingFailure
    otherwise, naming a catalogued mistake when one gives the same dx.
    """
    forward_inputs = {k: v for k, v in case.inputs.items() if k != "dout"}
    require_forward_runs(name, forward, forward_name, case.description, forward_inputs)
    student = backward_through(forward, backward, forward_name)
    outcome = run(student, case.inputs)
    if (outcome.error is None and not outcome.modified
            and is_valid_max_pool_routing(case.inputs["x"], case.inputs["pool_param"], case.inputs["dout"],
                                          outcome.value)):
        return
    mutants = adapt_mutants(MUTANTS, name, lambda b: backward_through(mutant_forward, b, forward_name))
    try:
        check_case(name, student, case, mutants)
    except GradingFailure as failure:
        if outcome.error is not None or outcome.modified:
            raise
        raise failure.with_line("Your dx is not a valid routing: some gradient reaches an element that is "
                                "not a maximum of its window, or a window's parts do not add up to its dout."
                                ) from None


def check_avg_pool_forward(avg_pool_forward: Callable, name: str = "avg_pool_forward") -> None:
    """avg_pool_forward(x, pool_param) -> (out, cache): the mean of each window, per channel."""
    for case in avg_pool_forward_cases():
        check_forward(name, avg_pool_forward, case, MUTANTS)


def check_avg_pool_backward(avg_pool_forward: Callable, avg_pool_backward: Callable,
                            name: str = "avg_pool_backward") -> None:
    """avg_pool_backward(dout, cache) -> dx on the cache of the student's own avg_pool_forward."""
    forward_name = name.replace("backward", "forward")
    for case in avg_pool_backward_cases():
        check_backward(name, avg_pool_forward, avg_pool_backward, case, forward_name=forward_name,
                       wrt=("x",), mutants=MUTANTS,
                       mutant_forward=WORKING["avg_pool_forward"])


# -------------------------------------------------------------------------- spatial batch norm


def spatial_batchnorm_reference(x, gamma, beta, bn_param) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(out, running_mean, running_var after the call) in float64, statistics over N, H, W."""
    x, gamma, beta = _f64(x, gamma, beta)
    C = x.shape[1]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = np.asarray(bn_param.get("running_mean", np.zeros(C)), dtype=np.float64)
    running_var = np.asarray(bn_param.get("running_var", np.zeros(C)), dtype=np.float64)
    if bn_param["mode"] == "train":
        channels = x.transpose(1, 0, 2, 3).reshape(C, -1)
        mean = channels.mean(axis=1)
        var = np.mean((channels - mean[:, None]) ** 2, axis=1)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    shape = (1, C, 1, 1)
    x_hat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape), running_mean, running_var


def spatial_batchnorm_gradients_reference(x, gamma, bn_param, dout) -> tuple[np.ndarray, ...]:
    """(dx, dgamma, dbeta) of train-mode spatial batch norm, through each channel's Jacobian.

    For a channel's M = N*H*W values with normalised x_hat and s = sqrt(var + eps):
    d out_i / d x_j = gamma / s * (delta_ij - 1/M - x_hat_i * x_hat_j / M).
    """
    x, gamma, dout = _f64(x, gamma, dout)
    eps = bn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    M = N * H * W
    dx, dgamma, dbeta = np.zeros(x.shape), np.zeros(C), np.zeros(C)
    for c in range(C):
        values, upstream = x[:, c].ravel(), dout[:, c].ravel()
        s = np.sqrt(values.var() + eps)
        x_hat = (values - values.mean()) / s
        jacobian = gamma[c] / s * (np.eye(M) - 1.0 / M - np.outer(x_hat, x_hat) / M)
        dx[:, c] = (jacobian.T @ upstream).reshape(N, H, W)
        dgamma[c], dbeta[c] = upstream @ x_hat, upstream.sum()
    return dx, dgamma, dbeta


def _bn_input(rng, shape, stds, dtype=np.float64) -> np.ndarray:
    """Channels with their own spread and mean; examples offset by half a channel's spread."""
    N, C = shape[:2]
    x = rng.standard_normal(shape) + 0.5 * rng.standard_normal(N)[:, None, None, None]
    x = x * np.asarray(stds)[None, :, None, None] + rng.uniform(-3, 3, C)[None, :, None, None]
    return x.astype(dtype)


def _scale_shift(rng, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gamma, beta) for x's channels, in x's dtype: gamma in [0.5, 2], beta standard normal."""
    C = x.shape[1]
    return rng.uniform(0.5, 2.0, C).astype(x.dtype), rng.standard_normal(C).astype(x.dtype)


def spatial_batchnorm_forward_cases() -> list[Case]:
    rng = np.random.default_rng(80)
    inputs = [
        ("train mode, N = 4, C = 3, a 5 x 6 input; bn_param = {'mode': 'train'} (the running averages "
         "start from zeros)", _bn_input(rng, (4, 3, 5, 6), [1.0, 2.5, 0.4]), {"mode": "train"}),
        ("train mode, N = 3, C = 4, a 3 x 5 input with a channel of tiny variance (std 1e-3); bn_param with "
         "running_mean, running_var and momentum 0.5", _bn_input(rng, (3, 4, 3, 5), [1.0, 1e-3, 2.0, 0.5]),
         {"mode": "train", "momentum": 0.5, "running_mean": rng.standard_normal(4),
          "running_var": rng.uniform(0.5, 2.0, 4)}),
        ("train mode, a single image (N = 1), C = 2, a 4 x 4 input, eps = 0.01 in bn_param",
         _bn_input(rng, (1, 2, 4, 4), [0.2, 1.5]), {"mode": "train", "eps": 1e-2}),
        ("train mode, one channel (C = 1), N = 5, a 3 x 4 input", _bn_input(rng, (5, 1, 3, 4), [2.0]),
         {"mode": "train"}),
        ("test mode, N = 3, C = 3, a 4 x 5 input, eps = 1e-3; bn_param with running_mean and running_var "
         "(used as they are, and left unchanged)", _bn_input(rng, (3, 3, 4, 5), [1.0, 0.3, 2.0]),
         {"mode": "test", "eps": 1e-3, "running_mean": rng.standard_normal(3),
          "running_var": rng.uniform(0.5, 2.0, 3)}),
        ("train mode, float32 input, N = 3, C = 2, a 4 x 4 input",
         _bn_input(rng, (3, 2, 4, 4), [1.0, 2.0], np.float32), {"mode": "train"}),
    ]
    cases = []
    for description, x, bn_param in inputs:
        gamma, beta = _scale_shift(rng, x)
        cases.append(Case(f"{description}; expected (out, bn_param['running_mean'], "
                          f"bn_param['running_var'])",
                          {"x": x, "gamma": gamma, "beta": beta, "bn_param": bn_param},
                          spatial_batchnorm_reference(x, gamma, beta, bn_param)))
    return cases


def spatial_batchnorm_backward_cases() -> list[Case]:
    rng = np.random.default_rng(81)
    inputs = [
        ("N = 2, C = 3, a 4 x 5 input with a channel of small variance (std 0.01)",
         _bn_input(rng, (2, 3, 4, 5), [1.0, 0.01, 3.0]), {"mode": "train"}),
        ("a single image (N = 1), C = 2, a 3 x 4 input, eps = 0.1 in bn_param",
         _bn_input(rng, (1, 2, 3, 4), [0.5, 1.0]), {"mode": "train", "eps": 0.1}),
        ("one channel (C = 1), N = 3, a 4 x 2 input", _bn_input(rng, (3, 1, 4, 2), [2.0]),
         {"mode": "train"}),
        ("float32 input and dout, N = 2, C = 2, a 3 x 3 input",
         _bn_input(rng, (2, 2, 3, 3), [1.0, 0.5], np.float32), {"mode": "train"}),
    ]
    cases = []
    for description, x, bn_param in inputs:
        gamma, beta = _scale_shift(rng, x)
        dout = rng.standard_normal(x.shape).astype(x.dtype)
        cases.append(Case(f"train mode, {description}; expected (dx, dgamma, dbeta)",
                          {"x": x, "gamma": gamma, "beta": beta, "bn_param": bn_param, "dout": dout},
                          spatial_batchnorm_gradients_reference(x, gamma, bn_param, dout),
                          **_tolerance(x.dtype)))
    return cases


def spatial_batchnorm_probe(name: str) -> Callable[[Callable], Callable]:
    """adapter(forward) -> (x, gamma, beta, bn_param) -> (out, running_mean, running_var).

    Inputs:
    - name: the forward's name in messages ("spatial_batchnorm_forward").

    Returns the adapter, for the student's forward and the catalogued mistakes alike. The probe
    copies bn_param first, so that storing the running averages in it is no in-place change, and
    reads them from it after the call; ContractError when they are not there.
    """
    def adapter(forward):
        def probe(x, gamma, beta, bn_param):
            param = copy.deepcopy(bn_param)
            out, _ = split_pair(forward(x, gamma, beta, param), name)
            missing = [k for k in ("running_mean", "running_var") if k not in param]
            if missing:
                raise ContractError(f"after {name}, bn_param has no {' or '.join(map(repr, missing))}; "
                                    f"store the running averages in bn_param")
            return out, np.array(param["running_mean"], copy=True), np.array(param["running_var"], copy=True)
        return probe
    return adapter


def check_spatial_batchnorm_forward(spatial_batchnorm_forward: Callable,
                                    name: str = "spatial_batchnorm_forward") -> None:
    """spatial_batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache), and bn_param's running
    averages after the call: statistics per channel over N, H and W, in train and test mode."""
    adapter = spatial_batchnorm_probe(name)
    for case in spatial_batchnorm_forward_cases():
        check_case_parts(name, adapter(spatial_batchnorm_forward), case,
                         adapt_mutants(MUTANTS, name, adapter),
                         ("out", "bn_param['running_mean']", "bn_param['running_var']"))


def check_spatial_batchnorm_backward(spatial_batchnorm_forward: Callable,
                                     spatial_batchnorm_backward: Callable,
                                     name: str = "spatial_batchnorm_backward") -> None:
    """spatial_batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta) on the cache of the student's
    own train-mode forward."""
    forward_name = name.replace("backward", "forward")
    for case in spatial_batchnorm_backward_cases():
        check_backward(name, spatial_batchnorm_forward, spatial_batchnorm_backward, case,
                       forward_name=forward_name, wrt=("x", "gamma", "beta"), mutants=MUTANTS,
                       mutant_forward=WORKING["spatial_batchnorm_forward"])


# ----------------------------------------------------------------------------------- fast speed

SPEED_RATIO_REQUIRED = 10.0
"""How many times less CPU time than the grader's loops the fast pair must use. Measured on 2
cores (forward + backward, the input of check_conv_fast_speed): a sliding-window im2col about 250x,
im2col with index arrays and np.add.at about 170x, loops over the output positions (i, j) 30x,
scipy correlate2d per (n, f, c) 20x, loops over (n, i, j) with F and C vectorised 7x, loops
over every output 1x. CPU times, not wall-clock times: waiting for a core on a busy machine
counts in neither (see assignments.speed)."""

WALL_RATIO_REQUIRED = 2.0
"""The kernel's CPU time cannot see work handed to other processes, so the fast pair's wall-clock
time must also be at least this many times below the loops' time (both the shortest of their
runs, interleaved; the loops' by CPU time where it is measured). Wall-clock time is never shorter
than the CPU time of the work it waits for, so loops handed to another process fail this on a
machine however loaded; a vectorised pair passes it by far even on a loaded machine: the reference
measured 27x wall-clock under load while other submissions were graded."""

FAST_RUNS_PER_BURST = 5
"""The fast pair runs in three bursts of at most this many calls (fewer once 0.3 CPU s are spent)."""

SPEED_INPUT = {"x": (16, 3, 16, 16), "w": (8, 3, 3, 3), "stride": 1, "pad": 1}


def loop_conv_forward(x, w, b, conv_param):
    """The timing baseline: one output at a time (the usual naive implementation)."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    x_pad = _pad(x, pad)
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def loop_conv_backward(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = dout.shape[2:]
    x_pad = _pad(x, pad)
    dx_pad, dw = np.zeros(x_pad.shape), np.zeros(w.shape)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))


def _forward_backward(forward: Callable, backward: Callable, forward_name: str, backward_name: str
                      ) -> Callable:
    def both(x, w, b, conv_param, dout):
        out, cache = split_pair(forward(x, w, b, conv_param), forward_name)
        return (out, *_split_three(backward(dout, cache), backward_name))
    return both


def _split_three(value: Any, name: str) -> tuple:
    if isinstance(value, (tuple, list)) and len(value) == 3:
        return tuple(value)
    raise ContractError(f"{name} must return (dx, dw, db), but it returned a {type(value).__name__}")


def check_conv_fast_speed(conv_forward_fast: Callable, conv_backward_fast: Callable) -> float:
    """The fast pair is correct on a moderately sized input (SPEED_INPUT), and uses at least
    SPEED_RATIO_REQUIRED times less CPU time there than the grader's loop implementation, both
    measured in this run: one forward and one backward pass, the shortest of up to 15 runs of the
    fast pair (CPU time of the process running it: the student's kernel while grading) against the
    shorter of 2 runs of the loops (CPU time of this process), interleaved, with one BLAS thread
    on each side; load on the machine does not change these CPU times. Its shortest wall-clock time must also be WALL_RATIO_REQUIRED times
    below the loops' (work handed to other processes uses no CPU time of the kernel).
    Takes about 0.5 s for a vectorised pair, a few seconds for a slow one.

    Returns the measured CPU-time ratio.
    """
    name = "conv_forward_fast + conv_backward_fast"
    rng = np.random.default_rng(90)
    x = rng.standard_normal(SPEED_INPUT["x"])
    w, b = rng.standard_normal(SPEED_INPUT["w"]), rng.standard_normal(SPEED_INPUT["w"][0])
    conv_param = {"stride": SPEED_INPUT["stride"], "pad": SPEED_INPUT["pad"]}
    dout = rng.standard_normal((x.shape[0], w.shape[0], x.shape[2], x.shape[3]))
    shapes = (f"x of shape {x.shape}, w of shape {w.shape}, stride {conv_param['stride']}, "
              f"pad {conv_param['pad']}")
    both = _forward_backward(conv_forward_fast, conv_backward_fast, "conv_forward_fast", "conv_backward_fast")
    case = Case(f"the speed-test input ({shapes}): out of conv_forward_fast, then (dx, dw, db) of "
                f"conv_backward_fast on its cache; expected (out, dx, dw, db)",
                {"x": x, "w": w, "b": b, "conv_param": conv_param, "dout": dout},
                (conv_reference(x, w, b, conv_param), *conv_gradients_reference(x, w, b, conv_param, dout)))
    check_case_parts(name, both, case, [], ("out", "dx", "dw", "db"))
    kernel = process_of(conv_forward_fast)
    by_cpu = kernel is None or cpu_time_visible(kernel)  # else wall-clock times only (not Linux)

    def loops():
        out, cache = loop_conv_forward(x, w, b, conv_param)
        loop_conv_backward(dout, cache)

    try:
        with one_blas_thread(conv_forward_fast):
            fast, loop = _time_interleaved(both, (x, w, b, conv_param, dout), loops, kernel if by_cpu else None,
                                           by_cpu)
    except Exception as error:  # the student's code may raise anything, also on a later call
        raise GradingFailure(f"{name} raised {type(error).__name__} while being timed on {shapes}: "
                             f"{error}") from None
    clock = "CPU" if by_cpu else "wall-clock"
    fast_time = min(t.cpu if by_cpu else t.wall for t in fast)
    loop_time = min(t.cpu if by_cpu else t.wall for t in loop)
    fast_wall = min(t.wall for t in fast)
    calls = sum(t.calls for t in fast)
    ratio, wall_ratio = _ratio(loop, fast, by_cpu), max(loop_time, 1e-9) / max(fast_wall, 1e-9)
    advice = ("  Remove the Python loops over images, filters and output positions: build all "
              "receptive fields with np.lib.stride_tricks.sliding_window_view and use one matrix "
              "product (see the docstring of conv_forward_fast).")
    if ratio < SPEED_RATIO_REQUIRED:
        raise GradingFailure(
            f"{name} is not fast enough. On {shapes}, one forward and backward pass used "
            f"{fast_time * 1e3:.1f} ms of {clock} time (best of {calls}), and the grader's loop implementation "
            f"(one output at a time) {loop_time * 1e3:.1f} ms (best of {len(loop)}), measured in "
            f"this run: {ratio:.1f}x less, where at least {SPEED_RATIO_REQUIRED:.0f}x is required (a "
            f"vectorised im2col is typically 100x faster or more).\n" + advice)
    if wall_ratio < WALL_RATIO_REQUIRED:
        raise GradingFailure(
            f"{name} is not fast enough. On {shapes}, one forward and backward pass took "
            f"{fast_wall * 1e3:.1f} ms of wall-clock time (best of {calls}) but only {fast_time * 1e3:.1f} ms "
            f"of CPU time in its own process, against {loop_time * 1e3:.1f} ms of {clock} time for the "
            f"grader's loops: at least {WALL_RATIO_REQUIRED:.0f}x less wall-clock time is required too. "
            f"Work done in other processes is not faster.\n" + advice)
    return ratio


def _time_interleaved(fast_pair: Callable, args: tuple, loops: Callable, pid: int | None, by_cpu: bool
                      ) -> tuple[list[Timing], list[Timing]]:
    """Timings of the fast pair before, between and after two runs of the loops, so that a burst of
    load slows only some of them (the shortest of each side counts). A pair slower than a quarter
    of the requirement after the first round is not timed further."""
    fast, loop = [], []
    for burst in range(3):
        fast.append(best_times(fast_pair, args, FAST_RUNS_PER_BURST, pid, 0.3))
        if burst == 2:
            break
        loop.append(best_times(loops, calls=1))
        if _ratio(loop, fast, by_cpu) < SPEED_RATIO_REQUIRED / 4:
            break
    return fast, loop


def _ratio(loop: list, fast: list, by_cpu: bool) -> float:
    """The loops' shortest time over the fast pair's, by CPU or wall-clock time."""
    def shortest(timings):
        return max(min(t.cpu if by_cpu else t.wall for t in timings), 1e-9)
    return shortest(loop) / shortest(fast)


# ------------------------------------------------------------------------------ ThreeLayerConvNet

NET_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")
DEFAULTS = {"input_dim": (1, 28, 28), "num_filters": 32, "filter_size": 7, "hidden_dim": 100,
            "num_classes": 10, "weight_scale": 1e-3, "reg": 0.0, "dtype": np.float32}
CONSTRUCTOR_ARGS = tuple(DEFAULTS)


def conv_net_reference(X, params: dict, y=None, reg: float = 0.0):
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax in float64: scores, or
    (loss, grads) with grads keyed like params. H and W of X must be even.

    Max-pool gradients go to every element equal to its window's maximum: ties only happen among
    zeros of the ReLU, whose gradient is 0 anyway.
    """
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    X = np.asarray(X, dtype=np.float64)
    conv_param = {"stride": 1, "pad": (p["W1"].shape[2] - 1) // 2}
    conv = conv_reference(X, p["W1"], p["b1"], conv_param)
    a1 = np.maximum(conv, 0)
    N, F, H, W = a1.shape
    blocks = a1.reshape(N, F, H // 2, 2, W // 2, 2)
    pooled = blocks.max(axis=(3, 5))
    flat = pooled.reshape(N, -1)
    z2 = np.einsum("nd,dh->nh", flat, p["W2"]) + p["b2"]
    a2 = np.maximum(z2, 0)
    scores = np.einsum("nh,hk->nk", a2, p["W3"]) + p["b3"]
    if y is None:
        return scores
    log_p = log_softmax(scores, axis=1)
    loss = -np.mean(log_p[np.arange(N), y]) + 0.5 * reg * sum(np.sum(p[k] ** 2) for k in ("W1", "W2", "W3"))
    dscores = (np.exp(log_p) - np.eye(scores.shape[1])[y]) / N
    grads = {"W3": np.einsum("nh,nk->hk", a2, dscores) + reg * p["W3"], "b3": dscores.sum(axis=0)}
    dz2 = np.einsum("nk,hk->nh", dscores, p["W3"]) * (z2 > 0)
    grads["W2"], grads["b2"] = np.einsum("nd,nh->dh", flat, dz2) + reg * p["W2"], dz2.sum(axis=0)
    dpooled = np.einsum("nh,dh->nd", dz2, p["W2"]).reshape(pooled.shape)
    winners = blocks == pooled[:, :, :, None, :, None]
    da1 = (winners * dpooled[:, :, :, None, :, None]).reshape(a1.shape)
    _, dW1, db1 = conv_gradients_reference(X, p["W1"], p["b1"], conv_param, da1 * (conv > 0))
    grads["W1"], grads["b1"] = dW1 + reg * p["W1"], db1
    return loss, grads


def three_layer_conv_net_probe(case: Case) -> Callable[[type], Callable]:
    """adapter(ThreeLayerConvNet) -> function(*case.inputs values) reporting what `case` checks.

    Inputs:
    - case: one of `three_layer_conv_net_cases()`; case.extra["kind"] names the property
      (see `networks.net_probe`), case.extra["keys"] the parameters it concerns.

    Returns the adapter, for the student's class and for the catalogued mistakes alike.
    """
    return net_probe(case.extra["kind"], list(case.inputs), case.extra["keys"],
                     constructor_args=CONSTRUCTOR_ARGS, default_weight_scale=DEFAULTS["weight_scale"],
                     default_dtype=DEFAULTS["dtype"], loss_name="ThreeLayerConvNet.loss(X, y)")


def _param_shapes(kwargs) -> tuple[tuple[int, ...], ...]:
    c = {**DEFAULTS, **kwargs}
    C, H, W = c["input_dim"]
    F, k, hidden, classes = c["num_filters"], c["filter_size"], c["hidden_dim"], c["num_classes"]
    return ((F, C, k, k), (F,), (F * (H // 2) * (W // 2), hidden), (hidden,), (hidden, classes), (classes,))


def _call(kwargs) -> str:
    return constructor_call("ThreeLayerConvNet", kwargs)


def _structure_cases(kwargs: dict[str, Any], kinds: Sequence[str]) -> list[Case]:
    call = _call(kwargs) if kwargs else "ThreeLayerConvNet() (the defaults)"
    return structure_cases(call, kwargs, dict(zip(NET_KEYS, _param_shapes(kwargs))), kinds,
                           weight_scale=kwargs.get("weight_scale", DEFAULTS["weight_scale"]),
                           dtype=kwargs.get("dtype", DEFAULTS["dtype"]))


def _known_params(rng, kwargs, dtype) -> dict[str, np.ndarray]:
    """Parameter values of unit-scale activations, with biases that make some ReLU inputs negative."""
    params = {}
    for key, shape in zip(NET_KEYS, _param_shapes(kwargs)):
        if key.startswith("W"):
            fan_in = int(np.prod(shape[1:])) if key == "W1" else shape[0]
            params[key] = 1.5 / np.sqrt(fan_in) * rng.standard_normal(shape)
        else:
            params[key] = 0.3 * rng.standard_normal(shape)
    return {k: v.astype(dtype) for k, v in params.items()}


def _loss_cases(kwargs, N: int, seed: int, scores: bool, tolerance: dict | None = None) -> list[Case]:
    rng = np.random.default_rng(seed)
    dtype = kwargs.get("dtype", DEFAULTS["dtype"])
    params = _known_params(rng, kwargs, dtype)
    X = rng.standard_normal((N, *kwargs["input_dim"])).astype(dtype)
    y = rng.integers(0, kwargs["num_classes"], N)
    keys = list(NET_KEYS)
    on = (f"{_call(kwargs)} on X of shape {X.shape} (dtype {X.dtype}), with params W1, b1, W2, b2, W3, b3 "
          f"set to known values")
    cases = []
    if scores:
        cases.append(Case(f"scores = model.loss(X) (y=None) of {on}; expected the scores of the last "
                          f"affine layer", {**kwargs, "X": X, **params}, conv_net_reference(X, params),
                          **(tolerance or {}), extra={"kind": "scores", "keys": keys, "parts": None}))
    loss, grads = conv_net_reference(X, params, y, kwargs.get("reg", 0.0))
    parts = ["loss", *(f"grads[{k!r}]" for k in keys)]
    cases.append(Case(f"model.loss(X, y) of {on}, y = {y.tolist()}; expected ({', '.join(parts)})",
                      {**kwargs, "X": X, "y": y, **params}, (loss, *(grads[k] for k in keys)),
                      **(tolerance or {}), extra={"kind": "loss", "keys": keys, "parts": parts}))
    return cases


def three_layer_conv_net_cases() -> list[Case]:
    """The ThreeLayerConvNet cases, in the order they are checked."""
    small = {"input_dim": (3, 6, 8), "num_filters": 4, "filter_size": 3, "hidden_dim": 5, "num_classes": 4,
             "dtype": np.float64}
    cases = _structure_cases(small, ["shapes", "biases", "dtypes"])
    cases += _structure_cases({}, ["shapes", "dtypes", "weight std"])
    spread = {"input_dim": (2, 10, 12), "num_filters": 16, "filter_size": 5, "hidden_dim": 40,
              "num_classes": 30, "weight_scale": 5e-2}
    cases += _structure_cases(spread, ["shapes", "weight std"])
    cases += _loss_cases({**small, "reg": 0.0}, N=2, seed=100, scores=True)
    cases += _loss_cases({**small, "reg": 0.3}, N=2, seed=101, scores=False)
    one_channel = {"input_dim": (1, 8, 8), "num_filters": 3, "filter_size": 5, "hidden_dim": 6,
                   "num_classes": 3, "reg": 0.1, "dtype": np.float64}
    cases += _loss_cases(one_channel, N=3, seed=102, scores=True)
    single = {"input_dim": (2, 4, 6), "num_filters": 3, "filter_size": 3, "hidden_dim": 5, "num_classes": 3,
              "reg": 0.05, "dtype": np.float32}
    cases += _loss_cases(single, N=1, seed=103, scores=False, tolerance={"rtol": 1e-3, "atol": 1e-5})
    return cases


def check_three_layer_conv_net(ThreeLayerConvNet: type) -> None:
    """ThreeLayerConvNet: parameter shapes, initialisation and dtype; scores, loss and gradients
    (with L2 on W1, W2, W3) against a float64 reference, for known parameter values."""
    name = "ThreeLayerConvNet"
    for case in three_layer_conv_net_cases():
        adapter = three_layer_conv_net_probe(case)
        check_case_parts(name, adapter(ThreeLayerConvNet), case, adapt_mutants(MUTANTS, name, adapter),
                         case.extra["parts"])
