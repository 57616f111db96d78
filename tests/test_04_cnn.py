"""Exercise 04 convolutional networks, beyond the shared tests of
tests/test_exercise_contracts.py (reference passes, stub fails, each catalogued mistake named):
correct variants pass (loops and vectorised, with different caches), every valid max-pool
routing of tied maxima is accepted, no mistake raises, and the oracles are sound."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from assignments.gradient_check import numerical_gradient, numerical_gradient_array, rel_error
from grader_tests import cnn
from grader_tests.checking import GradingFailure, run
from grader_tests.gradients import backward_through, forward_output
from grader_tests.registry import ASSIGNMENTS
from grader_tests.mutants.cnn import (
    CONV_BACKWARDS,
    CONV_FORWARDS,
    WORKING,
    MUTANTS,
    WorkingThreeLayerConvNet,
    max_pool_forward_caching_inputs,
)


# ------------------------------------------------------------------ correct implementations: loops


def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


# The grader's loop baseline of the speed check, itself checked against the oracle below
# (test_the_loop_baseline_is_correct).
conv_forward_loops, conv_backward_loops = cnn.loop_conv_forward, cnn.loop_conv_backward


def max_pool_forward_loops(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    out = np.zeros((N, C, 1 + (H - ph) // stride, 1 + (W - pw) // stride), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[n, c, i, j] = np.max(x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw])
    return out, (x, pool_param)


def _max_pool_backward_loops(dout, cache, pick):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    a, d = pick(window)
                    dx[n, c, i * stride + a, j * stride + d] += dout[n, c, i, j]
    return dx


def max_pool_backward_first_max(dout, cache):
    return _max_pool_backward_loops(dout, cache, lambda w: np.unravel_index(np.argmax(w), w.shape))


def max_pool_backward_last_max(dout, cache):
    def last(window):
        flipped = window[::-1, ::-1]
        a, d = np.unravel_index(np.argmax(flipped), flipped.shape)
        return window.shape[0] - 1 - a, window.shape[1] - 1 - d
    return _max_pool_backward_loops(dout, cache, last)


def avg_pool_forward_loops(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    out = np.zeros((N, C, 1 + (H - ph) // stride, 1 + (W - pw) // stride))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            out[:, :, i, j] = window.mean(axis=(2, 3))
    return out, (x.shape, pool_param)


def avg_pool_backward_loops(dout, cache):
    x_shape, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros(x_shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw] += (
                dout[:, :, i, j][:, :, None, None] / (ph * pw))
    return dx


def _batchnorm_2d(x, gamma, beta, bn_param):
    """Assignment 03's batchnorm_forward on (M, D), with a dict cache."""
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    if bn_param["mode"] == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, {"x_hat": x_hat, "gamma": gamma, "std": np.sqrt(var + eps)}


def spatial_batchnorm_forward_transposed(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    out, cache = _batchnorm_2d(x.transpose(0, 2, 3, 1).reshape(-1, C), gamma, beta, bn_param)
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache


def spatial_batchnorm_backward_transposed(dout, cache):
    N, C, H, W = dout.shape
    d = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    x_hat, gamma, std = cache["x_hat"], cache["gamma"], cache["std"]
    m = d.shape[0]
    dx_hat = d * gamma
    dx = (m * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (m * std)
    return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), (d * x_hat).sum(axis=0), d.sum(axis=0)


# ------------------------------------------------------------- correct implementations: vectorised


def _im2col_indices(x_shape, HH, WW, pad, stride):
    N, C, H, W = x_shape
    H_out, W_out = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    i0 = np.tile(np.repeat(np.arange(HH), WW), C)
    i1 = stride * np.repeat(np.arange(H_out), W_out)
    j0 = np.tile(np.arange(WW), HH * C)
    j1 = stride * np.tile(np.arange(W_out), H_out)
    k = np.repeat(np.arange(C), HH * WW)[:, None]
    return k, i0[:, None] + i1[None, :], j0[:, None] + j1[None, :], H_out, W_out


def conv_forward_im2col(x, w, b, conv_param):
    """The classic index-array im2col; caches the column matrix and the indices, not x."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, C, HH, WW = w.shape
    k, i, j, H_out, W_out = _im2col_indices(x.shape, HH, WW, pad, stride)
    cols = _pad(x, pad)[:, k, i, j].transpose(1, 2, 0).reshape(C * HH * WW, -1)
    out = (w.reshape(F, -1) @ cols + b[:, None]).reshape(F, H_out, W_out, x.shape[0])
    return out.transpose(3, 0, 1, 2), {"cols": cols, "w": w, "shape": x.shape, "index": (k, i, j),
                                        "pad": pad}


def conv_backward_im2col(dout, cache):
    N, C, H, W = cache["shape"]
    w, pad = cache["w"], cache["pad"]
    F = w.shape[0]
    d = dout.transpose(1, 2, 3, 0).reshape(F, -1)
    dw = (d @ cache["cols"].T).reshape(w.shape)
    dcols = (w.reshape(F, -1).T @ d).reshape(w[0].size, -1, N).transpose(2, 0, 1)
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype)
    k, i, j = cache["index"]
    np.add.at(dx_pad, (slice(None), k, i, j), dcols)
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))


def conv_forward_windows(x, w, b, conv_param):
    """sliding_window_view + tensordot; caches the windows (a view of the padded x)."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    windows = sliding_window_view(_pad(x, pad), w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2) + b[:, None, None]
    return out, (windows, w, x.shape, stride, pad)


def conv_backward_windows(dout, cache):
    windows, w, (N, C, H, W), stride, pad = cache
    F, _, HH, WW = w.shape
    H_out, W_out = dout.shape[2:]
    dw = np.tensordot(dout, windows, axes=([0, 2, 3], [0, 2, 3]))
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=np.result_type(dout, w))
    for a in range(HH):
        for c in range(WW):
            dx_pad[:, :, a:a + stride * H_out:stride, c:c + stride * W_out:stride] += np.einsum(
                "nfhw,fc->nchw", dout, w[:, :, a, c])
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))


def max_pool_forward_windows(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    out = sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride].max(axis=(4, 5))
    return out, {"x": x, "out": out, "pool": (ph, pw, stride)}


def max_pool_backward_split_ties(dout, cache):
    """Each window's gradient shared equally by its tied maxima."""
    x, out, (ph, pw, stride) = cache["x"], cache["out"], cache["pool"]
    dx = np.zeros(x.shape)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            rows, cols = slice(i * stride, i * stride + ph), slice(j * stride, j * stride + pw)
            mask = x[:, :, rows, cols] == out[:, :, i, j][:, :, None, None]
            dx[:, :, rows, cols] += mask * (dout[:, :, i, j] / mask.sum(axis=(2, 3)))[:, :, None, None]
    return dx


def avg_pool_forward_windows(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    windows = sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.mean(axis=(4, 5)), (x.shape, ph, pw, stride)


def avg_pool_backward_windows(dout, cache):
    (N, C, H, W), ph, pw, stride = cache
    dx = np.zeros((N, C, H, W), dtype=dout.dtype)
    H_out, W_out = dout.shape[2:]
    for a in range(ph):
        for c in range(pw):
            dx[:, :, a:a + stride * H_out:stride, c:c + stride * W_out:stride] += dout / (ph * pw)
    return dx


def spatial_batchnorm_forward_graph(x, gamma, beta, bn_param):
    """Statistics over axes (0, 2, 3) directly; the cache keeps every step of the graph."""
    bn_param.setdefault("eps", 1e-5)
    bn_param.setdefault("momentum", 0.9)
    eps, momentum = bn_param["eps"], bn_param["momentum"]
    C = x.shape[1]
    g, bt = gamma.reshape(1, C, 1, 1), beta.reshape(1, C, 1, 1)
    if bn_param["mode"] == "train":
        mu = x.mean(axis=(0, 2, 3), keepdims=True)
        xc = x - mu
        var = (xc ** 2).mean(axis=(0, 2, 3), keepdims=True)
        bn_param["running_mean"] = (momentum * bn_param.get("running_mean", np.zeros(C))
                                    + (1 - momentum) * mu.ravel())
        bn_param["running_var"] = (momentum * bn_param.get("running_var", np.zeros(C))
                                   + (1 - momentum) * var.ravel())
        ivar = 1 / np.sqrt(var + eps)
        x_hat = xc * ivar
        return g * x_hat + bt, (xc, ivar, x_hat, g)
    x_hat = (x - bn_param["running_mean"].reshape(1, C, 1, 1)) / np.sqrt(
        bn_param["running_var"].reshape(1, C, 1, 1) + eps)
    return g * x_hat + bt, None


def spatial_batchnorm_backward_graph(dout, cache):
    xc, ivar, x_hat, g = cache
    m = dout.shape[0] * dout.shape[2] * dout.shape[3]
    axes = (0, 2, 3)
    dx_hat = dout * g
    divar = (dx_hat * xc).sum(axis=axes, keepdims=True)
    dvar = -0.5 * ivar ** 3 * divar
    dxc = dx_hat * ivar + 2 * xc * dvar / m
    dx = dxc - dxc.sum(axis=axes, keepdims=True) / m
    return dx, (dout * x_hat).sum(axis=axes), dout.sum(axis=axes)


class ThreeLayerConvNetFromLayers:
    """Built from this file's vectorised layers; draws weights with np.random.normal."""

    def __init__(self, input_dim=(1, 28, 28), num_filters=32, filter_size=7, hidden_dim=100,
                 num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
        C, H, W = input_dim
        self.reg, self.dtype = reg, dtype
        shapes = {"W1": (num_filters, C, filter_size, filter_size), "b1": (num_filters,),
                  "W2": (num_filters * H * W // 4, hidden_dim), "b2": (hidden_dim,),
                  "W3": (hidden_dim, num_classes), "b3": (num_classes,)}
        self.params = {k: (np.random.normal(0.0, weight_scale, s) if k[0] == "W" else np.zeros(s))
                       .astype(dtype) for k, s in shapes.items()}

    def loss(self, X, y=None):
        p = self.params
        X = X.astype(self.dtype)
        conv_param = {"stride": 1, "pad": (p["W1"].shape[2] - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        h1, conv_cache = conv_forward_windows(X, p["W1"], p["b1"], conv_param)
        r1 = np.maximum(h1, 0)
        h2, pool_cache = max_pool_forward_windows(r1, pool_param)
        flat = h2.reshape(len(X), -1)
        z = flat @ p["W2"] + p["b2"]
        r2 = np.maximum(z, 0)
        scores = r2 @ p["W3"] + p["b3"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        n = len(X)
        loss = -np.log(probs[np.arange(n), y]).mean()
        probs[np.arange(n), y] -= 1
        d = probs / n
        grads = {"W3": r2.T @ d, "b3": d.sum(axis=0)}
        d = (d @ p["W3"].T) * (z > 0)
        grads["W2"], grads["b2"] = flat.T @ d, d.sum(axis=0)
        d = max_pool_backward_split_ties((d @ p["W2"].T).reshape(h2.shape), pool_cache) * (h1 > 0)
        _, grads["W1"], grads["b1"] = conv_backward_windows(d, conv_cache)
        for k in ("W1", "W2", "W3"):
            loss += 0.5 * self.reg * np.sum(p[k] * p[k])
            grads[k] = grads[k] + self.reg * p[k]
        return loss, grads


# ------------------------------------------------------------------------------------ the checks

CHECKS = {q.function: q for q in ASSIGNMENTS["04_cnn"].questions if q.names_mistakes}
"""The check of each graded function (the registry's), which names its catalogued mistakes."""

Module = SimpleNamespace  # stands in for a notebook's namespace


LOOPS = Module(conv_forward_naive=conv_forward_loops, conv_backward_naive=conv_backward_loops,
               conv_forward_fast=conv_forward_loops, conv_backward_fast=conv_backward_loops,
               max_pool_forward_naive=max_pool_forward_loops,
               max_pool_backward_naive=max_pool_backward_first_max,
               avg_pool_forward=avg_pool_forward_loops, avg_pool_backward=avg_pool_backward_loops,
               spatial_batchnorm_forward=spatial_batchnorm_forward_transposed,
               spatial_batchnorm_backward=spatial_batchnorm_backward_transposed,
               ThreeLayerConvNet=ThreeLayerConvNetFromLayers)

VECTORISED = Module(conv_forward_naive=conv_forward_im2col, conv_backward_naive=conv_backward_im2col,
                    conv_forward_fast=conv_forward_windows, conv_backward_fast=conv_backward_windows,
                    max_pool_forward_naive=max_pool_forward_windows,
                    max_pool_backward_naive=max_pool_backward_split_ties,
                    avg_pool_forward=avg_pool_forward_windows, avg_pool_backward=avg_pool_backward_windows,
                    spatial_batchnorm_forward=spatial_batchnorm_forward_graph,
                    spatial_batchnorm_backward=spatial_batchnorm_backward_graph,
                    ThreeLayerConvNet=WorkingThreeLayerConvNet)


# ------------------------------------------------------------------------------- the notebooks


# ------------------------------------------------------------------ correct variants and stubs


@pytest.mark.parametrize("function", CHECKS)
@pytest.mark.parametrize("namespace", [LOOPS, VECTORISED], ids=["loops", "vectorised"])
def test_correct_implementations_pass(namespace, function):
    CHECKS[function].grade(namespace)


# ---------------------------------------------------------------------------------- the mutants


def test_conv_mistakes_are_catalogued_for_the_naive_and_the_fast_pair_alike():
    by_function = {f: {m.name for m in MUTANTS if m.function == f} for f in (*CONV_FORWARDS, *CONV_BACKWARDS)}
    assert by_function["conv_forward_naive"] == by_function["conv_forward_fast"]
    assert by_function["conv_backward_naive"] == by_function["conv_backward_fast"]


def _probe_cases(function):
    """(adapter turning an implementation into the checked function, cases) of each checked function."""
    base = function.replace("_fast", "_naive")
    forward = next(iter(CHECKS[function].uses), None)
    if function == "spatial_batchnorm_forward":
        return [(cnn.spatial_batchnorm_probe(function), c) for c in cnn.spatial_batchnorm_forward_cases()]
    if function == "ThreeLayerConvNet":
        return [(cnn.three_layer_conv_net_probe(c), c) for c in cnn.three_layer_conv_net_cases()]
    cases = {"conv_forward_naive": cnn.conv_forward_cases, "conv_backward_naive": cnn.conv_backward_cases,
             "max_pool_forward_naive": cnn.max_pool_forward_cases,
             "max_pool_backward_naive": lambda: cnn.max_pool_backward_cases() + cnn.max_pool_tie_cases(),
             "avg_pool_forward": cnn.avg_pool_forward_cases, "avg_pool_backward": cnn.avg_pool_backward_cases,
             "spatial_batchnorm_backward": cnn.spatial_batchnorm_backward_cases}[base]()
    if forward is None:
        return [(lambda f: forward_output(f, function), case) for case in cases]
    mutant_forward = WORKING[forward]
    return [(lambda b: backward_through(mutant_forward, b, forward), case) for case in cases]


@pytest.mark.parametrize("function", CHECKS)
def test_no_mutant_raises_on_any_case(function):
    # A mutant that raised would be named for any submission raising the same exception type.
    for adapter, case in _probe_cases(function):
        for mutant in (m for m in MUTANTS if m.function == function):
            outcome = run(adapter(mutant.implementation), case.inputs)
            assert outcome.error is None, f"{mutant.name} raised {outcome.error!r} on {case.description}"


# ------------------------------------------------------------------------- max-pool ties


def _tie_case(index=1):
    case = cnn.max_pool_tie_cases()[index]
    return case, case.inputs["x"], case.inputs["pool_param"], case.inputs["dout"]


@pytest.mark.parametrize("backward", [max_pool_backward_first_max, max_pool_backward_last_max],
                         ids=["first maximum", "last maximum"])
def test_every_valid_routing_of_tied_maxima_passes(backward):
    cnn.check_max_pool_backward(max_pool_forward_loops, backward)


def test_the_tie_cases_have_ties_and_the_routings_differ():
    for case in cnn.max_pool_tie_cases():
        cache = (case.inputs["x"], case.inputs["pool_param"])
        first = max_pool_backward_first_max(case.inputs["dout"], cache)
        assert not np.allclose(first, max_pool_backward_last_max(case.inputs["dout"], cache))
        assert not np.allclose(first, max_pool_backward_split_ties(
            case.inputs["dout"], max_pool_forward_windows(*cache)[1]))


def test_overlapping_windows_accumulate_in_a_valid_routing():
    case, x, p, dout = _tie_case(1)
    assert p["stride"] < p["pool_height"]
    dx = max_pool_backward_split_ties(dout, max_pool_forward_windows(x, p)[1])
    assert cnn.is_valid_max_pool_routing(x, p, dout, dx)


@pytest.mark.parametrize("spoil", ["to a non-maximal element", "half of one window lost",
                                   "shares of 2 and -1", "wrong shape"])
def test_invalid_routings_of_tied_maxima_fail(spoil):
    case, x, p, dout = _tie_case(0)
    dx = max_pool_backward_first_max(dout, (x, p))
    window = x[0, 0, :2, :2]
    if spoil == "to a non-maximal element":
        assert window.min() < window.max()
        a, d = np.unravel_index(np.argmin(window), window.shape)
        dx[0, 0, a, d] += 0.25
        dx[0, 0][np.unravel_index(np.argmax(window), window.shape)] -= 0.25
    elif spoil == "half of one window lost":
        dx[0, 0, :2, :2] /= 2
    elif spoil == "shares of 2 and -1":
        maxima = np.argwhere(x[0, 1, :2, 2:4] == x[0, 1, :2, 2:4].max())
        assert len(maxima) >= 2
        (a1, d1), (a2, d2) = maxima[:2]
        dx[0, 1, :2, 2:4] = 0
        dx[0, 1, a1, 2 + d1], dx[0, 1, a2, 2 + d2] = 2 * dout[0, 1, 0, 1], -dout[0, 1, 0, 1]
    else:
        dx = dx[:, :, :-1]
    assert not cnn.is_valid_max_pool_routing(x, p, dout, dx)
    with pytest.raises(GradingFailure) as failure:
        cnn.check_tie_routing("max_pool_backward_naive", max_pool_forward_loops, lambda dout_, cache: dx,
                              case, "max_pool_forward_naive", max_pool_forward_caching_inputs)
    message = str(failure.value)
    assert "is accepted" in message and "not a valid routing" in message


def test_the_tie_check_names_a_catalogued_mistake():
    every = next(m for m in MUTANTS if m.name == "gradient sent to every element of the window")
    case, *_ = _tie_case(2)
    with pytest.raises(GradingFailure, match="known mistake: gradient sent to every element"):
        cnn.check_tie_routing("max_pool_backward_naive", max_pool_forward_caching_inputs,
                              every.implementation, case, "max_pool_forward_naive",
                              max_pool_forward_caching_inputs)


# ------------------------------------------------------------------------------- the speed check


# The timing itself, under load and across processes: tests/test_04_cnn_speed.py.


def test_a_fast_but_wrong_pair_fails_on_correctness_before_timing():
    flipped = next(m for m in MUTANTS if m.function == "conv_forward_fast" and "flipped" in m.name)

    def forward(x, w, b, conv_param):
        out, _ = flipped.implementation(x, w, b, conv_param)
        return out, conv_forward_windows(x, w, b, conv_param)[1]

    with pytest.raises(GradingFailure) as failure:
        cnn.check_conv_fast_speed(forward, conv_backward_windows)
    message = str(failure.value)
    assert message.startswith("conv_forward_fast + conv_backward_fast failed a hidden check on the "
                              "speed-test input")
    assert "The parts that differ: out." in message


def test_the_loop_baseline_is_correct():
    case = cnn.conv_backward_cases()[1]
    x, w, b, conv_param, dout = case.inputs.values()
    out, cache = cnn.loop_conv_forward(x, w, b, conv_param)
    np.testing.assert_allclose(out, cnn.conv_reference(x, w, b, conv_param), rtol=1e-12, atol=1e-12)
    for got, expected in zip(cnn.loop_conv_backward(dout, cache), case.expected):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- consistency, in place, messages


def conv_forward_without_bias(x, w, b, conv_param):
    out, cache = conv_forward_windows(x, w, 0 * b, conv_param)
    return out, cache


def conv_backward_without_bias(dout, cache):
    dx, dw, db = conv_backward_windows(dout, cache)
    return dx, dw, 0 * db


def test_a_backward_consistent_with_its_own_wrong_forward_passes():
    with pytest.raises(GradingFailure, match="known mistake: bias ignored"):
        cnn.check_conv_forward(conv_forward_without_bias, name="conv_forward_fast")
    cnn.check_conv_backward(conv_forward_without_bias, conv_backward_without_bias, name="conv_backward_fast")


def test_a_backward_matching_neither_oracle_says_so():
    def doubled_dw(dout, cache):
        dx, dw, db = conv_backward_loops(dout, cache)
        return dx, 2 * dw, db

    with pytest.raises(GradingFailure) as failure:
        cnn.check_conv_backward(conv_forward_loops, doubled_dw)
    message = str(failure.value)
    assert message.startswith("conv_backward_naive failed a hidden check on N = 2, C = 3, a 7 x 5 input")
    assert "The parts that differ: dw." in message
    assert "do not match numerical gradients of your own conv_forward_naive" in message
    assert "known mistake" not in message


def test_a_conv_forward_that_changes_x_fails():
    def centring(x, w, b, conv_param):
        x -= 0.0 * x.mean() + 1e-3
        return conv_forward_windows(x + 1e-3, w, b, conv_param)

    with pytest.raises(GradingFailure, match="conv_forward_naive modified its input x in place"):
        cnn.check_conv_forward(centring)


def test_failure_message_shows_input_expected_and_returned():
    with pytest.raises(GradingFailure) as failure:
        cnn.check_avg_pool_forward(lambda x, p: (max_pool_forward_windows(x, p)[0], None))
    message = str(failure.value)
    assert message.startswith("avg_pool_forward failed a hidden check on N = 2, C = 3, a 6 x 8 input, "
                              "2 x 2 windows, stride 2")
    assert "input x = array of shape (2, 3, 6, 8)" in message
    assert "input pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}" in message
    assert "expected:" in message and "returned:" in message


def test_batchnorm_without_running_averages_is_explained():
    def forgetful(x, gamma, beta, bn_param):
        return spatial_batchnorm_forward_graph(x, gamma, beta, dict(bn_param))

    with pytest.raises(GradingFailure) as failure:
        cnn.check_spatial_batchnorm_forward(forgetful)
    assert "bn_param has no 'running_mean' or 'running_var'" in str(failure.value)


def test_no_warning_leaks_from_a_failing_check(recwarn):
    with pytest.raises(GradingFailure):
        cnn.check_spatial_batchnorm_forward(lambda x, g, b, p: (np.log(x - 1e9), None))
    with pytest.raises(GradingFailure):
        cnn.check_conv_backward(conv_forward_loops, lambda dout, cache: (np.log(-dout), 0, 0))
    assert len(recwarn) == 0


# --------------------------------------------------------------------------- coverage of inputs


def test_conv_cases_cover_the_edge_cases_the_design_asks_for():
    for cases in (cnn.conv_forward_cases(), cnn.conv_backward_cases()):
        inputs = [case.inputs for case in cases]
        assert {i["conv_param"]["pad"] for i in inputs} == {0, 1, 2}
        assert {i["conv_param"]["stride"] for i in inputs} == {1, 2}
        assert any(i["x"].shape[2] != i["x"].shape[3] for i in inputs)
        assert any(i["w"].shape[2] != i["w"].shape[3] for i in inputs)
        assert any(i["x"].shape[0] == 1 and i["x"].shape[1] == 1 and i["w"].shape[0] == 1 for i in inputs)
        assert {i["x"].dtype for i in inputs} == {np.dtype(np.float64), np.dtype(np.float32)}
        assert any(np.array_equal(i["x"], np.round(i["x"])) for i in inputs)  # whole numbers, in float64
        # some case leaves rows uncovered: (H + 2 pad - HH) is not a multiple of the stride
        assert any((i["x"].shape[2] + 2 * i["conv_param"]["pad"] - i["w"].shape[2])
                   % i["conv_param"]["stride"] for i in inputs)


def test_pool_cases_cover_the_edge_cases_the_design_asks_for():
    params = [c.inputs["pool_param"] for c in cnn.max_pool_forward_cases()]
    assert any(p["pool_height"] != p["pool_width"] for p in params)
    assert any(p["stride"] < p["pool_height"] for p in params)
    assert any(p["stride"] > p["pool_height"] for p in params)
    xs = [c.inputs["x"] for c in cnn.max_pool_forward_cases()]
    assert any(x.shape[:2] == (1, 1) for x in xs) and any(np.all(x < 0) for x in xs)
    for case in cnn.max_pool_backward_cases():  # tie-free: every window has one maximum
        x, p = case.inputs["x"], case.inputs["pool_param"]
        windows = sliding_window_view(x, (p["pool_height"], p["pool_width"]), axis=(2, 3))
        windows = windows[:, :, ::p["stride"], ::p["stride"]]
        assert np.all((windows == windows.max(axis=(4, 5), keepdims=True)).sum(axis=(4, 5)) == 1)


def test_batchnorm_cases_cover_train_test_tiny_variance_and_custom_settings():
    cases = cnn.spatial_batchnorm_forward_cases()
    params = [c.inputs["bn_param"] for c in cases]
    assert {p["mode"] for p in params} == {"train", "test"}
    assert any("running_mean" not in p for p in params) and any("momentum" in p for p in params)
    assert any("eps" in p for p in params)
    assert any(c.inputs["x"].std(axis=(0, 2, 3)).min() < 1e-2 for c in cases)
    assert any(c.inputs["x"].shape[0] == 1 for c in cases) and any(c.inputs["x"].shape[1] == 1 for c in cases)


# --------------------------------------------------------------------------- the oracles are sound


def test_conv_oracle_matches_loops_and_its_gradients_match_numerical_ones():
    for case in cnn.conv_backward_cases():
        x, w, b, conv_param, dout = (np.array(v, dtype=np.float64) if isinstance(v, np.ndarray) else v
                                     for v in case.inputs.values())
        out = cnn.conv_reference(x, w, b, conv_param)
        np.testing.assert_allclose(out, conv_forward_loops(x, w, b, conv_param)[0], rtol=1e-12, atol=1e-12)
        numerical = (numerical_gradient_array(lambda v: cnn.conv_reference(v, w, b, conv_param), x, dout),
                     numerical_gradient_array(lambda v: cnn.conv_reference(x, v, b, conv_param), w, dout),
                     numerical_gradient_array(lambda v: cnn.conv_reference(x, w, v, conv_param), b, dout))
        for got, expected in zip(cnn.conv_gradients_reference(x, w, b, conv_param, dout), numerical):
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_pool_oracles_match_loops_and_numerical_gradients():
    pairs = ([(c, cnn.avg_pool_reference, avg_pool_forward_loops) for c in cnn.avg_pool_backward_cases()]
             + [(c, cnn.max_pool_reference, max_pool_forward_loops) for c in cnn.max_pool_backward_cases()])
    for case, forward, loops in pairs:
        x, p, dout = case.inputs["x"].astype(np.float64), case.inputs["pool_param"], case.inputs["dout"]
        np.testing.assert_allclose(forward(x, p), loops(x, p)[0], rtol=1e-12, atol=1e-12)
        numerical = numerical_gradient_array(lambda v: forward(v, p), x, dout)
        np.testing.assert_allclose(case.expected, numerical, rtol=1e-6, atol=1e-8)


def test_batchnorm_oracle_matches_numerical_gradients_and_a_different_formulation():
    for case in cnn.spatial_batchnorm_backward_cases():
        x, gamma, beta, bn_param, dout = case.inputs.values()
        x, gamma, beta, dout = (np.array(v, dtype=np.float64) for v in (x, gamma, beta, dout))

        def forward(x_, gamma_, beta_):
            return cnn.spatial_batchnorm_reference(x_, gamma_, beta_, dict(bn_param))[0]

        numerical = (numerical_gradient_array(lambda v: forward(v, gamma, beta), x, dout),
                     numerical_gradient_array(lambda v: forward(x, v, beta), gamma, dout),
                     numerical_gradient_array(lambda v: forward(x, gamma, v), beta, dout))
        expected = cnn.spatial_batchnorm_gradients_reference(x, gamma, bn_param, dout)
        for got, num in zip(expected, numerical):
            assert rel_error(got, num) < 1e-5
        out, cache = spatial_batchnorm_forward_graph(x, gamma, beta, dict(bn_param))
        np.testing.assert_allclose(out, forward(x, gamma, beta), rtol=1e-12, atol=1e-12)
        for got, other in zip(expected, spatial_batchnorm_backward_graph(dout, cache)):
            np.testing.assert_allclose(got, other, rtol=1e-9, atol=1e-9)


def test_network_oracle_matches_numerical_gradients():
    case = next(c for c in cnn.three_layer_conv_net_cases() if c.extra["kind"] == "loss"
                and c.inputs.get("reg", 0) > 0 and c.inputs["dtype"] == np.float64)
    X, y = case.inputs["X"], case.inputs["y"]
    params = {k: np.array(case.inputs[k], dtype=np.float64) for k in cnn.NET_KEYS}
    reg = case.inputs["reg"]
    loss, grads = cnn.conv_net_reference(X, params, y, reg)
    for key in cnn.NET_KEYS:
        numerical = numerical_gradient(lambda _: cnn.conv_net_reference(X, params, y, reg)[0], params[key])
        assert rel_error(grads[key], numerical) < 1e-6, key


# ------------------------------------------------------- correct code that allocates like its input


def conv_forward_like_input(x, w, b, conv_param):
    """Allocates out like x (np.zeros_like's dtype): correct for the float inputs the course uses."""
    out, cache = conv_forward_loops(x, w, b, conv_param)
    like = np.zeros(out.shape, dtype=x.dtype)
    like[...] = out
    return like, cache


def conv_backward_like_input(dout, cache):
    """Accumulates dx, dw and db in arrays allocated with np.zeros_like(x), np.zeros_like(w), ..."""
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    x_pad = _pad(x, pad)
    dx_pad, dw, db = np.zeros_like(x_pad), np.zeros_like(w), np.zeros_like(b)
    for n, f, i, j in np.ndindex(*dout.shape):
        rows, cols = slice(i * stride, i * stride + w.shape[2]), slice(j * stride, j * stride + w.shape[3])
        dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
        dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
        db[f] += dout[n, f, i, j]
    return dx_pad[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dw, db


def max_pool_backward_like_input(dout, cache):
    """Routes the gradient into np.zeros_like(x)."""
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(*dout.shape):
        window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
        r, s = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, i * stride + r, j * stride + s] += dout[n, c, i, j]
    return dx


def test_correct_code_allocating_like_its_input_passes_every_hidden_input():
    """The hidden inputs use float dtypes only (whole numbers where ties and zeros are wanted): the
    course never passes integer arrays, so zeros_like(x) is correct for every one of them."""
    cnn.check_conv_forward(conv_forward_like_input, name="conv_forward_naive")
    cnn.check_conv_backward(conv_forward_like_input, conv_backward_like_input, name="conv_backward_naive")
    cnn.check_max_pool_backward(max_pool_forward_loops, max_pool_backward_like_input)
