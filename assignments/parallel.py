"""Every core for a model's loss: the batch split into parts that threads compute at the same time.

NumPy runs its element-wise work (im2col copies, pooling, ReLU, the gradients' adds) on one core;
only the matrix products use BLAS's threads. In a NumPy CNN most of a training step is such work,
so a second core barely helps: 05's CifarNet took 60 ms per step of 64 images with one BLAS thread
and 48 ms with two. A loss that is a mean over the images can instead be computed on equal parts
of the batch at once, one thread per part (NumPy and BLAS release the interpreter lock while they
work) with single-threaded BLAS, and the parts combined into the loss of the whole batch: 33 ms
(`benchmarks/bench_layers.py`).

The combination is exact (up to rounding) for a loss of the form
    mean over the images of a per-image loss  +  terms that do not depend on the images
(softmax or SVM loss plus weight decay), computed without changing any state. It is wrong for
batch normalisation (its statistics are the batch's, and two parts would update the running
averages at once) and for dropout drawn from np.random (the threads would share one generator, and
the masks would depend on their timing).
"""
from __future__ import annotations

import functools
import operator
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from threadpoolctl import ThreadpoolController


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController().select(user_api="blas")


@functools.cache
def _workers(count: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(count, thread_name_prefix="split_batch")


# A forked child has none of its parent's threads: it must start its own pool, not wait for those.
os.register_at_fork(after_in_child=_workers.cache_clear)


def blas_threads() -> int:
    """The number of threads BLAS may use now (OPENBLAS_NUM_THREADS, threadpoolctl's limits)."""
    return max((info["num_threads"] for info in _blas().info()), default=1)


def split_batch(loss: Callable, X: np.ndarray, y: np.ndarray | None = None, parts: int | None = None):
    """`loss(X, y)` computed on `parts` slices of the batch at once, one thread each.

    Inputs:
    - loss: a model's loss, loss(X, y=None): scores (N, classes) when y is None, else
      (loss, grads) with grads a dict of arrays. It must be a mean over the images plus terms that
      do not depend on them, and change no state (see the module's docstring).
    - X: images, shape (N, ...).
    - y: labels, shape (N,), or None.
    - parts: how many slices (default: as many as BLAS threads are allowed, blas_threads()); at
      most N. With 1, loss(X, y) is called as it is.

    Returns:
    - what loss(X, y) returns: the parts' scores stacked in order, or the loss and every gradient
      averaged over the parts, each weighted by its number of images.
    """
    parts = min(parts or blas_threads(), len(X))
    if parts <= 1:
        return loss(X, y)
    # Python ints, so that the weights are Python floats, which keep the gradients' dtype (a NumPy
    # float64 weight would turn float32 gradients into float64 ones, and training would slow down).
    bounds = [len(X) * i // parts for i in range(parts + 1)]
    slices = [slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]
    if y is None:
        tasks = [functools.partial(loss, X[part], None) for part in slices]
    else:
        tasks = [functools.partial(_weighted, loss, (part.stop - part.start) / len(X), X[part], y[part])
                 for part in slices]
    with _blas().limit(limits=1):
        others = [_workers(parts - 1).submit(task) for task in tasks[1:]]
        try:
            results = [tasks[0]()]
        finally:
            wait(others)  # no thread still runs when BLAS gets its threads back or an error is raised
        results += [other.result() for other in others]
    if y is None:
        return np.concatenate(results)
    total = sum(value for value, _ in results)
    grads = {name: functools.reduce(operator.add, (part_grads[name] for _, part_grads in results))
             for name in results[0][1]}
    return total, grads


def _weighted(loss: Callable, weight: float, X: np.ndarray, y: np.ndarray):
    """loss(X, y) with the loss and every gradient multiplied by `weight`, in the part's own thread
    (scaling there rather than when the parts are combined halves the serial work)."""
    value, grads = loss(X, y)
    return weight * value, {name: weight * grad for name, grad in grads.items()}
