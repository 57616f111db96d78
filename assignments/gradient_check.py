r"""Numerical gradients by centred differences, and the relative error used to compare gradients.

The centred difference of a scalar function f at coordinate i is

$$\frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h},$$

with an error of order $h^2$. `x` is perturbed *in place*, so `f` may ignore its argument and read
`x` through a model: `numerical_gradient(lambda _: model.loss(X, y)[0], model.params["W1"])`.
Every perturbation is undone exactly, also when `f` raises.

f runs on x's own dtype; the gradient comes back as float64. Use float64 arrays: in float32 the
rounding error of f, divided by 2h, swamps the result unless h is large (about 1e-3), and even then
expect relative errors near 1e-3 rather than 1e-8.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike


def rel_error(x: ArrayLike, y: ArrayLike) -> float:
    r"""Largest elementwise relative error $|x - y| / \max(10^{-8}, |x| + |y|)$.

    Inputs:
    - x, y: arrays (or scalars) of the same shape; no broadcasting, so that a wrong shape is caught.

    Returns the maximum over all elements (0.0 for empty arrays; NaN if any element is NaN).
    Rough guide for float64 gradients: below 1e-7 is right, above 1e-2 is wrong.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error needs arrays of the same shape, got {x.shape} and {y.shape}")
    errors = np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))
    return float(np.max(errors, initial=0.0))


def gradient_error(got: ArrayLike, expected: ArrayLike, floor: float = 1e-8) -> float:
    r"""Relative error over the whole array, $\|g - e\| / \max(floor, \|g\| + \|e\|)$ (2-norms).

    Unlike rel_error it does not judge a tiny entry by its own rounding (an entry of 3e-7 against a
    numerical gradient whose noise is 1e-11), so it suits gradients taken through a network or a
    float32 computation. Inputs: two arrays of the same shape. Returns a float (0.0 when both are 0).
    Rough guide: below 1e-6 is right for float64, below 1e-3 for float32; a mistake gives 1e-2 or more.
    """
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        raise ValueError(f"gradient_error needs arrays of the same shape, got {got.shape} and {expected.shape}")
    return float(np.linalg.norm(got - expected) / max(floor, np.linalg.norm(got) + np.linalg.norm(expected)))


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Gradient of a scalar function by centred differences, one coordinate at a time.

    Inputs:
    - f: function of x returning a scalar.
    - x: floating-point array of any shape; perturbed in place and restored exactly.
    - h: step size.

    Returns `grad`, float64 array of shape x.shape.
    """
    _check_perturbable(x)
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        grad[idx] = _centred_difference(f, x, idx, h)
    return grad


def numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    r"""Gradient of $\sum f(x) \odot dout$ for an array-valued f: what a backward pass returns.

    Inputs:
    - f: function of x returning an array of shape dout.shape.
    - x: floating-point array of any shape; perturbed in place and restored exactly.
    - dout: upstream gradient, same shape as f(x).
    - h: step size.

    Returns `grad`, float64 array of shape x.shape.
    """
    dout = np.asarray(dout, dtype=np.float64)

    def weighted_sum(x_: np.ndarray) -> float:
        out = np.asarray(f(x_))
        # Broadcasting would silently check a different function.
        if out.shape != dout.shape:
            raise ValueError(f"f(x) has shape {out.shape}, expected dout's shape {dout.shape}")
        return float(np.sum(out.astype(np.float64) * dout))

    return numerical_gradient(weighted_sum, x, h)


def check_gradient(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    h: float = 1e-5,
    num_checks: int | None = None,
    seed: int = 0,
) -> float:
    """Compare an analytic gradient of a scalar function with centred differences.

    Inputs:
    - f: function of x returning a scalar.
    - x: floating-point array of any shape; perturbed in place and restored exactly.
    - analytic_grad: the gradient to check, shape x.shape.
    - h: step size.
    - num_checks: None checks every coordinate quietly; an int checks that many distinct random
      coordinates (all of them if x has fewer) and prints one line per coordinate, which is much
      faster for large x.
    - seed: seed of the random choice of coordinates.

    Returns the largest relative error over the checked coordinates.
    """
    _check_perturbable(x)
    analytic_grad = np.asarray(analytic_grad)
    if analytic_grad.shape != x.shape:
        raise ValueError(
            f"analytic_grad has shape {analytic_grad.shape}, expected x's shape {x.shape}"
        )
    if num_checks is None:
        return rel_error(numerical_gradient(f, x, h), analytic_grad)

    rng = np.random.default_rng(seed)
    flat = rng.choice(x.size, size=min(num_checks, x.size), replace=False)
    errors = []
    for i in flat:
        idx = tuple(int(k) for k in np.unravel_index(i, x.shape))
        numeric = _centred_difference(f, x, idx, h)
        analytic = float(analytic_grad[idx])
        error = rel_error(numeric, analytic)
        print(f"{idx}: numerical {numeric: .6e}  analytic {analytic: .6e}  rel error {error:.2e}")
        errors.append(error)
    return float(np.max(errors, initial=0.0))  # np.max keeps a NaN; Python's max may drop it


def _check_perturbable(x: np.ndarray) -> None:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a NumPy array that f reads, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        # x + h would be truncated back to an integer and every difference would be 0.
        raise TypeError(
            f"x must be a floating-point array, got dtype {x.dtype}; use x.astype(np.float64)"
        )
    if not x.flags.writeable:
        raise ValueError("x must be writable: it is perturbed in place (a read-only view?)")


def _centred_difference(
    f: Callable[[np.ndarray], float], x: np.ndarray, idx: tuple[int, ...], h: float
) -> float:
    """(f(x + h e_idx) - f(x - h e_idx)) / step, leaving x exactly as it was."""
    old = x[idx]  # a NumPy scalar: a copy
    try:
        x[idx] = old + h
        # Divide by the step x's dtype really took, not by 2h: no error from rounding x +- h.
        x_plus, f_plus = float(x[idx]), _scalar(f(x))
        x[idx] = old - h
        x_minus, f_minus = float(x[idx]), _scalar(f(x))
    finally:
        x[idx] = old
    if x_plus == x_minus:
        raise ValueError(f"h={h} is below the resolution of {x.dtype} at x[{idx}] = {old}")
    return (f_plus - f_minus) / (x_plus - x_minus)


def _scalar(value: object) -> float:
    if np.ndim(value) != 0:
        raise ValueError(
            f"f must return a scalar, got shape {np.shape(value)}; for array-valued f use "
            "numerical_gradient_array(f, x, dout)"
        )
    return float(value)
