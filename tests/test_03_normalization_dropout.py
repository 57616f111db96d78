"""Exercise 03 batch norm, layer norm and dropout, beyond the shared tests of
tests/test_exercise_contracts.py (reference passes, stub fails, each catalogued mistake named):
correct variants pass, and the oracles are sound."""
from __future__ import annotations

import numpy as np
import pytest

from assignments.gradient_check import numerical_gradient, numerical_gradient_array
from assignments.previous import fully_connected as previous
from grader_tests import normalization_dropout as nd
from grader_tests.checking import GradingFailure
from grader_tests.mutants.normalization_dropout import (
    MUTANTS,
    batchnorm_forward_eps_ignored,
    layernorm_forward_caching,
    normalization_backward,
)


# ---------------------------------------------------------------- correct implementations, various


def batchnorm_forward_sum_of_squares(x, gamma, beta, bn_param):
    """var = E[x**2] - E[x]**2; running averages updated in place; only x is cached."""
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    d = x.shape[1]
    if "running_mean" not in bn_param:
        bn_param["running_mean"] = np.zeros(d, dtype=x.dtype)
        bn_param["running_var"] = np.zeros(d, dtype=x.dtype)
    if bn_param["mode"] == "train":
        mean = np.mean(x, axis=0)
        var = np.mean(x * x, axis=0) - mean**2
        for key, value in (("running_mean", mean), ("running_var", var)):
            bn_param[key] *= momentum
            bn_param[key] += (1 - momentum) * value
    else:
        mean, var = bn_param["running_mean"], bn_param["running_var"]
    return gamma * (x - mean) / np.sqrt(var + eps) + beta, (x, gamma, eps)


def batchnorm_backward_recomputing(dout, cache):
    """The closed form, with the statistics recomputed from the cached x."""
    x, gamma, eps = cache
    n = x.shape[0]
    inv_std = 1 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) * inv_std
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    return gamma * inv_std / n * (n * dout - dbeta - x_hat * dgamma), dgamma, dbeta


def batchnorm_backward_staged_graph(dout, cache):
    """The classic staged graph (one intermediate per node), recomputed from the cached x."""
    x, gamma, eps = cache
    n = x.shape[0]
    mu = x.sum(axis=0) / n
    xc = x - mu
    var = (xc**2).sum(axis=0) / n
    sqrtvar = np.sqrt(var + eps)
    ivar = 1 / sqrtvar
    xhat = xc * ivar
    dbeta, dgamma = dout.sum(axis=0), (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    divar = (dxhat * xc).sum(axis=0)
    dxc = dxhat * ivar
    dvar = 0.5 * (-divar / sqrtvar**2) / sqrtvar
    dxc = dxc + 2 * xc * np.ones_like(x) * dvar / n
    dmu = -dxc.sum(axis=0)
    return dxc + np.ones_like(x) * dmu / n, dgamma, dbeta


def layernorm_forward_transposed(x, gamma, beta, ln_param):
    """Batch norm's statistics on x.T; does not write eps back into ln_param."""
    eps = (ln_param or {}).get("eps", 1e-5)
    xt = x.T
    inv_std = 1 / np.sqrt(xt.var(axis=0) + eps)
    xhat_t = (xt - xt.mean(axis=0)) * inv_std
    return gamma * xhat_t.T + beta, {"xhat_t": xhat_t, "inv_std": inv_std, "gamma": gamma}


def layernorm_backward_transposed(dout, cache):
    xhat_t, inv_std, gamma = cache["xhat_t"], cache["inv_std"], cache["gamma"]
    d = xhat_t.shape[0]
    dxhat_t = (dout * gamma).T
    dx_t = inv_std / d * (d * dxhat_t - dxhat_t.sum(axis=0) - xhat_t * (dxhat_t * xhat_t).sum(axis=0))
    return dx_t.T, (dout * xhat_t.T).sum(axis=0), dout.sum(axis=0)


def dropout_forward_generator(x, dropout_param):
    """A Generator seeded with the seed (fresh entropy without one); a boolean mask cached."""
    p = dropout_param["p"]
    if dropout_param["mode"] != "train":
        return x.copy(), None
    keep = np.random.default_rng(dropout_param.get("seed")).random(x.shape) < p
    return np.where(keep, x / p, 0.0), (keep, p)


def dropout_backward_generator(dout, cache):
    if cache is None:
        return dout
    keep, p = cache
    return np.where(keep, dout / p, 0.0)


def dropout_forward_binomial(x, dropout_param):
    """np.random.binomial for the mask, cached already scaled by 1 / p."""
    p = dropout_param["p"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if dropout_param["mode"] != "train":
        return x, None
    mask = np.random.binomial(1, p, size=x.shape) / p
    return x * mask, mask


def dropout_backward_binomial(dout, cache):
    return dout if cache is None else dout * cache


def dropout_forward_upper_tail(x, dropout_param):
    """Keeps a unit where u >= 1 - p (also probability p); mode kept in the cache."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "test":
        return x, (mode, None, p)
    keep = np.random.uniform(size=x.shape) >= 1 - p
    out = x.copy()
    out[~keep] = 0
    out[keep] /= p
    return out, (mode, keep, p)


def dropout_backward_upper_tail(dout, cache):
    mode, keep, p = cache
    if mode == "test":
        return dout
    dx = np.zeros_like(dout)
    dx[keep] = dout[keep] / p
    return dx


class FullyConnectedNetVariant:
    """Written differently: a list of layer records, np.random weights, its own names for the layer
    state, this file's variant layers (Generator dropout, sum-of-squares batch norm, transposed
    layer norm) and the bias-free way of putting regularisation in."""

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout_keep_ratio=1,
                 normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        self.reg, self.dtype, self.normalization = reg, dtype, normalization
        sizes = [input_dim, *hidden_dims, num_classes]
        self.params = {}
        for i in range(len(sizes) - 1):
            weights = np.random.normal(0, weight_scale, (sizes[i], sizes[i + 1]))
            self.params[f"W{i + 1}"] = weights.astype(dtype)
            self.params[f"b{i + 1}"] = np.zeros(sizes[i + 1], dtype=dtype)
            if normalization and i < len(sizes) - 2:
                self.params[f"gamma{i + 1}"] = np.ones(sizes[i + 1], dtype=dtype)
                self.params[f"beta{i + 1}"] = np.zeros(sizes[i + 1], dtype=dtype)
        self.layers = len(sizes) - 1
        self.states = {i: {} for i in range(1, self.layers)}
        self.drop = {"p": dropout_keep_ratio, **({} if seed is None else {"seed": seed})}

    def loss(self, X, y=None):
        mode = "train" if y is not None else "test"
        h, records = X.astype(self.dtype), []
        for i in range(1, self.layers + 1):
            record = {}
            h, record["affine"] = previous.affine_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            if i < self.layers:
                if self.normalization == "batchnorm":
                    self.states[i]["mode"] = mode
                    h, record["bn"] = batchnorm_forward_sum_of_squares(
                        h, self.params[f"gamma{i}"], self.params[f"beta{i}"], self.states[i])
                elif self.normalization == "layernorm":
                    h, record["ln"] = layernorm_forward_transposed(
                        h, self.params[f"gamma{i}"], self.params[f"beta{i}"], None)
                h, record["relu"] = previous.relu_forward(h)
                if self.drop["p"] < 1:
                    h, record["drop"] = dropout_forward_generator(h, {**self.drop, "mode": mode})
            records.append(record)
        if y is None:
            return h
        loss, dh = previous.softmax_loss(h, y)
        grads = {}
        for i in range(self.layers, 0, -1):
            record = records[i - 1]
            if "drop" in record:
                dh = dropout_backward_generator(dh, record["drop"])
            if "relu" in record:
                dh = previous.relu_backward(dh, record["relu"])
            if "bn" in record:
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward_recomputing(dh, record["bn"])
            if "ln" in record:
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = layernorm_backward_transposed(dh, record["ln"])
            dh, grads[f"W{i}"], grads[f"b{i}"] = previous.affine_backward(dh, record["affine"])
        for name, W in self.params.items():
            if name.startswith("W"):
                loss += 0.5 * self.reg * np.sum(W * W)
                grads[name] += self.reg * W
        return loss, grads


# ------------------------------------------------------------------------------- the notebooks


def test_the_notebook_builds_on_assignment_02(reference):
    assert reference.affine_forward is previous.affine_forward
    assert reference.Solver is previous.Solver


# ---------------------------------------------------------------------------------- the mutants


# ------------------------------------------------------------ correct but different, accepted


@pytest.mark.parametrize("backward", [batchnorm_backward_recomputing, batchnorm_backward_staged_graph])
def test_correct_batchnorm_variants_pass(backward):
    nd.check_batchnorm_forward(batchnorm_forward_sum_of_squares)
    nd.check_batchnorm_backward(batchnorm_forward_sum_of_squares, backward)
    nd.check_batchnorm_backward_alt(batchnorm_forward_sum_of_squares, backward)


def test_the_alt_formula_is_a_correct_batchnorm_backward(reference):
    nd.check_batchnorm_backward(reference.batchnorm_forward, reference.batchnorm_backward_alt)
    nd.check_batchnorm_forward(lambda *args: list(reference.batchnorm_forward(*args)))


def test_correct_layernorm_variant_passes():
    nd.check_layernorm_forward(layernorm_forward_transposed)
    nd.check_layernorm_backward(layernorm_forward_transposed, layernorm_backward_transposed)


@pytest.mark.parametrize("forward, backward", [
    (dropout_forward_generator, dropout_backward_generator),
    (dropout_forward_binomial, dropout_backward_binomial),
    (dropout_forward_upper_tail, dropout_backward_upper_tail),
], ids=["Generator, boolean mask", "np.random.binomial, float mask", "u >= 1 - p, mode in the cache"])
def test_correct_dropout_variants_pass(forward, backward):
    nd.check_dropout_forward(forward)
    nd.check_dropout_backward(forward, backward)


def test_correct_network_variant_passes():
    nd.check_fully_connected_net_normalization(FullyConnectedNetVariant)
    nd.check_fully_connected_net_dropout(FullyConnectedNetVariant)


# ------------------------------------------------------------ consistent pairs and own gradients


def test_a_backward_consistent_with_its_own_wrong_forward_passes():
    # The forward ignores a given eps (always 1e-5); the closed form on its cache is the exact
    # derivative of that forward, so only the forward loses its marks.
    with pytest.raises(GradingFailure, match="known mistake: eps from bn_param ignored"):
        nd.check_batchnorm_forward(batchnorm_forward_eps_ignored)
    nd.check_batchnorm_backward(batchnorm_forward_eps_ignored,
                                lambda dout, cache: normalization_backward(dout, cache, axis=0))


def test_a_backward_matching_neither_oracle_says_so(reference):
    def doubled_dbeta(dout, cache):
        dx, dgamma, dbeta = reference.batchnorm_backward(dout, cache)
        return dx, dgamma, 2 * dbeta

    with pytest.raises(GradingFailure) as failure:
        nd.check_batchnorm_backward(reference.batchnorm_forward, doubled_dbeta)
    message = str(failure.value)
    assert "The parts that differ: dbeta." in message
    assert "do not match numerical gradients of your own batchnorm_forward on this input either" in message
    assert "known mistake" not in message


def test_network_gradients_are_also_compared_with_the_networks_own_loss(reference):
    loss_case = next(c for c in nd.fully_connected_net_normalization_cases() if c.extra["kind"] == "loss")
    assert nd.consistent_with_own_loss(reference.FullyConnectedNet, loss_case)

    class HalfGradient(reference.FullyConnectedNet):
        def loss(self, X, y=None):
            result = super().loss(X, y)
            if y is None:
                return result
            loss, grads = result
            return loss, {**grads, "W1": 0.5 * grads["W1"]}

    assert not nd.consistent_with_own_loss(HalfGradient, loss_case)
    with pytest.raises(GradingFailure) as failure:
        nd.check_fully_connected_net_normalization(HalfGradient)
    assert "do not match numerical gradients of your own loss on this input either" in str(failure.value)
    assert "The parts that differ: grads['W1']." in str(failure.value)


def test_a_dropout_backward_follows_its_own_forward_not_a_fixed_mask():
    # a forward that drops nothing and does not scale is wrong, but its backward dx = dout is its
    # exact derivative; the backward check grades only the pair's consistency
    identity = lambda x, dropout_param: (x, None)
    with pytest.raises(GradingFailure):
        nd.check_dropout_forward(identity)
    nd.check_dropout_backward(identity, lambda dout, cache: dout)
    # p taken as the drop probability: at p = 1 its forward returns NaN (0 / 0); its backward,
    # consistent with it everywhere, keeps its mark
    drop = next(m for m in MUTANTS if m.name == "p taken as the drop probability").implementation
    nd.check_dropout_backward(drop, lambda dout, cache: dout * cache[2] / (1 - cache[1])
                              if cache[0] == "train" else dout)


# --------------------------------------------------------------------------- the oracles are sound


def test_normalisation_backward_oracle_matches_numerical_gradients():
    for forward_cases, axis in ((nd.batchnorm_backward_cases(), 0), (nd.layernorm_backward_cases(), 1)):
        for case in forward_cases:
            x, gamma, beta, dout = (np.array(case.inputs[k], dtype=np.float64)
                                    for k in ("x", "gamma", "beta", "dout"))
            if x.shape[1 - axis] > 1 and np.min(np.std(x, axis=axis)) < 1e-2:
                continue  # tiny variance: centred differences with h = 1e-5 are no oracle there
            param = case.inputs.get("bn_param", case.inputs.get("ln_param")) or {}
            eps = param.get("eps", 1e-5)

            def out(x, gamma, beta):
                return gamma * nd.normalize(x, axis, eps)[0] + beta

            numerical = (numerical_gradient_array(lambda v: out(v, gamma, beta), x, dout),
                         numerical_gradient_array(lambda v: out(x, v, beta), gamma, dout),
                         numerical_gradient_array(lambda v: out(x, gamma, v), beta, dout))
            for got, expected in zip(case.expected, numerical):
                np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_batchnorm_expected_running_averages_follow_the_contract_by_hand():
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    out, running_mean, running_var = nd.batchnorm_reference(x, np.ones(2), np.zeros(2), {"mode": "train"})
    np.testing.assert_allclose(running_mean, [0.2, 0.4])  # 0.1 * [2, 4]
    np.testing.assert_allclose(running_var, [0.1, 0.4])  # 0.1 * biased variances [1, 4]
    np.testing.assert_allclose(out, [[-1, -1], [1, 1]], rtol=1e-4)
    given = {"mode": "train", "momentum": 0.5, "running_mean": np.array([4.0, 0.0]),
             "running_var": np.array([2.0, 2.0])}
    _, running_mean, running_var = nd.batchnorm_reference(x, np.ones(2), np.zeros(2), given)
    np.testing.assert_allclose(running_mean, [3.0, 2.0])
    np.testing.assert_allclose(running_var, [1.5, 3.0])


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_network_oracle_matches_numerical_gradients(normalization):
    rng = np.random.default_rng(0)
    dims = [6, 5, 4, 3]
    params = nd.known_params(rng, dims, normalization is not None)
    X, y = rng.standard_normal((5, 2, 3)), np.array([0, 2, 1, 2, 0])
    result = nd.normalized_mlp(X, params, 3, normalization, y, reg=0.3)
    for key, value in params.items():
        numerical = numerical_gradient(
            lambda _: nd.normalized_mlp(X, params, 3, normalization, y, reg=0.3)["loss"], value)
        # with batch norm the gradient of b1 is exactly 0 (the bias cancels): an absolute floor
        np.testing.assert_allclose(result["grads"][key], numerical, rtol=1e-6, atol=1e-9, err_msg=key)


def test_network_oracle_in_test_mode_with_the_batch_statistics_equals_train_mode():
    rng = np.random.default_rng(1)
    params = nd.known_params(rng, [4, 6, 5, 3], True)
    X = rng.standard_normal((7, 4))
    train = nd.normalized_mlp(X, params, 3, "batchnorm")
    test = nd.normalized_mlp(X, params, 3, "batchnorm", running=train["stats"])
    np.testing.assert_allclose(test["scores"], train["scores"], rtol=1e-12)


# --------------------------------------------------------------------- coverage and messages


def test_cases_cover_the_edge_cases_the_design_asks_for():
    bn = [case.inputs for case in nd.batchnorm_forward_cases()]
    assert any(i["x"].shape[0] == 1 and i["bn_param"]["mode"] == "train" for i in bn)
    assert any(i["x"].shape[0] == 1 and i["bn_param"]["mode"] == "test" for i in bn)
    assert any(i["x"].dtype == np.float32 for i in bn)
    assert any(i["x"].shape[0] == i["x"].shape[1] for i in bn)
    assert any(i["x"].shape[0] != i["x"].shape[1] for i in bn)
    assert any(np.min(np.var(i["x"], axis=0)) < 1e-6 for i in bn)
    assert any(i["bn_param"].get("eps", 1e-5) >= 0.1 and "momentum" in i["bn_param"] for i in bn)
    assert any("running_mean" in i["bn_param"] and i["bn_param"]["mode"] == "train" for i in bn)
    ln = [case.inputs for case in nd.layernorm_forward_cases()]
    assert any(i["ln_param"] is None for i in ln) and any(i["x"].shape[0] == 1 for i in ln)
    assert any(i["x"].dtype == np.float32 for i in ln) and any((i["ln_param"] or {}).get("eps") for i in ln)
    assert any(np.min(np.var(i["x"], axis=1)) < 1e-6 for i in ln)
    dropout = nd.dropout_forward_cases()
    assert {c.extra["kind"] for c in dropout} == set(nd.DROPOUT_FORWARD_PARTS)
    assert max(c.inputs["x"].size for c in dropout) >= 100_000
    assert any(c.inputs["x"].ndim == 4 for c in dropout)
    assert any(c.inputs["x"].dtype == np.float32 for c in dropout)
    assert any(c.inputs["dropout_param"]["p"] == 1 for c in dropout)
    nets = nd.fully_connected_net_normalization_cases()
    assert {c.inputs.get("normalization") for c in nets} == {None, "batchnorm", "layernorm"}
    assert any(c.extra["kind"] == "loss" and c.inputs.get("reg", 0) > 0
               and c.inputs.get("normalization") == "batchnorm" for c in nets)
    assert any(c.extra["kind"] == "scores after a training step" and len(c.inputs["X_test"]) == 1
               for c in nets)
    assert any(c.extra["kind"] == "loss" and "dtype" not in c.inputs for c in nets)  # default float32
    dropout_nets = nd.fully_connected_net_dropout_cases()
    assert {c.extra["kind"] for c in dropout_nets} == {"deterministic", "consistent", "dropout in training",
                                                        "test scores"}
    assert {c.inputs.get("normalization") for c in dropout_nets if c.extra["kind"] == "consistent"} == {
        None, "batchnorm", "layernorm"}


def test_failure_message_names_the_running_average_that_differs():
    swapped = next(m for m in MUTANTS if m.name == "momentum and 1 - momentum swapped")
    with pytest.raises(GradingFailure) as failure:
        nd.check_batchnorm_forward(swapped.implementation)
    message = str(failure.value)
    assert message.startswith("batchnorm_forward failed a hidden check on train mode, a square input")
    assert "input bn_param = {'mode': 'train'}" in message
    assert "The parts that differ: bn_param['running_mean'], bn_param['running_var']." in message


def test_a_forward_that_does_not_keep_running_averages_is_told_so():
    def stateless(x, gamma, beta, bn_param):
        return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) + beta, None

    with pytest.raises(GradingFailure, match=r"must keep bn_param\['running_mean'\]"):
        nd.check_batchnorm_forward(stateless)


def test_no_warning_leaks_from_a_failing_check(recwarn):
    unbiased = next(m for m in MUTANTS if m.function == "batchnorm_forward" and m.name == "unbiased variance")
    with pytest.raises(GradingFailure):
        nd.check_batchnorm_forward(unbiased.implementation)  # N = 1: 0 / 0
    with pytest.raises(GradingFailure):
        nd.check_layernorm_backward(layernorm_forward_caching, lambda dout, cache: (np.log(-dout), 0, 0))
    assert len(recwarn) == 0
