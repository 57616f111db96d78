"""Realistic mistakes in assignment 03 (batch normalisation, layer normalisation, dropout).

Each layer's mistakes are one working implementation (`_batchnorm`, `_layernorm`, `_dropout`,
`normalization_backward`) with one thing changed. Backward mistakes read the cache of a known
forward, in `WORKING`: `batchnorm_forward_caching` and
`layernorm_forward_caching` keep a dict with x_hat, gamma and inv_std; `dropout_forward_caching`
keeps (mode, p, keep) with `keep` a boolean mask. The network mistakes are subclasses of
`WorkingFullyConnectedNet`, a complete network with normalisation and dropout that each mutant
breaks in one place (a class attribute).
"""
import numpy as np

from grader_tests.checking import Mutant

# ------------------------------------------------------------------------------- batch norm


def _batchnorm(x, gamma, beta, bn_param, *, ddof=0, eps_outside_sqrt=False, stats_axis=0,
               batch_stats_at_test=False, update_running=True, momentum_swapped=False,
               fixed_eps=None, fixed_momentum=None, scale_over_examples=False):
    """A working batchnorm_forward (with the defaults); each keyword is one mistake."""
    mode = bn_param["mode"]
    eps = bn_param.setdefault("eps", 1e-5) if fixed_eps is None else fixed_eps
    momentum = bn_param.setdefault("momentum", 0.9) if fixed_momentum is None else fixed_momentum
    d = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(d, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(d, dtype=x.dtype))
    if mode == "train" or batch_stats_at_test:
        mean = x.mean(axis=stats_axis)
        var = x.var(axis=stats_axis, ddof=ddof)
        if mode == "train" and update_running:
            old, new = (1 - momentum, momentum) if momentum_swapped else (momentum, 1 - momentum)
            running_mean = old * running_mean + new * mean
            running_var = old * running_var + new * var
        if stats_axis == 1:
            mean, var = mean[:, None], var[:, None]
    else:
        mean, var = running_mean, running_var
    std = np.sqrt(var) + eps if eps_outside_sqrt else np.sqrt(var + eps)
    x_hat = (x - mean) / std
    if scale_over_examples:
        out = gamma[:, None] * x_hat + beta[:, None]
    else:
        out = gamma * x_hat + beta
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return out, {"x_hat": x_hat, "gamma": gamma, "inv_std": 1.0 / std}


def batchnorm_forward_caching(x, gamma, beta, bn_param):
    return _batchnorm(x, gamma, beta, bn_param)


def batchnorm_forward_unbiased_variance(x, gamma, beta, bn_param):
    return _batchnorm(x, gamma, beta, bn_param, ddof=1)


def batchnorm_forward_batch_stats_at_test(x, gamma, beta, bn_param):
    return _batchnorm(x, gamma, beta, bn_param, batch_stats_at_test=True)


def batchnorm_forward_running_not_updated(x, gamma, beta, bn_param):
    return _batchnorm(x, gamma, beta, bn_param, update_running=False)


def batchnorm_forward_momentum_swapped(x, gamma, beta, bn_param):
    return _batchnorm(x, gamma, beta, bn_param, momentum_swapped=True)


def batchnorm_forward_eps_outside_sqrt(x, gamma, beta, bn_param):
    return _batchnorm(x, gamma, beta, bn_param, eps_outside_sqrt=True)


def batchnorm_forward_stats_over_features(x, gamma, beta, bn_param):
    return _batchnorm(x, gamma, beta, bn_param, stats_axis=1)


def batchnorm_forward_scale_over_examples(x, gamma, beta, bn_param):
    return _batchnorm(x, gamma, beta, bn_param, scale_over_examples=True)


def batchnorm_forward_eps_ignored(x, gamma, beta, bn_param):
    return _batchnorm(x, gamma, beta, bn_param, fixed_eps=1e-5)


def batchnorm_forward_momentum_ignored(x, gamma, beta, bn_param):
    return _batchnorm(x, gamma, beta, bn_param, fixed_momentum=0.9)


# ---------------------------------------------------------------------- normalisation backward


def normalization_backward(dout, cache, *, axis, mean_path=True, variance_path=True,
                            sum_dgamma_over=0, sum_dbeta=True, divide_by=None):
    """The closed-form backward of batch norm (axis 0) or layer norm (axis 1), with mistakes.

    Inputs:
    - dout: upstream gradient (N, D); cache: a dict with "x_hat" (N, D), "gamma" (D,) and
      "inv_std" (1 / sqrt(var + eps), broadcastable to (N, D)), as the caching forwards here keep.
    - axis: 0 for batch norm, 1 for layer norm.
    - mean_path, variance_path: whether dx includes the gradient through the mean / the variance.
    - sum_dgamma_over: the axis dgamma is summed over (None: not summed); sum_dbeta likewise over 0.
    - divide_by: the number of values per statistic, by default dout.shape[axis].
    Returns (dx, dgamma, dbeta); with the defaults, the correct gradients.
    """
    x_hat, gamma, inv_std = cache["x_hat"], cache["gamma"], cache["inv_std"]
    m = dout.shape[axis] if divide_by is None else divide_by
    dx_hat = dout * gamma
    dx = dx_hat
    if mean_path:
        dx = dx - dx_hat.sum(axis=axis, keepdims=True) / m
    if variance_path:
        dx = dx - x_hat * (dx_hat * x_hat).sum(axis=axis, keepdims=True) / m
    dgamma = dout * x_hat if sum_dgamma_over is None else (dout * x_hat).sum(axis=sum_dgamma_over)
    dbeta = dout.sum(axis=0) if sum_dbeta else dout
    return dx * inv_std, dgamma, dbeta


def batchnorm_backward_no_mean_or_variance_path(dout, cache):
    return normalization_backward(dout, cache, axis=0, mean_path=False, variance_path=False)


def batchnorm_backward_no_variance_path(dout, cache):
    return normalization_backward(dout, cache, axis=0, variance_path=False)


def batchnorm_backward_no_mean_path(dout, cache):
    return normalization_backward(dout, cache, axis=0, mean_path=False)


def batchnorm_backward_dgamma_not_summed(dout, cache):
    return normalization_backward(dout, cache, axis=0, sum_dgamma_over=None)


def batchnorm_backward_dbeta_not_summed(dout, cache):
    return normalization_backward(dout, cache, axis=0, sum_dbeta=False)


def batchnorm_backward_divided_by_features(dout, cache):
    return normalization_backward(dout, cache, axis=0, divide_by=dout.shape[1])


def batchnorm_backward_without_gamma(dout, cache):
    return normalization_backward(dout, {**cache, "gamma": np.ones_like(cache["gamma"])}, axis=0)


# ------------------------------------------------------------------------------- layer norm


def _layernorm(x, gamma, beta, ln_param, *, axis=1, keepdims=True, ddof=0, eps_outside_sqrt=False,
               fixed_eps=None):
    """A working layernorm_forward (with the defaults); each keyword is one mistake."""
    ln_param = {} if ln_param is None else ln_param
    eps = ln_param.setdefault("eps", 1e-5) if fixed_eps is None else fixed_eps
    mean = x.mean(axis=axis, keepdims=keepdims)
    var = x.var(axis=axis, ddof=ddof, keepdims=keepdims)
    std = np.sqrt(var) + eps if eps_outside_sqrt else np.sqrt(var + eps)
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, {"x_hat": x_hat, "gamma": gamma, "inv_std": 1.0 / std}


def layernorm_forward_caching(x, gamma, beta, ln_param):
    return _layernorm(x, gamma, beta, ln_param)


def layernorm_forward_over_batch(x, gamma, beta, ln_param):
    return _layernorm(x, gamma, beta, ln_param, axis=0)


def layernorm_forward_without_keepdims(x, gamma, beta, ln_param):
    return _layernorm(x, gamma, beta, ln_param, keepdims=False)


def layernorm_forward_unbiased_variance(x, gamma, beta, ln_param):
    return _layernorm(x, gamma, beta, ln_param, ddof=1)


def layernorm_forward_eps_outside_sqrt(x, gamma, beta, ln_param):
    return _layernorm(x, gamma, beta, ln_param, eps_outside_sqrt=True)


def layernorm_forward_eps_ignored(x, gamma, beta, ln_param):
    return _layernorm(x, gamma, beta, ln_param, fixed_eps=1e-5)


def layernorm_backward_over_batch(dout, cache):
    return normalization_backward(dout, cache, axis=0)


def layernorm_backward_no_mean_or_variance_path(dout, cache):
    return normalization_backward(dout, cache, axis=1, mean_path=False, variance_path=False)


def layernorm_backward_dgamma_over_features(dout, cache):
    return normalization_backward(dout, cache, axis=1, sum_dgamma_over=1)


def layernorm_backward_dgamma_not_summed(dout, cache):
    return normalization_backward(dout, cache, axis=1, sum_dgamma_over=None)


# ---------------------------------------------------------------------------------- dropout


def _dropout(x, dropout_param, *, inverted=True, p_is_drop=False, seeded=True, at_test=False,
             in_place=False):
    """A working dropout_forward (with the defaults); each keyword is one mistake."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if seeded and "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode != "train" and not at_test:
        return x, (mode, p, None)
    draw = np.random.rand(*x.shape)
    keep = draw >= p if p_is_drop else draw < p
    scale = (1 - p if p_is_drop else p) if inverted else 1.0
    if in_place:
        x *= keep / scale
        return x, (mode, p, keep)
    return x * keep / scale, (mode, p, keep)


def dropout_forward_caching(x, dropout_param):
    return _dropout(x, dropout_param)


def dropout_forward_not_inverted(x, dropout_param):
    return _dropout(x, dropout_param, inverted=False)


def dropout_forward_p_as_drop_probability(x, dropout_param):
    return _dropout(x, dropout_param, p_is_drop=True)


def dropout_forward_seed_ignored(x, dropout_param):
    return _dropout(x, dropout_param, seeded=False)


def dropout_forward_active_at_test(x, dropout_param):
    return _dropout(x, dropout_param, at_test=True)


def dropout_forward_in_place(x, dropout_param):
    return _dropout(x, dropout_param, in_place=True)


def dropout_backward_new_mask(dout, cache):
    mode, p, _ = cache
    if mode != "train":
        return dout
    return dout * (np.random.rand(*dout.shape) < p) / p


def dropout_backward_not_divided_by_p(dout, cache):
    mode, p, keep = cache
    return dout * keep if mode == "train" else dout


def dropout_backward_mask_ignored(dout, cache):
    return dout


def dropout_backward_dout_in_place(dout, cache):
    mode, p, keep = cache
    if mode == "train":
        dout *= keep / p
    return dout


# ------------------------------------------------------------------------------------ networks


class WorkingFullyConnectedNet:
    """{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax.

    A complete network of its own (batch norm with eps 1e-5 and momentum 0.9, inverted dropout
    seeded with np.random.seed), with flags that the mutants below change.
    """

    norm_after_relu = False           # affine - relu - norm instead of affine - norm - relu
    norm_on_last_layer = False        # gammaL, betaL and a normalised score layer
    gamma_beta_regularised = False    # 0.5 * reg * (gamma**2 + beta**2) in the loss and grads
    scores_in_train_mode = False      # loss(X) keeps batch norm and dropout in train mode
    dropout_at_test = False           # loss(X) still drops units
    dropout_ignored = False           # dropout_keep_ratio has no effect
    dropout_unseeded = False          # the constructor's seed never reaches the dropout layers
    layernorm_ignored = False         # normalization='layernorm' treated as None
    running_averages_reset = False    # new batch-norm state at every call of loss
    gamma_init, beta_init = 1.0, 0.0

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout_keep_ratio=1,
                 normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        self.reg, self.dtype, self.seed = reg, dtype, seed
        self.keep_ratio = dropout_keep_ratio
        ignored = self.layernorm_ignored and normalization == "layernorm"
        self.normalization = None if ignored else normalization
        dims = [input_dim, *hidden_dims, num_classes]
        self.num_layers = len(dims) - 1
        self.params = {}
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            self.params[f"W{i}"] = weight_scale * np.random.randn(d_in, d_out)
            self.params[f"b{i}"] = np.zeros(d_out)
            if self._normalised(i):
                self.params[f"gamma{i}"] = np.full(d_out, self.gamma_init)
                self.params[f"beta{i}"] = np.full(d_out, self.beta_init)
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}
        self.running = {}

    def _normalised(self, i):
        return self.normalization is not None and (i < self.num_layers or self.norm_on_last_layer)

    def _norm_forward(self, z, i, train):
        gamma, beta = self.params[f"gamma{i}"], self.params[f"beta{i}"]
        axis = 0 if self.normalization == "batchnorm" else 1
        if axis == 0 and not train:
            zeros = np.zeros(z.shape[1], dtype=z.dtype)
            mean, var = self.running.get(i, (zeros, zeros))
        else:
            mean, var = z.mean(axis=axis, keepdims=True), z.var(axis=axis, keepdims=True)
            if axis == 0:
                old_mean, old_var = self.running.get(i, (0.0, 0.0))
                self.running[i] = (0.9 * old_mean + 0.1 * mean[0], 0.9 * old_var + 0.1 * var[0])
        inv_std = 1.0 / np.sqrt(var + 1e-5)
        z_hat = (z - mean) * inv_std
        return gamma * z_hat + beta, (z_hat, gamma, inv_std, axis)

    @staticmethod
    def _norm_backward(delta, cache):
        z_hat, gamma, inv_std, axis = cache
        d_hat = delta * gamma
        dz = inv_std * (d_hat - d_hat.mean(axis=axis, keepdims=True)
                        - z_hat * (d_hat * z_hat).mean(axis=axis, keepdims=True))
        return dz, (delta * z_hat).sum(axis=0), delta.sum(axis=0)

    def _dropout_mask(self, shape):
        if self.seed is not None and not self.dropout_unseeded:
            np.random.seed(self.seed)
        return (np.random.rand(*shape) < self.keep_ratio) / self.keep_ratio

    def loss(self, X, y=None):
        train = y is not None or self.scores_in_train_mode
        drop = (self.keep_ratio != 1 and not self.dropout_ignored
                and (train or self.dropout_at_test))
        if self.running_averages_reset:
            self.running = {}
        h = X.reshape(X.shape[0], -1).astype(self.dtype)
        tape = []
        for i in range(1, self.num_layers + 1):
            inputs, ops = h, []
            h = h @ self.params[f"W{i}"] + self.params[f"b{i}"]
            hidden = i < self.num_layers
            order = ["relu", "norm"] if self.norm_after_relu else ["norm", "relu"]
            for op in order if hidden else ["norm"]:
                if op == "norm" and self._normalised(i):
                    h, cache = self._norm_forward(h, i, train)
                    ops.append(("norm", cache))
                elif op == "relu":
                    ops.append(("mask", h > 0))
                    h = np.maximum(h, 0)
            if hidden and drop:
                mask = self._dropout_mask(h.shape)
                ops.append(("mask", mask))
                h = h * mask
            tape.append((inputs, ops))
        if y is None:
            return h
        n = X.shape[0]
        shifted = h - h.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -np.mean(log_p[np.arange(n), y])
        delta = np.exp(log_p)
        delta[np.arange(n), y] -= 1
        delta /= n
        grads = {}
        for i in range(self.num_layers, 0, -1):
            inputs, ops = tape[i - 1]
            for op, cache in reversed(ops):
                if op == "mask":
                    delta = delta * cache
                else:
                    delta, grads[f"gamma{i}"], grads[f"beta{i}"] = self._norm_backward(delta, cache)
            grads[f"W{i}"] = inputs.T @ delta
            grads[f"b{i}"] = delta.sum(axis=0)
            delta = delta @ self.params[f"W{i}"].T
        regularised = [k for k in self.params if k.startswith("W")
                       or (self.gamma_beta_regularised and k.startswith(("gamma", "beta")))]
        for name in regularised:
            loss += 0.5 * self.reg * np.sum(self.params[name] ** 2)
            grads[name] = grads[name] + self.reg * self.params[name]
        return loss, grads


class FullyConnectedNetNormAfterRelu(WorkingFullyConnectedNet):
    norm_after_relu = True


class FullyConnectedNetNormOnLastLayer(WorkingFullyConnectedNet):
    norm_on_last_layer = True


class FullyConnectedNetGammaBetaRegularised(WorkingFullyConnectedNet):
    gamma_beta_regularised = True


class FullyConnectedNetScoresInTrainMode(WorkingFullyConnectedNet):
    scores_in_train_mode = True


class FullyConnectedNetDropoutAtTest(WorkingFullyConnectedNet):
    dropout_at_test = True


class FullyConnectedNetDropoutIgnored(WorkingFullyConnectedNet):
    dropout_ignored = True


class FullyConnectedNetDropoutUnseeded(WorkingFullyConnectedNet):
    dropout_unseeded = True


class FullyConnectedNetLayernormIgnored(WorkingFullyConnectedNet):
    layernorm_ignored = True


class FullyConnectedNetRunningAveragesReset(WorkingFullyConnectedNet):
    running_averages_reset = True


class FullyConnectedNetGammaBetaInitSwapped(WorkingFullyConnectedNet):
    gamma_init, beta_init = 0.0, 1.0


def dropout_backward_reading_mask(dout, cache):
    mode, p, keep = cache
    return dout * keep / p if mode == "train" else dout


WORKING = {"batchnorm_forward": batchnorm_forward_caching, "layernorm_forward": layernorm_forward_caching,
           "dropout_forward": dropout_forward_caching, "dropout_backward": dropout_backward_reading_mask,
           "FullyConnectedNet": WorkingFullyConnectedNet}
"""A correct notebook in the mutants' conventions: each mutant replaces one of these definitions
(a backward mutant reads the cache of the forward here), and the checks pass on them unchanged."""


def _batchnorm_backward_mutants(function):
    """The backward mistakes shared by batchnorm_backward and batchnorm_backward_alt."""
    return [
        Mutant(function, "mean and variance paths missing",
               "mean and var depend on every x[i]: dx has three terms, through x_hat directly, "
               "through the mean and through the variance (see the formula for dx).",
               batchnorm_backward_no_mean_or_variance_path),
        Mutant(function, "variance path missing",
               "var depends on x too: add the term -x_hat * sum_i(dx_hat[i] * x_hat[i]) / N.",
               batchnorm_backward_no_variance_path),
        Mutant(function, "mean path missing",
               "mean depends on x too: add the term -sum_i(dx_hat[i]) / N.",
               batchnorm_backward_no_mean_path),
        Mutant(function, "dgamma not summed over the batch",
               "gamma multiplies every example: dgamma = sum over the batch of dout * x_hat, shape (D,).",
               batchnorm_backward_dgamma_not_summed),
        Mutant(function, "dbeta not summed over the batch",
               "beta is added to every example: dbeta = dout.sum(axis=0), shape (D,).",
               batchnorm_backward_dbeta_not_summed),
        Mutant(function, "divided by D instead of N",
               "Batch statistics average over the N examples: divide the sums over axis 0 by "
               "N = dout.shape[0].",
               batchnorm_backward_divided_by_features),
        Mutant(function, "gamma missing from dx",
               "out = gamma * x_hat + beta, so the gradient reaching x_hat is dout * gamma.",
               batchnorm_backward_without_gamma),
    ]


def _network_mutants():
    function = "FullyConnectedNet"
    return [
        Mutant(function, "normalisation after the ReLU",
               "Each hidden layer is affine - batch/layer norm - relu [- dropout]: normalise the "
               "affine output, before the ReLU.", FullyConnectedNetNormAfterRelu),
        Mutant(function, "normalisation on the last layer",
               "Only hidden layers are normalised (gamma1, beta1 ... gamma(L-1), beta(L-1)); the "
               "scores come straight from the last affine layer.", FullyConnectedNetNormOnLastLayer),
        Mutant(function, "gamma and beta regularised",
               "The L2 term 0.5 * reg * sum(W**2) covers the weight matrices only, not gamma or beta.",
               FullyConnectedNetGammaBetaRegularised),
        Mutant(function, "mode not switched to test for scores",
               "loss(X) without y is test mode: set 'mode' to 'test' in every bn_param and "
               "dropout_param, so that batch norm uses its running averages and dropout is off.",
               FullyConnectedNetScoresInTrainMode),
        Mutant(function, "dropout active at test time",
               "loss(X) without y is test mode: set dropout_param['mode'] = 'test'.",
               FullyConnectedNetDropoutAtTest),
        Mutant(function, "dropout not applied",
               "When dropout_keep_ratio < 1, put a dropout layer after every hidden ReLU.",
               FullyConnectedNetDropoutIgnored),
        Mutant(function, "seed not passed to the dropout layers",
               "With a seed, every dropout layer gets dropout_param['seed'] = seed, so that loss is a "
               "deterministic function of the parameters.", FullyConnectedNetDropoutUnseeded),
        Mutant(function, "layer normalisation not applied",
               "normalization='layernorm' needs gamma/beta per hidden layer and layernorm_forward "
               "after each hidden affine layer.", FullyConnectedNetLayernormIgnored),
        Mutant(function, "running averages not kept between calls",
               "Keep one bn_param dict per layer in the model (created once in __init__) and pass "
               "the same dict at every call: it carries the running averages.",
               FullyConnectedNetRunningAveragesReset),
        Mutant(function, "gamma and beta initialised the wrong way round",
               "Start with the identity: gamma = ones, beta = zeros.", FullyConnectedNetGammaBetaInitSwapped),
    ]


MUTANTS = [
    # batchnorm_forward
    Mutant("batchnorm_forward", "unbiased variance",
           "Batch norm uses the biased variance: x.var(axis=0), the mean of squared deviations "
           "(divide by N).",
           batchnorm_forward_unbiased_variance),
    Mutant("batchnorm_forward", "batch statistics used at test time",
           "In test mode normalise with bn_param['running_mean'] and bn_param['running_var'].",
           batchnorm_forward_batch_stats_at_test),
    Mutant("batchnorm_forward", "running averages not updated",
           "In train mode update running_mean = momentum * running_mean + (1 - momentum) * mean "
           "(and running_var likewise); the last lines store them in bn_param.",
           batchnorm_forward_running_not_updated),
    Mutant("batchnorm_forward", "momentum and 1 - momentum swapped",
           "running = momentum * running + (1 - momentum) * batch statistic: the old value keeps "
           "the weight momentum.", batchnorm_forward_momentum_swapped),
    Mutant("batchnorm_forward", "eps outside the square root",
           "x_hat = (x - mean) / np.sqrt(var + eps): eps goes inside the square root.",
           batchnorm_forward_eps_outside_sqrt),
    Mutant("batchnorm_forward", "statistics over the features (axis=1) instead of the batch",
           "Batch norm normalises each feature over the examples: mean and var over axis=0.",
           batchnorm_forward_stats_over_features),
    Mutant("batchnorm_forward", "gamma and beta applied over the wrong axis",
           "gamma and beta have one entry per feature (D,): out = gamma * x_hat + beta broadcasts "
           "them along the rows.", batchnorm_forward_scale_over_examples),
    Mutant("batchnorm_forward", "eps from bn_param ignored",
           "Read eps with bn_param.setdefault('eps', 1e-5), so that a given eps is used.",
           batchnorm_forward_eps_ignored),
    Mutant("batchnorm_forward", "momentum from bn_param ignored",
           "Read momentum with bn_param.setdefault('momentum', 0.9), so that a given momentum is used.",
           batchnorm_forward_momentum_ignored),
    # batchnorm_backward, batchnorm_backward_alt
    *_batchnorm_backward_mutants("batchnorm_backward"),
    *_batchnorm_backward_mutants("batchnorm_backward_alt"),
    # layernorm_forward
    Mutant("layernorm_forward", "statistics over the batch (axis=0) instead of each example's features",
           "Layer norm normalises each example over its own features: mean and var over axis=1.",
           layernorm_forward_over_batch),
    Mutant("layernorm_forward", "mean and variance without keepdims",
           "x.mean(axis=1) has shape (N,) and broadcasts along the wrong axis; use keepdims=True "
           "for shape (N, 1).", layernorm_forward_without_keepdims),
    Mutant("layernorm_forward", "unbiased variance",
           "Layer norm uses the biased variance: the mean of squared deviations (divide by D).",
           layernorm_forward_unbiased_variance),
    Mutant("layernorm_forward", "eps outside the square root",
           "x_hat = (x - mean) / np.sqrt(var + eps): eps goes inside the square root.",
           layernorm_forward_eps_outside_sqrt),
    Mutant("layernorm_forward", "eps from ln_param ignored",
           "Read eps with ln_param.setdefault('eps', 1e-5), so that a given eps is used.",
           layernorm_forward_eps_ignored),
    # layernorm_backward
    Mutant("layernorm_backward", "sums over the batch (axis=0) as in batch norm",
           "Layer norm's statistics are per example: the sums in dx run over the features (axis=1, "
           "keepdims=True), divided by D.", layernorm_backward_over_batch),
    Mutant("layernorm_backward", "mean and variance paths missing",
           "Each example's mean and var depend on all its features: dx has the same three terms as "
           "batch norm's, summed along axis 1.", layernorm_backward_no_mean_or_variance_path),
    Mutant("layernorm_backward", "dgamma summed over the features (axis=1)",
           "gamma has one entry per feature: dgamma = sum over the batch (axis=0) of dout * x_hat.",
           layernorm_backward_dgamma_over_features),
    Mutant("layernorm_backward", "dgamma not summed over the batch",
           "gamma multiplies every example: dgamma = sum over axis 0 of dout * x_hat, shape (D,).",
           layernorm_backward_dgamma_not_summed),
    # dropout_forward
    Mutant("dropout_forward", "not inverted (no division by p)",
           "Inverted dropout scales the kept units at train time: out = x * mask / p, so that test "
           "mode can return x unchanged.", dropout_forward_not_inverted),
    Mutant("dropout_forward", "p taken as the drop probability",
           "p is the probability of KEEPING a unit: mask = np.random.rand(*x.shape) < p.",
           dropout_forward_p_as_drop_probability),
    Mutant("dropout_forward", "seed ignored",
           "When dropout_param has a 'seed', call np.random.seed(seed) before drawing the mask "
           "(or draw from np.random.default_rng(seed)).", dropout_forward_seed_ignored),
    Mutant("dropout_forward", "dropout active at test time",
           "In test mode dropout is the identity: out = x.", dropout_forward_active_at_test),
    Mutant("dropout_forward", "input modified in place",
           "`x *= mask` changes the caller's array; compute out = x * mask / p instead.",
           dropout_forward_in_place),
    # dropout_backward
    Mutant("dropout_backward", "new random mask in the backward pass",
           "The gradient flows through the units the forward kept: keep the forward's mask in the "
           "cache and use it, dx = dout * mask / p.", dropout_backward_new_mask),
    Mutant("dropout_backward", "dx not divided by p",
           "The forward multiplied the kept units by 1 / p, so dx = dout * mask / p.",
           dropout_backward_not_divided_by_p),
    Mutant("dropout_backward", "mask ignored (dx = dout)",
           "In train mode the dropped units get no gradient: dx = dout * mask / p.",
           dropout_backward_mask_ignored),
    Mutant("dropout_backward", "dout modified in place",
           "`dout *= mask` changes the caller's array; compute dx = dout * mask / p instead.",
           dropout_backward_dout_in_place),
    # FullyConnectedNet
    *_network_mutants(),
]
