"""Realistic mistakes in assignment 04 (convolutional networks).

Every implementation here is vectorised (sliding windows), so that naming a mistake costs little
time, and runs without error on every graded input: a mutant that raised would be named for any
submission raising the same exception type.

- The convolution mistakes are listed twice in `MUTANTS`, once under each contract name
  (`conv_forward_naive` and `conv_forward_fast`, `conv_backward_naive` and `conv_backward_fast`):
  both pairs have one contract and are graded by the same checks, which take the name.
- Backward mistakes read the cache of a known forward, in `WORKING`:
  the conv forward keeps (x, w, b, conv_param), the pooling forwards (x, pool_param), the spatial
  batch norm forward (x, gamma, eps).
- The network mistakes are subclasses of `WorkingThreeLayerConvNet`, a complete network that each
  mutant breaks in one place (a class attribute or one method).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from grader_tests.checking import Mutant

CONV_FORWARDS = ("conv_forward_naive", "conv_forward_fast")
CONV_BACKWARDS = ("conv_backward_naive", "conv_backward_fast")

# ------------------------------------------------------------------------------------ conv forward


def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def _conv_windows(x, HH, WW, stride, pad):
    """The receptive fields, shape (N, C, H', W', HH, WW)."""
    return sliding_window_view(_pad(x, pad), (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]


def _conv(x, w, b, stride, pad):
    out = np.einsum("nchwij,fcij->nfhw", _conv_windows(x, w.shape[2], w.shape[3], stride, pad), w)
    return out + b[None, :, None, None]


def conv_forward_caching_inputs(x, w, b, conv_param):
    return _conv(x, w, b, conv_param["stride"], conv_param["pad"]), (x, w, b, conv_param)


def conv_forward_kernel_flipped(x, w, b, conv_param):
    """A true convolution (the signal-processing convention), not a cross-correlation."""
    return _conv(x, w[:, :, ::-1, ::-1], b, conv_param["stride"], conv_param["pad"]), None


def conv_forward_stride_ignored(x, w, b, conv_param):
    return _conv(x, w, b, 1, conv_param["pad"]), None


def conv_forward_pad_ignored(x, w, b, conv_param):
    return _conv(x, w, b, conv_param["stride"], 0), None


def conv_forward_bias_ignored(x, w, b, conv_param):
    return _conv(x, w, 0 * b, conv_param["stride"], conv_param["pad"]), None


def conv_forward_w_reshaped_in_place(x, w, b, conv_param):
    """`w.shape = (F, -1)` to avoid a copy: it reshapes the caller's array."""
    F, C, HH, WW = w.shape
    windows = _conv_windows(x, HH, WW, conv_param["stride"], conv_param["pad"])
    N, _, H_out, W_out = windows.shape[:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * H_out * W_out, C * HH * WW)
    w.shape = (F, C * HH * WW)
    out = (cols @ w.T + b).reshape(N, H_out, W_out, F)
    return out.transpose(0, 3, 1, 2), None


# ----------------------------------------------------------------------------------- conv backward


def _conv_grads(dout, x, w, stride, pad, step=None):
    """(dx_pad, dw, db) with windows `step` apart (the stride, unless a mutant says otherwise)."""
    step = stride if step is None else step
    F, C, HH, WW = w.shape
    H_out, W_out = dout.shape[2:]
    x_pad = _pad(x, pad)
    windows = sliding_window_view(x_pad, (HH, WW), axis=(2, 3))[:, :, ::step, ::step][:, :, :H_out, :W_out]
    dw = np.einsum("nfhw,nchwij->fcij", dout, windows)
    dx_pad = np.zeros(x_pad.shape, dtype=np.result_type(x, w, dout, np.float64))
    for i in range(HH):
        for j in range(WW):
            dx_pad[:, :, i:i + step * H_out:step, j:j + step * W_out:step] += np.einsum(
                "nfhw,fc->nchw", dout, w[:, :, i, j])
    return dx_pad, dw, dout.sum(axis=(0, 2, 3))


def _unpad(dx_pad, pad):
    return dx_pad[:, :, pad:dx_pad.shape[2] - pad, pad:dx_pad.shape[3] - pad]


def conv_backward_stride_ignored(dout, cache):
    x, w, b, conv_param = cache
    pad = conv_param["pad"]
    dx_pad, dw, db = _conv_grads(dout, x, w, conv_param["stride"], pad, step=1)
    return _unpad(dx_pad, pad), dw, db


def conv_backward_dx_padded(dout, cache):
    x, w, b, conv_param = cache
    return _conv_grads(dout, x, w, conv_param["stride"], conv_param["pad"])


def conv_backward_db_wrong_axes(dout, cache):
    x, w, b, conv_param = cache
    pad = conv_param["pad"]
    dx_pad, dw, _ = _conv_grads(dout, x, w, conv_param["stride"], pad)
    return _unpad(dx_pad, pad), dw, dout.sum(axis=(1, 2, 3))


def conv_backward_dw_transpose_missing(dout, cache):
    """dw = cols.T @ dout_rows, shape (C*HH*WW, F), reshaped to (F, C, HH, WW) as it is."""
    x, w, b, conv_param = cache
    pad = conv_param["pad"]
    dx_pad, dw, db = _conv_grads(dout, x, w, conv_param["stride"], pad)
    F, C, HH, WW = w.shape
    dw_rows = dw.reshape(F, C * HH * WW).T          # what cols.T @ dout_rows gives
    return _unpad(dx_pad, pad), dw_rows.reshape(w.shape), db


def conv_backward_dx_kernel_flipped(dout, cache):
    x, w, b, conv_param = cache
    pad = conv_param["pad"]
    dx_pad, _, _ = _conv_grads(dout, x, w[:, :, ::-1, ::-1], conv_param["stride"], pad)
    _, dw, db = _conv_grads(dout, x, w, conv_param["stride"], pad)
    return _unpad(dx_pad, pad), dw, db


def conv_backward_dw_overwritten(dout, cache):
    """`dw[f] = ...` instead of `+=` in the loops: only the last image and window count."""
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    dx_pad, _, db = _conv_grads(dout, x, w, stride, pad)
    HH, WW = w.shape[2:]
    H_out, W_out = dout.shape[2:]
    i, j = (H_out - 1) * stride, (W_out - 1) * stride
    last_window = _pad(x, pad)[-1, :, i:i + HH, j:j + WW]
    dw = dout[-1, :, -1, -1][:, None, None, None] * last_window[None]
    return _unpad(dx_pad, pad), dw, db


# --------------------------------------------------------------------------------------- pooling


def _pool_windows(x, ph, pw, stride):
    """The pooling windows, shape (N, C, H', W', ph, pw)."""
    return sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride]


def _pool_param(pool_param):
    return pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]


def max_pool_forward_caching_inputs(x, pool_param):
    ph, pw, stride = _pool_param(pool_param)
    return _pool_windows(x, ph, pw, stride).max(axis=(4, 5)), (x, pool_param)


def max_pool_forward_over_channels_too(x, pool_param):
    """`out[n, :, i, j] = np.max(x[n, :, rows, cols])`: one maximum over all channels."""
    ph, pw, stride = _pool_param(pool_param)
    windows = _pool_windows(x, ph, pw, stride)
    return np.broadcast_to(windows.max(axis=(1, 4, 5), keepdims=True)[..., 0, 0], windows.shape[:4]), None


def max_pool_forward_over_positions(x, pool_param):
    """The maximum over the output positions (axes 2, 3) instead of the window (axes 4, 5)."""
    ph, pw, stride = _pool_param(pool_param)
    return _pool_windows(x, ph, pw, stride).max(axis=(2, 3)), None


def max_pool_forward_height_width_swapped(x, pool_param):
    ph, pw, stride = _pool_param(pool_param)
    return _pool_windows(x, pw, ph, stride).max(axis=(4, 5)), None


def max_pool_forward_stride_is_pool_size(x, pool_param):
    ph, pw, stride = _pool_param(pool_param)
    windows = sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::ph, ::pw]
    return windows.max(axis=(4, 5)), None


def max_pool_forward_max_from_zero(x, pool_param):
    """The running maximum starts at 0, so all-negative windows give 0."""
    ph, pw, stride = _pool_param(pool_param)
    return np.maximum(_pool_windows(x, ph, pw, stride).max(axis=(4, 5)), 0), None


def _route(x, pool_param, dout, *, every=False, step=None, overwrite=False, times_dout=True):
    """max pool backward: dout of each window to its first maximum (or as a mutant says)."""
    ph, pw, stride = _pool_param(pool_param)
    step_h, step_w = (stride, stride) if step is None else step
    N, C = x.shape[:2]
    H_out, W_out = dout.shape[2:]
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout, np.float64))
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(H_out):
        for j in range(W_out):
            top, left = i * step_h, j * step_w
            window = x[:, :, top:top + ph, left:left + pw]
            grad = dout[:, :, i, j] if times_dout else np.ones(dout.shape[:2])
            if every:
                dx[:, :, top:top + ph, left:left + pw] += grad[:, :, None, None]
                continue
            flat = window.reshape(N, C, -1).argmax(axis=2)
            rows, cols = top + flat // window.shape[3], left + flat % window.shape[3]
            if overwrite:
                dx[n, c, rows, cols] = grad
            else:
                dx[n, c, rows, cols] += grad
    return dx


def max_pool_backward_to_every_element(dout, cache):
    x, pool_param = cache
    return _route(x, pool_param, dout, every=True)


def max_pool_backward_full_dout_to_each_tie(dout, cache):
    """dx[window] += (window == window.max()) * dout: every tied maximum gets all of dout."""
    x, pool_param = cache
    ph, pw, stride = _pool_param(pool_param)
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout, np.float64))
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + ph), slice(j * stride, j * stride + pw)
            window = x[:, :, rows, cols]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, rows, cols] += mask * dout[:, :, i, j][:, :, None, None]
    return dx


def max_pool_backward_stride_is_pool_size(dout, cache):
    x, pool_param = cache
    # Windows taken at i * pool_height, j * pool_width; those past the input are cut short.
    ph, pw, _ = _pool_param(pool_param)
    H_out, W_out = dout.shape[2:]
    H, W = x.shape[2:]
    room = np.zeros((*x.shape[:2], max(H, H_out * ph), max(W, W_out * pw)), dtype=np.float64)
    room[:] = -np.inf
    room[:, :, :H, :W] = x
    return _route(room, pool_param, dout, step=(ph, pw))[:, :, :H, :W]


def max_pool_backward_overwrites(dout, cache):
    """`dx[...] = dout` instead of `+=`: overlapping windows overwrite each other's gradient."""
    x, pool_param = cache
    return _route(x, pool_param, dout, overwrite=True)


def max_pool_backward_mask_without_dout(dout, cache):
    x, pool_param = cache
    return _route(x, pool_param, dout, times_dout=False)


def avg_pool_forward_caching_inputs(x, pool_param):
    ph, pw, stride = _pool_param(pool_param)
    return _pool_windows(x, ph, pw, stride).mean(axis=(4, 5)), (x, pool_param)


def avg_pool_forward_square_count(x, pool_param):
    """Divides by pool_height**2, as if windows were square."""
    ph, pw, stride = _pool_param(pool_param)
    return _pool_windows(x, ph, pw, stride).sum(axis=(4, 5)) / (ph * ph), None


def avg_pool_forward_stride_is_pool_size(x, pool_param):
    ph, pw, _ = _pool_param(pool_param)
    return sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::ph, ::pw].mean(axis=(4, 5)), None


def _spread(x_shape, pool_param, share, step=None):
    ph, pw, stride = _pool_param(pool_param)
    step_h, step_w = (stride, stride) if step is None else step
    H_out, W_out = share.shape[2:]
    H, W = x_shape[2:]
    room = np.zeros((*x_shape[:2], max(H, (H_out - 1) * step_h + ph), max(W, (W_out - 1) * step_w + pw)),
                    dtype=np.result_type(share, np.float64))
    for a in range(ph):
        for c in range(pw):
            room[:, :, a:a + step_h * H_out:step_h, c:c + step_w * W_out:step_w] += share
    return room[:, :, :H, :W]


def avg_pool_backward_times_window_size(dout, cache):
    x, pool_param = cache
    return _spread(x.shape, pool_param, dout * pool_param["pool_height"] * pool_param["pool_width"])


def avg_pool_backward_dout_in_place(dout, cache):
    x, pool_param = cache
    dout /= pool_param["pool_height"] * pool_param["pool_width"]
    return _spread(x.shape, pool_param, dout)


def avg_pool_backward_stride_is_pool_size(dout, cache):
    x, pool_param = cache
    ph, pw, _ = _pool_param(pool_param)
    return _spread(x.shape, pool_param, dout / (ph * pw), step=(ph, pw))


# -------------------------------------------------------------------------- spatial batch norm


def _fit(running, shape):
    """`running` if it combines with statistics of `shape`, else zeros (so that no mutant raises)."""
    try:
        fits = np.broadcast_shapes(np.shape(running), shape) == shape
    except ValueError:
        fits = False
    return running if fits else np.zeros(shape)


def _bn(x, gamma, beta, bn_param, axes=(0, 2, 3), *, eps_outside=False, swapped_momentum=False,
        test_uses_batch=False, ddof=0, in_place=False):
    """Spatial batch norm with statistics over `axes`, and the flagged mistakes."""
    mode = bn_param["mode"]
    eps = bn_param.setdefault("eps", 1e-5)
    momentum = bn_param.setdefault("momentum", 0.9)
    C = x.shape[1]
    keep = tuple(a for a in range(4) if a not in axes)
    stats_shape = tuple(x.shape[a] for a in keep)
    running_mean = _fit(bn_param.get("running_mean", np.zeros(C)), stats_shape)
    running_var = _fit(bn_param.get("running_var", np.zeros(C)), stats_shape)
    if mode == "train" or test_uses_batch:
        mean, var = x.mean(axis=axes), x.var(axis=axes, ddof=ddof)
        if mode == "train":
            old, new = (1 - momentum, momentum) if swapped_momentum else (momentum, 1 - momentum)
            running_mean = old * running_mean + new * mean.reshape(stats_shape)
            running_var = old * running_var + new * var.reshape(stats_shape)
        mean, var = np.expand_dims(mean, axes), np.expand_dims(var, axes)
    else:
        mean, var = (bn_param.get("running_mean", np.zeros(C))[None, :, None, None],
                     bn_param.get("running_var", np.zeros(C))[None, :, None, None])
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    if in_place:
        x -= mean
        x /= std
        x_hat = x
    else:
        x_hat = (x - mean) / std
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return gamma[None, :, None, None] * x_hat + beta[None, :, None, None], (x, gamma, eps)


def spatial_batchnorm_forward_caching_inputs(x, gamma, beta, bn_param):
    return _bn(x, gamma, beta, bn_param)


def spatial_batchnorm_forward_over_n_only(x, gamma, beta, bn_param):
    """batchnorm_forward of assignment 03 on x.reshape(N, -1): one statistic per (c, h, w)."""
    return _bn(x, gamma, beta, bn_param, axes=(0,))


def spatial_batchnorm_forward_per_example(x, gamma, beta, bn_param):
    """Statistics over (C, H, W) for each example: a layer norm."""
    return _bn(x, gamma, beta, bn_param, axes=(1, 2, 3))


def spatial_batchnorm_forward_instance_norm(x, gamma, beta, bn_param):
    """Statistics over (H, W) for each example and channel: an instance norm."""
    return _bn(x, gamma, beta, bn_param, axes=(2, 3))


def spatial_batchnorm_forward_reshape_without_transpose(x, gamma, beta, bn_param):
    """batchnorm_forward of assignment 03 on x.reshape(-1, C): each column mixes channels."""
    N, C, H, W = x.shape
    rows = x.reshape(-1, C)
    out, _ = _bn(rows[:, :, None, None], gamma, beta, bn_param)
    return out.reshape(N, C, H, W), None


def spatial_batchnorm_forward_eps_outside_sqrt(x, gamma, beta, bn_param):
    return _bn(x, gamma, beta, bn_param, eps_outside=True)


def spatial_batchnorm_forward_momentum_swapped(x, gamma, beta, bn_param):
    return _bn(x, gamma, beta, bn_param, swapped_momentum=True)


def spatial_batchnorm_forward_test_uses_batch(x, gamma, beta, bn_param):
    return _bn(x, gamma, beta, bn_param, test_uses_batch=True)


def spatial_batchnorm_forward_unbiased_variance(x, gamma, beta, bn_param):
    return _bn(x, gamma, beta, bn_param, ddof=1)


def spatial_batchnorm_forward_in_place(x, gamma, beta, bn_param):
    return _bn(x, gamma, beta, bn_param, in_place=True)


def _bn_backward(dout, x, gamma, eps, axes=(0, 2, 3), *, constant_stats=False):
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    m = np.prod([x.shape[a] for a in axes])
    dx_hat = dout * gamma[None, :, None, None]
    if constant_stats:
        return dx_hat * inv_std
    return inv_std / m * (m * dx_hat - dx_hat.sum(axis=axes, keepdims=True)
                          - x_hat * (dx_hat * x_hat).sum(axis=axes, keepdims=True))


def _x_hat(x, eps):
    mean, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def spatial_batchnorm_backward_constant_statistics(dout, cache):
    """dx = dout * gamma / std: the mean and variance are treated as constants."""
    x, gamma, eps = cache
    return (_bn_backward(dout, x, gamma, eps, constant_stats=True),
            (dout * _x_hat(x, eps)).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3)))


def spatial_batchnorm_backward_dgamma_over_n_only(dout, cache):
    x, gamma, eps = cache
    return _bn_backward(dout, x, gamma, eps), (dout * _x_hat(x, eps)).sum(axis=0), dout.sum(axis=0)


def spatial_batchnorm_backward_over_n_only(dout, cache):
    x, gamma, eps = cache
    return (_bn_backward(dout, x, gamma, eps, axes=(0,)),
            (dout * _x_hat(x, eps)).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3)))


# ------------------------------------------------------------------------------------- networks


class WorkingThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax, with flags the mutants change."""

    reg_factor = 0.5
    relu_after_conv = True
    relu_after_hidden = True
    pooled_rows = True          # False: W2 sized for the unpooled maps (F * H * W rows)
    average_pool = False        # True: 2x2 average pooling instead of max pooling

    def __init__(self, input_dim=(1, 28, 28), num_filters=32, filter_size=7, hidden_dim=100,
                 num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
        self.reg = reg
        self.dtype = dtype
        C, H, W = input_dim
        rows = num_filters * (H // 2) * (W // 2) if self.pooled_rows else num_filters * H * W
        self.params = {
            "W1": self._weights((num_filters, C, filter_size, filter_size), weight_scale),
            "b1": self._biases(num_filters, weight_scale),
            "W2": self._weights((rows, hidden_dim), weight_scale),
            "b2": self._biases(hidden_dim, weight_scale),
            "W3": self._weights((hidden_dim, num_classes), weight_scale),
            "b3": self._biases(num_classes, weight_scale),
        }
        for name, value in self.params.items():
            self.params[name] = value.astype(self._param_dtype(dtype))

    def _weights(self, shape, weight_scale):
        return weight_scale * np.random.randn(*shape)

    def _biases(self, size, weight_scale):
        return np.zeros(size)

    def _param_dtype(self, dtype):
        return dtype

    def _regularised(self):
        return ["W1", "W2", "W3"]

    def loss(self, X, y=None):
        p = self.params
        X = X.astype(self.dtype)
        pad = (p["W1"].shape[2] - 1) // 2
        conv = _conv(X, p["W1"], p["b1"], 1, pad)
        a1 = np.maximum(conv, 0) if self.relu_after_conv else conv
        N, F, H, W = a1.shape
        blocks = a1[:, :, :H // 2 * 2, :W // 2 * 2].reshape(N, F, H // 2, 2, W // 2, 2)
        pool_out = blocks.mean(axis=(3, 5)) if self.average_pool else blocks.max(axis=(3, 5))
        flat = pool_out.reshape(N, -1)
        z2 = flat @ p["W2"] + p["b2"]
        a2 = np.maximum(z2, 0) if self.relu_after_hidden else z2
        scores = a2 @ p["W3"] + p["b3"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_p[np.arange(N), y].mean()
        dscores = np.exp(log_p)
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {"W3": a2.T @ dscores, "b3": dscores.sum(axis=0)}
        da2 = dscores @ p["W3"].T
        dz2 = da2 * (z2 > 0) if self.relu_after_hidden else da2
        grads["W2"], grads["b2"] = flat.T @ dz2, dz2.sum(axis=0)
        dpool_out = (dz2 @ p["W2"].T).reshape(pool_out.shape)
        if self.average_pool:
            winners = np.full(blocks.shape, 0.25)
        else:
            winners = blocks == pool_out[:, :, :, None, :, None]
        da1 = np.zeros_like(a1)
        da1[:, :, :H // 2 * 2, :W // 2 * 2] = (winners * dpool_out[:, :, :, None, :, None]).reshape(
            N, F, H // 2 * 2, W // 2 * 2)
        dconv = da1 * (conv > 0) if self.relu_after_conv else da1
        _, grads["W1"], grads["b1"] = _conv_grads(dconv, X, p["W1"], 1, pad)
        for name in self._regularised():
            loss += self.reg_factor * self.reg * np.sum(p[name] ** 2)
            grads[name] = grads[name] + self.reg * p[name]
        return loss, grads


class ThreeLayerConvNetUnpooledW2(WorkingThreeLayerConvNet):
    """W2 sized in __init__ as if there were no pool (the loss, given a W2 that fits, is right)."""
    pooled_rows = False


class ThreeLayerConvNetAveragePool(WorkingThreeLayerConvNet):
    average_pool = True


class ThreeLayerConvNetNoReluAfterConv(WorkingThreeLayerConvNet):
    relu_after_conv = False


class ThreeLayerConvNetNoReluAfterHidden(WorkingThreeLayerConvNet):
    relu_after_hidden = False


class ThreeLayerConvNetBiasesRegularised(WorkingThreeLayerConvNet):
    def _regularised(self):
        return list(self.params)


class ThreeLayerConvNetW1NotRegularised(WorkingThreeLayerConvNet):
    def _regularised(self):
        return ["W2", "W3"]


class ThreeLayerConvNetRegWithoutHalf(WorkingThreeLayerConvNet):
    reg_factor = 1.0


class ThreeLayerConvNetRandomBiases(WorkingThreeLayerConvNet):
    def _biases(self, size, weight_scale):
        return weight_scale * np.random.randn(size)


class ThreeLayerConvNetUnscaledWeights(WorkingThreeLayerConvNet):
    def _weights(self, shape, weight_scale):
        return np.random.randn(*shape)


class ThreeLayerConvNetIgnoringDtype(WorkingThreeLayerConvNet):
    def _param_dtype(self, dtype):
        return np.float64


# ----------------------------------------------------------------------------------- catalogue

def conv_backward_reading_inputs(dout, cache):
    x, w, b, conv_param = cache
    dx_pad, dw, db = _conv_grads(dout, x, w, conv_param["stride"], conv_param["pad"])
    return _unpad(dx_pad, conv_param["pad"]), dw, db


def max_pool_backward_reading_inputs(dout, cache):
    x, pool_param = cache
    return _route(x, pool_param, dout)


def avg_pool_backward_reading_inputs(dout, cache):
    x, pool_param = cache
    return _spread(x.shape, pool_param, dout / (pool_param["pool_height"] * pool_param["pool_width"]))


def spatial_batchnorm_backward_reading_inputs(dout, cache):
    x, gamma, eps = cache
    return _bn_backward(dout, x, gamma, eps), (dout * _x_hat(x, eps)).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))


WORKING = {
    **{name: conv_forward_caching_inputs for name in CONV_FORWARDS},
    **{name: conv_backward_reading_inputs for name in CONV_BACKWARDS},
    "max_pool_forward_naive": max_pool_forward_caching_inputs,
    "max_pool_backward_naive": max_pool_backward_reading_inputs,
    "avg_pool_forward": avg_pool_forward_caching_inputs, "avg_pool_backward": avg_pool_backward_reading_inputs,
    "spatial_batchnorm_forward": spatial_batchnorm_forward_caching_inputs,
    "spatial_batchnorm_backward": spatial_batchnorm_backward_reading_inputs,
    "ThreeLayerConvNet": WorkingThreeLayerConvNet,
}
"""A correct notebook in the mutants' conventions: each mutant replaces one of these definitions
(a backward mutant reads the cache of the forward here), and the checks pass on them unchanged."""

_CONV_FORWARD_MISTAKES = [
    ("true convolution (kernel flipped)",
     "Deep-learning layers compute a cross-correlation: out[n, f, i, j] = sum(window * w[f]) with "
     "the window and the kernel in the same orientation; do not flip w.", conv_forward_kernel_flipped),
    ("stride ignored",
     "Window (i, j) starts at row i * stride and column j * stride of the padded input, and "
     "H' = 1 + (H + 2 * pad - HH) // stride.", conv_forward_stride_ignored),
    ("pad ignored",
     "Zero-pad H and W by conv_param['pad'] on every side first: "
     "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))).", conv_forward_pad_ignored),
    ("bias ignored", "Add b[f] to every output of filter f.", conv_forward_bias_ignored),
    ("w reshaped in place (w.shape = ...)",
     "Setting w.shape changes the caller's array; use w.reshape(F, -1), which returns a new view.",
     conv_forward_w_reshaped_in_place),
]

_CONV_BACKWARD_MISTAKES = [
    ("stride ignored in the backward pass",
     "Output (i, j) came from the window at row i * stride, column j * stride: its gradient goes "
     "back there.", conv_backward_stride_ignored),
    ("dx not un-padded (the padded shape returned)",
     "Accumulate into a padded dx, then return dx_pad[:, :, pad:pad + H, pad:pad + W], of x's shape.",
     conv_backward_dx_padded),
    ("db summed over the wrong axes",
     "b[f] is added to every output of filter f: db = dout.sum(axis=(0, 2, 3)), shape (F,).",
     conv_backward_db_wrong_axes),
    ("dw with filters and channels mixed up (transpose missing before the reshape)",
     "cols.T @ dout_rows has shape (C*HH*WW, F); dw = (dout_rows.T @ cols).reshape(F, C, HH, WW) "
     "keeps filters first.", conv_backward_dw_transpose_missing),
    ("dx computed with the flipped kernel",
     "Each window receives dout[n, f, i, j] * w[f] with w as it is (no flip): the forward "
     "pass was a cross-correlation.", conv_backward_dx_kernel_flipped),
    ("dw overwritten instead of accumulated",
     "Every image and every window contributes to dw: use dw[f] += ..., not dw[f] = ....",
     conv_backward_dw_overwritten),
]


def _conv_mutants():
    mutants = []
    for forward, backward in zip(CONV_FORWARDS, CONV_BACKWARDS):
        mutants += [Mutant(forward, *mistake) for mistake in _CONV_FORWARD_MISTAKES]
        mutants += [Mutant(backward, *mistake) for mistake in _CONV_BACKWARD_MISTAKES]
    return mutants


def _net_mutants():
    function = "ThreeLayerConvNet"
    return [
        Mutant(function, "W2 sized for the unpooled feature maps (F * H * W rows)",
               "The 2x2 max pool with stride 2 halves H and W: W2 has "
               "num_filters * (H // 2) * (W // 2) rows.", ThreeLayerConvNetUnpooledW2),
        Mutant(function, "average pooling instead of max pooling",
               "conv - relu - 2x2 max pool: use max_pool_forward_naive (and its backward).",
               ThreeLayerConvNetAveragePool),
        Mutant(function, "ReLU after the convolution missing",
               "conv - relu - pool: apply relu_forward to the conv output before pooling.",
               ThreeLayerConvNetNoReluAfterConv),
        Mutant(function, "ReLU after the hidden affine layer missing",
               "affine - relu - affine: apply relu_forward to the hidden layer's output.",
               ThreeLayerConvNetNoReluAfterHidden),
        Mutant(function, "biases regularised too",
               "The L2 term 0.5 * reg * sum(W**2) covers W1, W2 and W3 only, not the biases.",
               ThreeLayerConvNetBiasesRegularised),
        Mutant(function, "W1 not regularised",
               "The L2 term covers the conv filters W1 as well as W2 and W3.",
               ThreeLayerConvNetW1NotRegularised),
        Mutant(function, "0.5 missing from the regularisation term",
               "The loss adds 0.5 * reg * sum(W**2) per weight array; its gradient is reg * W.",
               ThreeLayerConvNetRegWithoutHalf),
        Mutant(function, "biases not initialised to zero", "Initialise b1, b2 and b3 with np.zeros.",
               ThreeLayerConvNetRandomBiases),
        Mutant(function, "weights not scaled by weight_scale",
               "Draw weights as weight_scale * np.random.randn(...).", ThreeLayerConvNetUnscaledWeights),
        Mutant(function, "dtype not applied to the parameters",
               "Cast every parameter with .astype(dtype) (float32 by default).",
               ThreeLayerConvNetIgnoringDtype),
    ]


MUTANTS = [
    *_conv_mutants(),
    # max_pool_forward_naive
    Mutant("max_pool_forward_naive", "maximum taken over all channels too",
           "Each channel is pooled on its own: take the maximum over the window's rows and columns "
           "only, e.g. x[:, :, rows, cols].max(axis=(2, 3)).", max_pool_forward_over_channels_too),
    Mutant("max_pool_forward_naive", "maximum over the output positions instead of the window",
           "Of the sliding windows (N, C, H', W', ph, pw), reduce the last two axes: max(axis=(4, 5)).",
           max_pool_forward_over_positions),
    Mutant("max_pool_forward_naive", "pool_height and pool_width swapped",
           "A window spans pool_height rows and pool_width columns.",
           max_pool_forward_height_width_swapped),
    Mutant("max_pool_forward_naive", "stride taken equal to the pool size",
           "Windows start stride apart, which may differ from the pool size: window (i, j) starts "
           "at row i * stride, column j * stride.", max_pool_forward_stride_is_pool_size),
    Mutant("max_pool_forward_naive", "maximum started at 0",
           "A window of negative values has a negative maximum: start from -inf or use .max().",
           max_pool_forward_max_from_zero),
    # max_pool_backward_naive
    Mutant("max_pool_backward_naive", "gradient sent to every element of the window",
           "Only the window's maximal element affected the output: dout goes there, the other "
           "elements get 0.", max_pool_backward_to_every_element),
    Mutant("max_pool_backward_naive", "every tied maximum gets the whole gradient",
           "A mask (window == max) * dout gives each of several equal maxima all of dout, so the "
           "window passes on too much: send dout to one maximum (np.argmax picks the first), or "
           "split it among them.", max_pool_backward_full_dout_to_each_tie),
    Mutant("max_pool_backward_naive", "stride ignored (windows assumed pool-size apart)",
           "Window (i, j) starts at row i * stride, column j * stride, as in the forward pass.",
           max_pool_backward_stride_is_pool_size),
    Mutant("max_pool_backward_naive", "overlapping windows overwrite each other's gradient",
           "An element can be the maximum of several overlapping windows: add (+=) their gradients.",
           max_pool_backward_overwrites),
    Mutant("max_pool_backward_naive", "mask of the maxima returned without dout",
           "Multiply by the upstream gradient: each maximal element receives dout[n, c, i, j].",
           max_pool_backward_mask_without_dout),
    # avg_pool_forward
    Mutant("avg_pool_forward", "divided by pool_height**2 (square windows assumed)",
           "A window has pool_height * pool_width elements.", avg_pool_forward_square_count),
    Mutant("avg_pool_forward", "stride taken equal to the pool size",
           "Window (i, j) starts at row i * stride, column j * stride.",
           avg_pool_forward_stride_is_pool_size),
    # avg_pool_backward
    Mutant("avg_pool_backward", "gradient multiplied by the window size instead of divided",
           "Each of the pool_height * pool_width elements gets dout / (pool_height * pool_width).",
           avg_pool_backward_times_window_size),
    Mutant("avg_pool_backward", "dout modified in place",
           "`dout /= ...` changes the caller's array; compute share = dout / (ph * pw) instead.",
           avg_pool_backward_dout_in_place),
    Mutant("avg_pool_backward", "stride ignored (windows assumed pool-size apart)",
           "Window (i, j) starts at row i * stride, column j * stride, as in the forward pass.",
           avg_pool_backward_stride_is_pool_size),
    # spatial_batchnorm_forward
    Mutant("spatial_batchnorm_forward", "statistics per (C, H, W) position (over N only)",
           "Spatial batch norm keeps one mean and variance per channel, over N, H and W: "
           "x.mean(axis=(0, 2, 3)).", spatial_batchnorm_forward_over_n_only),
    Mutant("spatial_batchnorm_forward", "statistics per example (over C, H, W: a layer norm)",
           "Average over the batch and the positions, per channel: axis=(0, 2, 3).",
           spatial_batchnorm_forward_per_example),
    Mutant("spatial_batchnorm_forward", "statistics over H and W only (an instance norm)",
           "Include the batch axis: the statistics are over N, H and W, axis=(0, 2, 3).",
           spatial_batchnorm_forward_instance_norm),
    Mutant("spatial_batchnorm_forward", "x reshaped to (N*H*W, C) without moving C last",
           "x.reshape(-1, C) mixes channels; use x.transpose(0, 2, 3, 1).reshape(-1, C), and "
           "transpose back after.", spatial_batchnorm_forward_reshape_without_transpose),
    Mutant("spatial_batchnorm_forward", "eps added outside the square root",
           "Divide by np.sqrt(var + eps).", spatial_batchnorm_forward_eps_outside_sqrt),
    Mutant("spatial_batchnorm_forward", "momentum and 1 - momentum swapped in the running averages",
           "running = momentum * running + (1 - momentum) * batch statistic.",
           spatial_batchnorm_forward_momentum_swapped),
    Mutant("spatial_batchnorm_forward", "test mode uses the batch statistics",
           "In test mode, normalise with bn_param's running_mean and running_var and leave them as "
           "they are.", spatial_batchnorm_forward_test_uses_batch),
    Mutant("spatial_batchnorm_forward", "unbiased variance (ddof=1)",
           "Batch norm uses the biased variance x.var(axis=(0, 2, 3)), dividing by N*H*W.",
           spatial_batchnorm_forward_unbiased_variance),
    Mutant("spatial_batchnorm_forward", "x normalised in place",
           "`x -= mean` changes the caller's array; compute x_hat = (x - mean) / std as a new array.",
           spatial_batchnorm_forward_in_place),
    # spatial_batchnorm_backward
    Mutant("spatial_batchnorm_backward", "mean and variance treated as constants",
           "The batch mean and variance depend on x: dx has the two extra terms of the batch-norm "
           "gradient, with sums over N, H and W.", spatial_batchnorm_backward_constant_statistics),
    Mutant("spatial_batchnorm_backward", "dgamma and dbeta summed over N only",
           "gamma and beta have shape (C,): sum over N, H and W, axis=(0, 2, 3).",
           spatial_batchnorm_backward_dgamma_over_n_only),
    Mutant("spatial_batchnorm_backward", "backward statistics per (C, H, W) position (over N only)",
           "The sums in dx run over N, H and W for each channel, as in the forward pass.",
           spatial_batchnorm_backward_over_n_only),
    *_net_mutants(),
]
