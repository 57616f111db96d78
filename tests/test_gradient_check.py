"""assignments.gradient_check against closed-form gradients of known functions."""
import numpy as np
import pytest

from assignments.gradient_check import (
    check_gradient,
    numerical_gradient,
    numerical_gradient_array,
    rel_error,
)


@pytest.fixture
def rng():
    return np.random.default_rng(231)


def test_quadratic_form_non_symmetric(rng):
    # f(x) = x^T A x has gradient (A + A^T) x; a non-symmetric A catches a transposed answer.
    A = rng.standard_normal((5, 5))
    x = rng.standard_normal(5)
    grad = numerical_gradient(lambda v: v @ A @ v, x)
    assert grad.shape == x.shape and grad.dtype == np.float64
    assert rel_error(grad, (A + A.T) @ x) < 1e-8


def test_sin_on_a_3d_array(rng):
    x = rng.standard_normal((2, 3, 4))
    grad = numerical_gradient(lambda v: np.sum(np.sin(v)), x)
    assert grad.shape == (2, 3, 4)
    # Centred differences err by h^2/6; forward differences (error ~h) would miss this bound.
    assert rel_error(grad, np.cos(x)) < 1e-8


def test_zero_dimensional_x():
    x = np.array(0.3)
    assert rel_error(numerical_gradient(lambda v: float(v) ** 3, x), 3 * 0.3**2) < 1e-8


def test_f_reading_x_through_a_closure(rng):
    # The notebooks' pattern: f ignores its argument and reads the perturbed parameter in place.
    params = {"W": rng.standard_normal((3, 2))}
    X = rng.standard_normal((4, 3))
    grad = numerical_gradient(lambda _: np.sum(X @ params["W"]), params["W"])
    assert rel_error(grad, X.T @ np.ones((4, 2))) < 1e-8


def test_matrix_product_array_valued(rng):
    X = rng.standard_normal((4, 3))
    W = rng.standard_normal((3, 5))
    dout = rng.standard_normal((4, 5))
    dW = numerical_gradient_array(lambda w: X @ w, W, dout)
    dX = numerical_gradient_array(lambda x: x @ W, X, dout)
    assert dW.shape == W.shape and dX.shape == X.shape
    assert rel_error(dW, X.T @ dout) < 1e-8
    assert rel_error(dX, dout @ W.T) < 1e-8


def test_array_valued_elementwise_nonlinearity(rng):
    x = rng.standard_normal((3, 4))
    dout = rng.standard_normal((3, 4))
    grad = numerical_gradient_array(np.tanh, x, dout)
    assert rel_error(grad, dout * (1 - np.tanh(x) ** 2)) < 1e-7


def test_array_valued_rejects_dout_of_another_shape(rng):
    x = rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(4,\)"):
        numerical_gradient_array(np.tanh, x, np.ones(4))


@pytest.mark.parametrize(
    "x, y, expected",
    [
        (1.0, 1.0, 0.0),
        (1.0, 3.0, 0.5),
        (-1.0, 1.0, 1.0),
        (np.zeros(3), np.zeros(3), 0.0),
        (0.0, 1e-9, 0.1),  # the 1e-8 floor in the denominator
        ([1.0, 10.0], [1.0, 12.0], 2.0 / 22.0),  # the largest elementwise error wins
        (np.zeros((0, 2)), np.zeros((0, 2)), 0.0),
    ],
)
def test_rel_error_values(x, y, expected):
    assert rel_error(x, y) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert isinstance(rel_error(x, y), float)


def test_rel_error_nan_is_not_hidden():
    assert np.isnan(rel_error([1.0, np.nan], [1.0, 1.0]))


def test_rel_error_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        rel_error(np.zeros((2, 3)), np.zeros((3, 2)))


def test_x_unchanged_afterwards(rng):
    x = rng.standard_normal((3, 4))
    before = x.copy()
    numerical_gradient(lambda v: np.sum(v**2), x)
    numerical_gradient_array(np.sin, x, np.ones((3, 4)))
    assert np.array_equal(x, before)


def test_x_restored_when_f_raises(rng):
    x = rng.standard_normal((3, 4))
    before = x.copy()
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 4:  # the second coordinate, x - h side
            raise RuntimeError("boom")
        return np.sum(v)

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    assert np.array_equal(x, before)


def test_float32_within_a_looser_tolerance(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    before = x.copy()
    grad = numerical_gradient(lambda v: np.sum(np.sin(v) * v), x, h=1e-3)
    assert grad.dtype == np.float64 and np.array_equal(x, before) and x.dtype == np.float32
    x64 = x.astype(np.float64)
    assert rel_error(grad, np.cos(x64) * x64 + np.sin(x64)) < 1e-2


def test_step_below_float32_resolution_is_an_error():
    with pytest.raises(ValueError, match="resolution"):
        numerical_gradient(lambda v: np.sum(v), np.full(2, 1e4, dtype=np.float32), h=1e-5)


def test_integer_x_is_rejected():
    with pytest.raises(TypeError, match="floating-point"):
        numerical_gradient(lambda v: np.sum(v), np.arange(3))


def test_non_scalar_f_points_to_the_array_version(rng):
    with pytest.raises(ValueError, match="numerical_gradient_array"):
        numerical_gradient(lambda v: v * 2, rng.standard_normal(3))


def test_check_gradient_full(rng):
    x = rng.standard_normal((4, 3))

    def f(v):
        return np.sum(v**3)

    assert check_gradient(f, x, 3 * x**2) < 1e-8
    assert check_gradient(f, x, 2 * 3 * x**2) == pytest.approx(1 / 3, rel=1e-6)


def test_check_gradient_sparse_prints_one_line_per_check(rng, capsys):
    x = rng.standard_normal((10, 10))
    before = x.copy()

    def f(v):
        return np.sum(np.sin(v))

    error = check_gradient(f, x, np.cos(x), num_checks=5, seed=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and all("rel error" in line for line in lines)
    assert isinstance(error, float) and error < 1e-8
    assert np.array_equal(x, before)
    # Same seed, same coordinates; a wrong gradient is seen at every one of them.
    assert check_gradient(f, x, -np.cos(x), num_checks=5, seed=1) == pytest.approx(1.0)
    coordinates = [line.split(":")[0] for line in lines]
    assert [line.split(":")[0] for line in capsys.readouterr().out.splitlines()] == coordinates


def test_check_gradient_sparse_caps_at_x_size(rng, capsys):
    x = rng.standard_normal(3)
    check_gradient(lambda v: np.sum(v**2), x, 2 * x, num_checks=10)
    assert len(capsys.readouterr().out.strip().splitlines()) == 3


def test_check_gradient_rejects_mismatched_analytic_shape(rng):
    x = rng.standard_normal((2, 3))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        check_gradient(lambda v: np.sum(v), x, np.ones((3, 2)), num_checks=2)


def test_check_gradient_sparse_returns_the_worst_coordinate(rng, capsys):
    x = rng.standard_normal(6)
    analytic = 2 * x
    analytic[2] *= 3  # one wrong coordinate: relative error 2/4
    error = check_gradient(lambda v: np.sum(v**2), x, analytic, num_checks=6)
    assert error == pytest.approx(0.5)
