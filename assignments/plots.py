"""Figures for the notebooks: training curves, sample images, conv filters, feature maps, templates.

Every function draws a new pyplot figure, titles it, labels every axes, and returns the `Figure`
without calling `plt.show()`, so that notebooks display it and tests can save it. Images are NCHW
with C = 1 (grey) or 3 (RGB), any value range: each image is rescaled to [0, 1] on its own.

In a notebook, write `fig = plot_...(...)` (or end the line with `;`): a figure that is also the
cell's value is shown twice.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike


def plot_training_history(
    loss_history: ArrayLike,
    train_acc_history: ArrayLike | None = None,
    val_acc_history: ArrayLike | None = None,
    title: str = "Training history",
) -> Figure:
    """Loss per iteration (raw and smoothed) and, if given, accuracy per epoch.

    Inputs:
    - loss_history: shape (num_iterations,), the minibatch losses.
    - train_acc_history, val_acc_history: shape (num_epochs + 1,), accuracy measured before
      training and after every epoch (as the Solver records them); either may be None.
    - title: the figure's title.

    Returns the Figure: one axes for the loss, a second for accuracy when one is given.
    """
    loss = _history(loss_history, "loss_history")
    accuracies = {
        label: _history(values, f"{label}_acc_history")
        for label, values in (("train", train_acc_history), ("val", val_acc_history))
        if values is not None
    }
    ncols = 2 if accuracies else 1
    fig, axes = plt.subplots(1, ncols, figsize=(6 * ncols, 4), squeeze=False, layout="constrained")
    _plot_loss(axes[0, 0], loss, "moving average")
    axes[0, 0].legend()
    if accuracies:
        ax = axes[0, 1]
        for label, values in accuracies.items():
            _plot_accuracy(ax, values, label)
        ax.set(title="Classification accuracy", xlabel="Epoch", ylabel="Accuracy")
        ax.legend()
    fig.suptitle(title)
    return fig


def plot_compare_histories(
    histories: Mapping[str, Any], title: str = "Comparison of training runs"
) -> Figure:
    """Several runs side by side (e.g. one per optimizer): loss, training and validation accuracy.

    Inputs:
    - histories: label -> run, where a run is a dict with the keys 'loss_history', and optionally
      'train_acc_history' and 'val_acc_history' (shapes as in `plot_training_history`), or an object
      with those attributes, such as a trained Solver.
    - title: the figure's title.

    Returns the Figure with three axes: loss, training accuracy, validation accuracy.
    """
    if not histories:
        raise ValueError("histories is empty; expected {label: {'loss_history': [...], ...}}")
    fig, (ax_loss, ax_train, ax_val) = plt.subplots(1, 3, figsize=(16, 4), layout="constrained")
    for i, (label, run) in enumerate(histories.items()):
        color = f"C{i}"  # one colour per run on all three axes
        loss = _field(run, "loss_history")
        if loss is None:
            raise ValueError(f"histories[{label!r}] has no 'loss_history', shape (num_iterations,)")
        _plot_loss(ax_loss, _history(loss, f"histories[{label!r}]['loss_history']"), label, color)
        for ax, key in ((ax_train, "train_acc_history"), (ax_val, "val_acc_history")):
            values = _field(run, key)
            if values is not None:
                _plot_accuracy(ax, _history(values, f"histories[{label!r}][{key!r}]"), label, color)
    ax_train.set(title="Training accuracy", xlabel="Epoch", ylabel="Accuracy")
    ax_val.set(title="Validation accuracy", xlabel="Epoch", ylabel="Accuracy")
    for ax in (ax_loss, ax_train, ax_val):
        if ax.get_legend_handles_labels()[0]:  # an empty legend() warns on stderr
            ax.legend()
    fig.suptitle(title)
    return fig


def show_image_grid(
    X: ArrayLike,
    y: ArrayLike,
    classes: Sequence[int],
    samples_per_class: int = 7,
    class_names: Sequence[str] | None = None,
    seed: int = 0,
    title: str = "Sample images per class",
) -> Figure:
    """Random sample images of chosen classes: one column per class, one row per sample.

    Inputs:
    - X: images, shape (N, C, H, W) with C = 1 or 3.
    - y: integer labels, shape (N,).
    - classes: the labels to show, one column each, in this order.
    - samples_per_class: rows; a class with fewer images leaves its column short.
    - class_names: names indexed by label, for the column titles (default: the label).
    - seed: seed of the random choice of images.
    - title: the figure's title.

    Returns the Figure.
    """
    X = _images(X, "X", "(N, C, H, W)")
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape (N,) = ({X.shape[0]},) to match X, got {y.shape}")
    if len(classes) == 0 or samples_per_class < 1:
        raise ValueError("need at least one class and samples_per_class >= 1")
    rng = np.random.default_rng(seed)
    fig, axes = _image_grid(samples_per_class, len(classes))
    for col, c in enumerate(classes):
        axes[0, col].set_title(_class_name(c, class_names))
        candidates = np.flatnonzero(y == c)
        chosen = rng.choice(candidates, size=min(samples_per_class, candidates.size), replace=False)
        for row, i in enumerate(chosen):
            _show(axes[row, col], X[i])
    return _finish(fig, axes, title)


def show_conv_filters(W: ArrayLike, title: str = "Convolution filters") -> Figure:
    """First-layer convolution filters in a square-ish grid, each rescaled on its own.

    Inputs:
    - W: filters, shape (F, C, HH, WW) with C = 1 (grey) or 3 (RGB); for a deeper layer show one
      input channel at a time, W[:, c:c + 1].
    - title: the figure's title.

    Returns the Figure with F image axes.
    """
    W = _images(W, "W", "(F, C, HH, WW)")
    num_filters = W.shape[0]
    ncols = math.ceil(math.sqrt(num_filters))
    fig, axes = _image_grid(math.ceil(num_filters / ncols), ncols)
    for f, ax in zip(range(num_filters), axes.flat):
        _show(ax, W[f])
        ax.set_title(f"filter {f}", fontsize=8)
    return _finish(fig, axes, title)


def show_feature_maps(
    maps: ArrayLike, max_channels: int = 16, max_images: int = 8, title: str = "Feature maps"
) -> Figure:
    """Activations after a layer: one row per image, one column per channel, each map rescaled.

    Inputs:
    - maps: shape (C, H, W) for one image or (N, C, H, W); any number of channels.
    - max_channels, max_images: show only the first ones, to keep the figure readable.
    - title: the figure's title.

    Returns the Figure with min(N, max_images) * min(C, max_channels) image axes.
    """
    maps = np.asarray(maps)
    if maps.ndim == 3:
        maps = maps[np.newaxis]
    if maps.ndim != 4 or 0 in maps.shape:
        raise ValueError(f"maps must have shape (C, H, W) or (N, C, H, W), got {np.shape(maps)}")
    maps = maps[:max_images, :max_channels]
    fig, axes = _image_grid(maps.shape[0], maps.shape[1])
    for i in range(maps.shape[0]):
        axes[i, 0].set_ylabel(f"image {i}")
        for j in range(maps.shape[1]):
            _show(axes[i, j], maps[i, j], cmap="viridis")
            axes[0, j].set_title(f"channel {j}", fontsize=8)
    return _finish(fig, axes, title)


def show_class_weights(
    W: ArrayLike,
    image_shape: Sequence[int],
    class_names: Sequence[str] | None = None,
    title: str = "Learned weights per class",
) -> Figure:
    """The weights of a linear classifier as one image (template) per class.

    Inputs:
    - W: weights, shape (D, num_classes) with D = C * H * W (no bias row), as in scores = X @ W + b
      for images flattened in NCHW order.
    - image_shape: (C, H, W) with C = 1 or 3, or (H, W) for grey images.
    - class_names: names indexed by class, for the titles (default: the class index).
    - title: the figure's title.

    Returns the Figure with num_classes image axes.
    """
    shape = tuple(image_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise ValueError(f"image_shape must be (C, H, W) with C = 1 or 3, or (H, W), got {shape}")
    W = np.asarray(W)
    size = math.prod(shape)
    if W.ndim != 2 or W.shape[0] != size or W.shape[1] == 0:
        raise ValueError(f"W must have shape (D, num_classes), D = C*H*W = {size}, got {W.shape}")
    num_classes = W.shape[1]
    ncols = min(num_classes, 10)
    fig, axes = _image_grid(math.ceil(num_classes / ncols), ncols)
    for c, ax in zip(range(num_classes), axes.flat):
        _show(ax, W[:, c].reshape(shape))
        ax.set_title(_class_name(c, class_names))
    return _finish(fig, axes, title)


def _history(values: ArrayLike, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, shape (n,), got {values.shape}")
    return values


def _field(run: Any, key: str) -> Any:
    return run.get(key) if isinstance(run, Mapping) else getattr(run, key, None)


def _smooth(values: np.ndarray) -> np.ndarray:
    """Trailing moving average over 1/25 of the run: the trend through the minibatch noise."""
    window = max(1, len(values) // 25)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (sums[ends] - sums[starts]) / (ends - starts)


def _plot_loss(ax: Axes, loss: np.ndarray, label: str, color: str | None = None) -> None:
    iterations = np.arange(len(loss))
    (raw,) = ax.plot(iterations, loss, color=color, alpha=0.3, linewidth=0.8)
    ax.plot(iterations, _smooth(loss), color=raw.get_color(), label=label)
    ax.set(title="Training loss", xlabel="Iteration", ylabel="Loss")


def _plot_accuracy(ax: Axes, accuracy: np.ndarray, label: str, color: str | None = None) -> None:
    ax.plot(np.arange(len(accuracy)), accuracy, marker="o", color=color, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers


def _images(a: ArrayLike, name: str, layout: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 4 or a.shape[1] not in (1, 3) or 0 in a.shape:
        raise ValueError(
            f"{name} must have shape {layout} with C = 1 (grey) or 3 (RGB), got {np.shape(a)}"
        )
    return a


def _class_name(c: int, class_names: Sequence[str] | None) -> str:
    if class_names is None:
        return str(c)
    if not 0 <= c < len(class_names):
        raise ValueError(f"class {c} has no name: class_names has {len(class_names)} entries")
    return str(class_names[c])


def _image_grid(nrows: int, ncols: int) -> tuple[Figure, np.ndarray]:
    """A figure with an (nrows, ncols) array of axes without ticks (labels still show)."""
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                             figsize=(1.2 * ncols + 0.5, 1.2 * nrows + 0.8))
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    return fig, axes


def _show(ax: Axes, image: np.ndarray, cmap: str = "gray") -> None:
    """Draw a (C, H, W) image with C = 1 or 3, or an (H, W) map, rescaled to [0, 1]."""
    image = image.astype(np.float64)
    low, high = image.min(), image.max()
    # A constant image (e.g. a dead ReLU channel) has no range to stretch.
    image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    if image.ndim == 3:
        image = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
    ax.imshow(image, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")


def _finish(fig: Figure, axes: np.ndarray, title: str) -> Figure:
    for ax in axes.flat:
        if not ax.images:  # unused cells of the grid (titles still show)
            ax.set_axis_off()
    fig.suptitle(title)
    return fig
