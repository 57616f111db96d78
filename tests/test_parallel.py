"""assignments.parallel: a loss computed on parts of the batch in threads equals the whole batch's."""
import multiprocessing
import os
import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from assignments.parallel import blas_threads, split_batch


class Softmax:
    """A linear softmax classifier with weight decay: a mean over the images plus a weight term."""

    def __init__(self, reg=0.1, dtype=np.float64):
        rng = np.random.default_rng(0)
        self.params = {"W": rng.standard_normal((6, 4)).astype(dtype), "b": rng.standard_normal(4).astype(dtype)}
        self.reg = reg

    def loss(self, X, y=None):
        W, b = self.params["W"], self.params["b"]
        scores = X @ W + b
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(len(X)), y]).mean() + 0.5 * self.reg * np.sum(W * W)
        dscores = probs
        dscores[np.arange(len(X)), y] -= 1
        dscores /= len(X)
        return loss, {"W": X.T @ dscores + self.reg * W, "b": dscores.sum(axis=0)}


def batch(n):
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, 6)), rng.integers(0, 4, n)


@pytest.mark.parametrize("parts", [2, 3])
def test_parts_of_unequal_size_give_the_whole_batchs_loss_and_gradients(parts):
    model = Softmax()
    X, y = batch(7)   # 7 images: the parts have 3-4 or 2-3 images, so each part's weight matters
    loss, grads = model.loss(X, y)
    split_loss, split_grads = split_batch(model.loss, X, y, parts=parts)
    assert split_loss == pytest.approx(loss, rel=1e-12)
    assert split_grads.keys() == grads.keys()
    for name in grads:
        np.testing.assert_allclose(split_grads[name], grads[name], rtol=1e-12)


def test_float32_gradients_stay_float32():
    """A float64 weight would make them float64, and an optimizer then trains in float64, slowly."""
    model = Softmax(dtype=np.float32)
    X, y = batch(7)
    loss, grads = split_batch(model.loss, X.astype(np.float32), y, parts=2)
    assert {name: grad.dtype for name, grad in grads.items()} == {"W": np.float32, "b": np.float32}


def test_scores_come_back_in_the_order_of_the_images():
    model = Softmax()
    X, _ = batch(9)
    np.testing.assert_array_equal(split_batch(model.loss, X, parts=4), model.loss(X))


def calls_recorder(loss, barrier=None):
    """`loss` that records (thread, number of images, BLAS threads) of every call."""
    calls = []

    def recorded(X, y=None):
        calls.append((threading.get_ident(), len(X), blas_threads()))
        if barrier is not None:
            barrier.wait()   # raises BrokenBarrierError unless the parts run at the same time
        return loss(X, y)
    return recorded, calls


def test_the_parts_run_at_the_same_time_in_threads_with_one_blas_thread_each():
    model = Softmax()
    X, y = batch(8)
    recorded, calls = calls_recorder(model.loss, threading.Barrier(2, timeout=10))
    with threadpool_limits(2, user_api="blas"):
        split_batch(recorded, X, y)          # as many parts as BLAS threads: 2
        assert blas_threads() == 2           # given back afterwards
    assert len({thread for thread, _, _ in calls}) == 2
    assert sorted(size for _, size, _ in calls) == [4, 4]
    assert [threads for _, _, threads in calls] == [1, 1]


def test_one_blas_thread_means_one_call_with_the_whole_batch():
    model = Softmax()
    X, y = batch(8)
    recorded, calls = calls_recorder(model.loss)
    with threadpool_limits(1, user_api="blas"):
        split_batch(recorded, X, y)
    assert calls == [(threading.get_ident(), 8, 1)]


def test_more_parts_than_images_gives_one_image_per_part():
    model = Softmax()
    X, y = batch(3)
    recorded, calls = calls_recorder(model.loss)
    loss, _ = split_batch(recorded, X, y, parts=8)
    assert sorted(size for _, size, _ in calls) == [1, 1, 1]
    assert loss == pytest.approx(model.loss(X, y)[0], rel=1e-12)


def test_an_error_in_a_part_reaches_the_caller_after_every_part_has_finished():
    finished = []

    def failing(X, y=None):
        if X[0, 0] > 100:
            raise ValueError("a bad part")
        time.sleep(0.3)
        finished.append(len(X))
        return 0.0, {}

    X, y = batch(6)
    X[:3] += 1000   # the first part, computed in the calling thread, fails at once
    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(ValueError, match="a bad part"):
            split_batch(failing, X, y)
        assert finished == [3]         # the other part was waited for
        assert blas_threads() == 2     # and BLAS has its threads back


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_splits_batches_with_threads_of_its_own():
    model = Softmax()
    X, y = batch(8)
    with threadpool_limits(2, user_api="blas"):
        expected = split_batch(model.loss, X, y)[0]       # the parent's pool now has a thread
        context = multiprocessing.get_context("fork")
        with context.Pool(1) as pool:
            child_loss = pool.apply_async(split_batch, (model.loss, X, y)).get(timeout=20)
    assert child_loss[0] == pytest.approx(expected, rel=1e-12)
