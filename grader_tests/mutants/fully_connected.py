"""Realistic mistakes in assignment 02 (fully-connected networks).

Backward mistakes read the cache of a known forward, its forward in `WORKING`:
`affine_forward_caching_inputs` keeps (x, w, b), `relu_forward_caching_input` keeps x.
The network mistakes are subclasses of `WorkingTwoLayerNet` / `WorkingFullyConnectedNet`, complete
networks that each mutant breaks in one place (a class attribute or one method).
"""
import numpy as np

from grader_tests.checking import Mutant

# --------------------------------------------------------------------------------------- affine


def affine_forward_caching_inputs(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_forward_without_reshape(x, w, b):
    return x @ w + b, (x, w, b)


def affine_forward_ignoring_bias(x, w, b):
    return x.reshape(x.shape[0], -1) @ w, (x, w, b)


def affine_forward_without_cache(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b


def affine_backward_dx_flattened(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    return dout @ w.T, x2.T @ dout, dout.sum(axis=0)


def affine_backward_db_not_summed(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), x2.T @ dout, dout


def affine_backward_db_summed_over_features(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), x2.T @ dout, dout.sum(axis=1)


def affine_backward_dw_transposed(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), dout.T @ x2, dout.sum(axis=0)


def affine_backward_dw_from_unreshaped_x(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.T @ dout, dout.sum(axis=0)


# ----------------------------------------------------------------------------------------- relu


def relu_forward_caching_input(x):
    return np.maximum(0, x), x


def relu_forward_in_place(x):
    x[x < 0] = 0
    return x, x


def relu_forward_with_np_max(x):
    return np.max(x, 0), x


def relu_forward_without_cache(x):
    return np.maximum(0, x)


def relu_backward_mask_at_zero(dout, cache):
    return dout * (cache >= 0)


def relu_backward_passes_dout_through(dout, cache):
    return dout


def relu_backward_dout_in_place(dout, cache):
    dout[cache <= 0] = 0
    return dout


def relu_backward_times_output(dout, cache):
    return dout * np.maximum(0, cache)


# --------------------------------------------------------------------------------- softmax_loss


def _log_probs(x):
    shifted = x - np.max(x, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def _one_hot(y, x):
    one_hot = np.zeros(x.shape)
    one_hot[np.arange(x.shape[0]), y] = 1
    return one_hot


def softmax_loss_summed_over_batch(x, y):
    log_probs = _log_probs(x)
    return -np.sum(log_probs[np.arange(x.shape[0]), y]), np.exp(log_probs) - _one_hot(y, x)


def softmax_loss_without_max_shift(x, y):
    exp = np.exp(x)
    probs = exp / np.sum(exp, axis=1, keepdims=True)
    n = x.shape[0]
    return -np.mean(np.log(probs[np.arange(n), y])), (probs - _one_hot(y, x)) / n


def softmax_loss_dx_without_one_hot(x, y):
    log_probs = _log_probs(x)
    n = x.shape[0]
    return -np.mean(log_probs[np.arange(n), y]), np.exp(log_probs) / n


def softmax_loss_dx_not_averaged(x, y):
    log_probs = _log_probs(x)
    n = x.shape[0]
    return -np.mean(log_probs[np.arange(n), y]), np.exp(log_probs) - _one_hot(y, x)


def softmax_loss_loss_not_averaged(x, y):
    log_probs = _log_probs(x)
    n = x.shape[0]
    return -np.sum(log_probs[np.arange(n), y]), (np.exp(log_probs) - _one_hot(y, x)) / n


def softmax_loss_columns_indexed_by_y(x, y):
    log_probs = _log_probs(x)
    n = x.shape[0]
    return -np.mean(log_probs[:, y]), (np.exp(log_probs) - _one_hot(y, x)) / n


def softmax_loss_dx_sign_flipped(x, y):
    log_probs = _log_probs(x)
    n = x.shape[0]
    return -np.mean(log_probs[np.arange(n), y]), (_one_hot(y, x) - np.exp(log_probs)) / n


# ---------------------------------------------------------------------------------- optimizers


def sgd_ascending(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w + config["learning_rate"] * dw, config


def sgd_fixed_learning_rate(w, dw, config=None):
    config = {} if config is None else config
    return w - 1e-2 * dw, config


def _momentum_config(w, config):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    config.setdefault("velocity", np.zeros_like(w))
    return config


def sgd_momentum_ascending(w, dw, config=None):
    config = _momentum_config(w, config)
    v = config["momentum"] * config["velocity"] + config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def sgd_momentum_opposite_velocity_sign(w, dw, config=None):
    config = _momentum_config(w, config)
    v = config["momentum"] * config["velocity"] + config["learning_rate"] * dw
    config["velocity"] = v
    return w - v, config


def sgd_momentum_velocity_not_stored(w, dw, config=None):
    config = _momentum_config(w, config)
    v = config["momentum"] * config["velocity"] - config["learning_rate"] * dw
    return w + v, config


def sgd_momentum_steps_along_dw(w, dw, config=None):
    config = _momentum_config(w, config)
    config["velocity"] = config["momentum"] * config["velocity"] - config["learning_rate"] * dw
    return w - config["learning_rate"] * dw, config


def sgd_momentum_default_momentum_missing(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def _rmsprop_config(w, config):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    return config


def rmsprop_epsilon_inside_sqrt(w, dw, config=None):
    config = _rmsprop_config(w, config)
    decay = config["decay_rate"]
    config["cache"] = decay * config["cache"] + (1 - decay) * dw**2
    return w - config["learning_rate"] * dw / np.sqrt(config["cache"] + config["epsilon"]), config


def rmsprop_decay_weights_swapped(w, dw, config=None):
    config = _rmsprop_config(w, config)
    decay = config["decay_rate"]
    config["cache"] = (1 - decay) * config["cache"] + decay * dw**2
    return w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"]), config


def rmsprop_cache_not_stored(w, dw, config=None):
    config = _rmsprop_config(w, config)
    decay = config["decay_rate"]
    cache = decay * config["cache"] + (1 - decay) * dw**2
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def rmsprop_without_sqrt(w, dw, config=None):
    config = _rmsprop_config(w, config)
    decay = config["decay_rate"]
    config["cache"] = decay * config["cache"] + (1 - decay) * dw**2
    return w - config["learning_rate"] * dw / (config["cache"] + config["epsilon"]), config


def _adam_config(w, config):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    return config


def _adam_moments(dw, config):
    b1, b2 = config["beta1"], config["beta2"]
    return b1 * config["m"] + (1 - b1) * dw, b2 * config["v"] + (1 - b2) * dw**2


def adam_without_bias_correction(w, dw, config=None):
    config = _adam_config(w, config)
    config["t"] += 1
    config["m"], config["v"] = _adam_moments(dw, config)
    step = config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
    return w - config["learning_rate"] * step, config


def adam_t_incremented_after_use(w, dw, config=None):
    config = _adam_config(w, config)
    config["m"], config["v"] = _adam_moments(dw, config)
    t = config["t"]
    m_hat = config["m"] / (1 - config["beta1"]**t)
    v_hat = config["v"] / (1 - config["beta2"]**t)
    config["t"] = t + 1
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config


def adam_bias_corrections_swapped(w, dw, config=None):
    config = _adam_config(w, config)
    config["t"] += 1
    t = config["t"]
    config["m"], config["v"] = _adam_moments(dw, config)
    m_hat = config["m"] / (1 - config["beta2"]**t)
    v_hat = config["v"] / (1 - config["beta1"]**t)
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config


def adam_moments_not_stored(w, dw, config=None):
    config = _adam_config(w, config)
    config["t"] += 1
    t = config["t"]
    m, v = _adam_moments(dw, config)
    m_hat = m / (1 - config["beta1"]**t)
    v_hat = v / (1 - config["beta2"]**t)
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config


def adam_epsilon_inside_sqrt(w, dw, config=None):
    config = _adam_config(w, config)
    config["t"] += 1
    t = config["t"]
    config["m"], config["v"] = _adam_moments(dw, config)
    m_hat = config["m"] / (1 - config["beta1"]**t)
    v_hat = config["v"] / (1 - config["beta2"]**t)
    return w - config["learning_rate"] * m_hat / np.sqrt(v_hat + config["epsilon"]), config


def adam_t_not_stored(w, dw, config=None):
    config = _adam_config(w, config)
    t = config["t"] + 1
    config["m"], config["v"] = _adam_moments(dw, config)
    m_hat = config["m"] / (1 - config["beta1"]**t)
    v_hat = config["v"] / (1 - config["beta2"]**t)
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config


# ------------------------------------------------------------------------------------- networks


class _WorkingMLP:
    """affine - relu - ... - affine - softmax, with flags that the mutants below change."""

    reg_factor = 0.5            # loss term reg_factor * reg * sum(W**2); gradient reg * W
    reg_in_loss = True
    reg_in_grads = True
    relu_after_last = False
    probabilities_as_scores = False

    def _init_params(self, dims, weight_scale, dtype):
        self.params = {}
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            self.params[f"W{i}"] = self._weights(d_in, d_out, weight_scale).astype(dtype)
            self.params[f"b{i}"] = self._biases(d_out, weight_scale).astype(dtype)
        self.num_layers = len(dims) - 1

    def _weights(self, d_in, d_out, weight_scale):
        return weight_scale * np.random.randn(d_in, d_out)

    def _biases(self, d_out, weight_scale):
        return np.zeros(d_out)

    def _regularised(self):
        """The parameter names that the L2 term covers."""
        return [f"W{i}" for i in range(1, self.num_layers + 1)]

    def loss(self, X, y=None):
        h = X.reshape(X.shape[0], -1).astype(self.params["W1"].dtype)
        inputs = []
        for i in range(1, self.num_layers + 1):
            inputs.append(h)
            h = h @ self.params[f"W{i}"] + self.params[f"b{i}"]
            if i < self.num_layers or self.relu_after_last:
                h = np.maximum(0, h)
        scores = h
        log_probs = scores - np.max(scores, axis=1, keepdims=True)
        log_probs = log_probs - np.log(np.sum(np.exp(log_probs), axis=1, keepdims=True))
        if y is None:
            return np.exp(log_probs) if self.probabilities_as_scores else scores
        n = X.shape[0]
        loss = -np.mean(log_probs[np.arange(n), y])
        dh = np.exp(log_probs)
        dh[np.arange(n), y] -= 1
        dh /= n
        grads = {}
        for i in range(self.num_layers, 0, -1):
            # dh is the gradient w.r.t. layer i's output, inputs[i] (or the scores when i is last).
            if i < self.num_layers:
                dh = dh * (inputs[i] > 0)
            elif self.relu_after_last:
                dh = dh * (scores > 0)
            grads[f"W{i}"] = inputs[i - 1].T @ dh
            grads[f"b{i}"] = dh.sum(axis=0)
            dh = dh @ self.params[f"W{i}"].T
        for name in self._regularised():
            if self.reg_in_loss:
                loss += self.reg_factor * self.reg * np.sum(self.params[name]**2)
            if self.reg_in_grads:
                grads[name] = grads[name] + self.reg * self.params[name]
        return loss, grads


class WorkingTwoLayerNet(_WorkingMLP):
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3,
                 reg=0.0):
        self.reg = reg
        self._init_params([input_dim, hidden_dim, num_classes], weight_scale, np.float64)


class WorkingFullyConnectedNet(_WorkingMLP):
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout_keep_ratio=1,
                 normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        self.reg = reg
        self.dtype = dtype
        self._init_params(self._dims(input_dim, list(hidden_dims), num_classes), weight_scale,
                          self._param_dtype(dtype))

    def _dims(self, input_dim, hidden_dims, num_classes):
        return [input_dim, *hidden_dims, num_classes]

    def _param_dtype(self, dtype):
        return dtype


def _mutant_classes(base, suffix):
    """The network mistakes, as subclasses of `base` (a working TwoLayerNet or FullyConnectedNet)."""

    class BiasesRegularised(base):
        def _regularised(self):
            return list(self.params)

    class RegWithoutHalf(base):
        reg_factor = 1.0

    class RegNotInGrads(base):
        reg_in_grads = False

    class RegNotInLoss(base):
        reg_in_loss = False

    class ReluAfterLastLayer(base):
        relu_after_last = True

    class ProbabilitiesAsScores(base):
        probabilities_as_scores = True

    class RandomBiases(base):
        def _biases(self, d_out, weight_scale):
            return weight_scale * np.random.randn(d_out)

    class UnscaledWeights(base):
        def _weights(self, d_in, d_out, weight_scale):
            return np.random.randn(d_in, d_out)

    classes = [BiasesRegularised, RegWithoutHalf, RegNotInGrads, RegNotInLoss, ReluAfterLastLayer,
               ProbabilitiesAsScores, RandomBiases, UnscaledWeights]
    for cls in classes:
        cls.__name__ = cls.__qualname__ = f"{cls.__name__}{suffix}"
    return classes


(TwoLayerNetBiasesRegularised, TwoLayerNetRegWithoutHalf, TwoLayerNetRegNotInGrads,
 TwoLayerNetRegNotInLoss, TwoLayerNetReluAfterLastLayer, TwoLayerNetProbabilitiesAsScores,
 TwoLayerNetRandomBiases, TwoLayerNetUnscaledWeights) = _mutant_classes(WorkingTwoLayerNet, "TwoLayerNet")
(FullyConnectedNetBiasesRegularised, FullyConnectedNetRegWithoutHalf, FullyConnectedNetRegNotInGrads,
 FullyConnectedNetRegNotInLoss, FullyConnectedNetReluAfterLastLayer,
 FullyConnectedNetProbabilitiesAsScores, FullyConnectedNetRandomBiases,
 FullyConnectedNetUnscaledWeights) = _mutant_classes(WorkingFullyConnectedNet, "FullyConnectedNet")


class FullyConnectedNetIgnoringDtype(WorkingFullyConnectedNet):
    def _param_dtype(self, dtype):
        return np.float64


class FullyConnectedNetLastHiddenLayerDropped(WorkingFullyConnectedNet):
    def _dims(self, input_dim, hidden_dims, num_classes):
        return [input_dim, *hidden_dims[:-1], num_classes]


class FullyConnectedNetOnlyLastWeightsRegularised(WorkingFullyConnectedNet):
    def _regularised(self):
        return [f"W{self.num_layers}"]


def affine_backward_reading_inputs(dout, cache):
    x, w, _ = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, dout.sum(axis=0)


def relu_backward_reading_input(dout, cache):
    return dout * (cache > 0)


WORKING = {"affine_forward": affine_forward_caching_inputs, "affine_backward": affine_backward_reading_inputs,
           "relu_forward": relu_forward_caching_input, "relu_backward": relu_backward_reading_input,
           "TwoLayerNet": WorkingTwoLayerNet, "FullyConnectedNet": WorkingFullyConnectedNet}
"""A correct notebook in the mutants' conventions: each mutant replaces one of these definitions
(a backward mutant reads the cache of the forward here), and the checks pass on them unchanged."""


def _network_mutants(function, classes):
    (biases_regularised, reg_without_half, reg_not_in_grads, reg_not_in_loss, relu_after_last,
     probabilities, random_biases, unscaled_weights) = classes
    return [
        Mutant(function, "biases regularised too",
               "The L2 term 0.5 * reg * sum(W**2) covers the weight matrices only, not b1, b2, ...",
               biases_regularised),
        Mutant(function, "0.5 missing from the regularisation term",
               "The loss adds 0.5 * reg * sum(W**2) for each weight matrix, whose gradient is reg * W.",
               reg_without_half),
        Mutant(function, "regularisation missing from the gradients",
               "Add reg * W to each weight gradient, the derivative of 0.5 * reg * sum(W**2).",
               reg_not_in_grads),
        Mutant(function, "regularisation missing from the loss",
               "Add 0.5 * reg * sum(W**2) over the weight matrices to the data loss.",
               reg_not_in_loss),
        Mutant(function, "ReLU after the last layer",
               "The scores are the output of the last affine layer, with no ReLU after it.",
               relu_after_last),
        Mutant(function, "probabilities returned instead of scores",
               "With y=None, loss returns the raw class scores of the last affine layer, "
               "not their softmax.", probabilities),
        Mutant(function, "biases not initialised to zero",
               "Initialise every bias with np.zeros.", random_biases),
        Mutant(function, "weights not scaled by weight_scale",
               "Draw weights as weight_scale * np.random.randn(d_in, d_out).", unscaled_weights),
    ]


MUTANTS = [
    # affine_forward
    Mutant("affine_forward", "x not reshaped",
           "Flatten each example first: x.reshape(x.shape[0], -1) has shape (N, D).",
           affine_forward_without_reshape),
    Mutant("affine_forward", "bias ignored",
           "out = x_flat @ w + b: the bias b is added to every row.", affine_forward_ignoring_bias),
    Mutant("affine_forward", "cache not returned",
           "Return a pair: return out, cache (e.g. cache = (x, w, b)).", affine_forward_without_cache),
    # affine_backward
    Mutant("affine_backward", "dx returned flattened",
           "dx must have x's original shape: reshape dout @ w.T to x.shape.",
           affine_backward_dx_flattened),
    Mutant("affine_backward", "db not summed over the batch",
           "b is added to every example, so db = dout.sum(axis=0), of shape (M,).",
           affine_backward_db_not_summed),
    Mutant("affine_backward", "db summed over the wrong axis",
           "Sum dout over the examples (axis=0), not over the outputs (axis=1).",
           affine_backward_db_summed_over_features),
    Mutant("affine_backward", "dw transposed (dout.T @ x)",
           "dw has w's shape (D, M): dw = x_flat.T @ dout.", affine_backward_dw_transposed),
    Mutant("affine_backward", "x not reshaped in dw",
           "Use the flattened input, shape (N, D), in dw = x_flat.T @ dout.",
           affine_backward_dw_from_unreshaped_x),
    # relu_forward
    Mutant("relu_forward", "input modified in place",
           "`x[x < 0] = 0` changes the caller's array; build a new one with np.maximum(0, x).",
           relu_forward_in_place),
    Mutant("relu_forward", "np.max instead of np.maximum",
           "np.max(x, 0) is the maximum over axis 0; the elementwise maximum is np.maximum(0, x).",
           relu_forward_with_np_max),
    Mutant("relu_forward", "cache not returned",
           "Return a pair: return out, cache (e.g. cache = x).", relu_forward_without_cache),
    # relu_backward
    Mutant("relu_backward", "gradient passed where x == 0 (x >= 0)",
           "ReLU's gradient at 0 is taken as 0 (the usual convention): dx = dout * (x > 0).",
           relu_backward_mask_at_zero),
    Mutant("relu_backward", "dout returned unchanged",
           "Zero the gradient where the input was not positive: dx = dout * (x > 0).",
           relu_backward_passes_dout_through),
    Mutant("relu_backward", "dout modified in place",
           "`dout[x <= 0] = 0` changes the caller's array; compute dx = dout * (x > 0) instead.",
           relu_backward_dout_in_place),
    Mutant("relu_backward", "multiplied by the ReLU output instead of the 0/1 mask",
           "The local gradient is 1 where x > 0 and 0 elsewhere: dx = dout * (x > 0).",
           relu_backward_times_output),
    # softmax_loss
    Mutant("softmax_loss", "not averaged over the batch",
           "Divide both the loss and dx by the number of examples N.", softmax_loss_summed_over_batch),
    Mutant("softmax_loss", "no max subtraction",
           "exp overflows for large scores: subtract each row's maximum before exponentiating.",
           softmax_loss_without_max_shift),
    Mutant("softmax_loss", "dx missing -1 at the correct class",
           "dx = (softmax(x) - one_hot(y)) / N: subtract 1 at each example's correct class.",
           softmax_loss_dx_without_one_hot),
    Mutant("softmax_loss", "dx not divided by N",
           "The loss is a mean over the batch, so its gradient dx is divided by N too.",
           softmax_loss_dx_not_averaged),
    Mutant("softmax_loss", "loss summed instead of averaged",
           "The loss is the mean of the per-example losses: divide the sum by N.",
           softmax_loss_loss_not_averaged),
    Mutant("softmax_loss", "correct-class scores picked with x[:, y]",
           "x[:, y] is an (N, N) matrix; pick one entry per row with x[np.arange(N), y].",
           softmax_loss_columns_indexed_by_y),
    Mutant("softmax_loss", "dx with the wrong sign",
           "dx = (softmax(x) - one_hot(y)) / N, probabilities minus the one-hot labels.",
           softmax_loss_dx_sign_flipped),
    # sgd
    Mutant("sgd", "sign error (w + learning_rate * dw)",
           "Gradient descent steps against the gradient: next_w = w - learning_rate * dw.",
           sgd_ascending),
    Mutant("sgd", "learning rate hard-coded",
           "Read the step size from config['learning_rate'] (default 1e-2 via setdefault).",
           sgd_fixed_learning_rate),
    # sgd_momentum
    Mutant("sgd_momentum", "sign error in the velocity update",
           "v = momentum * v - learning_rate * dw; next_w = w + v.", sgd_momentum_ascending),
    Mutant("sgd_momentum", "velocity with the opposite sign convention",
           "The contract's velocity is v = momentum * v - learning_rate * dw and next_w = w + v; "
           "a given config['velocity'] is read with that sign.", sgd_momentum_opposite_velocity_sign),
    Mutant("sgd_momentum", "velocity not stored in config",
           "Store the new velocity: config['velocity'] = v, so the next step can use it.",
           sgd_momentum_velocity_not_stored),
    Mutant("sgd_momentum", "step along dw instead of the velocity",
           "After updating v, step with it: next_w = w + v.", sgd_momentum_steps_along_dw),
    Mutant("sgd_momentum", "default momentum not filled in",
           "config.setdefault('momentum', 0.9), so that config=None or a partial config works.",
           sgd_momentum_default_momentum_missing),
    # rmsprop
    Mutant("rmsprop", "epsilon inside the square root",
           "next_w = w - learning_rate * dw / (np.sqrt(cache) + epsilon): epsilon is added after "
           "the square root.", rmsprop_epsilon_inside_sqrt),
    Mutant("rmsprop", "decay_rate and 1 - decay_rate swapped",
           "cache = decay_rate * cache + (1 - decay_rate) * dw**2.", rmsprop_decay_weights_swapped),
    Mutant("rmsprop", "cache not stored in config",
           "Store the new cache: config['cache'] = cache, so the next step can use it.",
           rmsprop_cache_not_stored),
    Mutant("rmsprop", "square root missing",
           "Divide by np.sqrt(cache) + epsilon, the root mean square of recent gradients.",
           rmsprop_without_sqrt),
    # adam
    Mutant("adam", "no bias correction",
           "Use m / (1 - beta1**t) and v / (1 - beta2**t) in the update.",
           adam_without_bias_correction),
    Mutant("adam", "t incremented after it is used",
           "Increment config['t'] first, so that the first step uses t = 1.",
           adam_t_incremented_after_use),
    Mutant("adam", "beta1 and beta2 swapped in the bias correction",
           "m is corrected by 1 - beta1**t, v by 1 - beta2**t.", adam_bias_corrections_swapped),
    Mutant("adam", "m and v not stored in config",
           "Store the new moments: config['m'] = m and config['v'] = v.", adam_moments_not_stored),
    Mutant("adam", "epsilon inside the square root",
           "Add epsilon after the square root: m_hat / (np.sqrt(v_hat) + epsilon).",
           adam_epsilon_inside_sqrt),
    Mutant("adam", "t not stored in config",
           "Store the incremented step count: config['t'] = t.", adam_t_not_stored),
    # networks
    *_network_mutants("TwoLayerNet", [
        TwoLayerNetBiasesRegularised, TwoLayerNetRegWithoutHalf, TwoLayerNetRegNotInGrads,
        TwoLayerNetRegNotInLoss, TwoLayerNetReluAfterLastLayer, TwoLayerNetProbabilitiesAsScores,
        TwoLayerNetRandomBiases, TwoLayerNetUnscaledWeights]),
    *_network_mutants("FullyConnectedNet", [
        FullyConnectedNetBiasesRegularised, FullyConnectedNetRegWithoutHalf,
        FullyConnectedNetRegNotInGrads, FullyConnectedNetRegNotInLoss,
        FullyConnectedNetReluAfterLastLayer, FullyConnectedNetProbabilitiesAsScores,
        FullyConnectedNetRandomBiases, FullyConnectedNetUnscaledWeights]),
    Mutant("FullyConnectedNet", "dtype not applied to the parameters",
           "Cast every parameter with .astype(dtype) (float32 by default).",
           FullyConnectedNetIgnoringDtype),
    Mutant("FullyConnectedNet", "last hidden layer missing (off by one)",
           "The layer sizes are [input_dim, *hidden_dims, num_classes]: one affine layer per "
           "consecutive pair.", FullyConnectedNetLastHiddenLayerDropped),
    Mutant("FullyConnectedNet", "only the last weight matrix regularised",
           "Add 0.5 * reg * sum(W**2) for every weight matrix W1, W2, ..., inside the layer loop.",
           FullyConnectedNetOnlyLastWeightsRegularised),
]
