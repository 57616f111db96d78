"""Assignment 05 part 1: the hidden check of the student's own network compares its gradients with
centred differences of its own loss; correct networks pass with a wide margin, broken backward
passes fail and the message names the parameters."""
import numpy as np
import pytest

from assignments import paths
from assignments.notebooks import load_definitions
from grader_tests.checking import GradingFailure
from grader_tests.cifar10_network import GRADIENT_RTOL, check_cifar_net, network_gradient_errors

NOTEBOOK = paths.SOURCE_DIR / "05_cifar10/05_cifar10.ipynb"


def _reference(name: str):
    """A fresh module of the reference solution, whose layer functions a test may replace."""
    return load_definitions(NOTEBOOK, module_name=f"reference_05_{name}")


def _worst(build_model) -> float:
    return max(error for error, _ in network_gradient_errors(build_model).values())


def test_the_reference_network_passes_with_a_wide_margin():
    reference = _reference("plain")
    check_cifar_net(reference.build_model)
    assert _worst(reference.build_model) < GRADIENT_RTOL / 20


def test_a_network_computing_in_float32_passes_with_a_margin():
    reference = _reference("float32")

    class Float32Net(reference.CifarNet):
        def loss(self, X, y=None):
            kept, self.params = self.params, {k: v.astype(np.float32) for k, v in self.params.items()}
            try:
                return self.loss_in_one_thread(X, y)
            finally:
                self.params = kept

    assert _worst(lambda **config: Float32Net(**config)) < GRADIENT_RTOL / 5


def _drop_relu_mask(module):
    module.relu_backward = lambda dout, cache: dout


def _bias_gradient_divided_by_n(module):
    affine_backward = module.affine_backward

    def divided(dout, cache):
        dx, dw, db = affine_backward(dout, cache)
        return dx, dw, db / dout.shape[0]
    module.affine_backward = divided


def _conv_weight_gradient_halved(module):
    conv_backward = module.conv_backward_fast

    def halved(dout, cache):
        dx, dw, db = conv_backward(dout, cache)
        return dx, dw / 2, db
    module.conv_backward_fast = halved


def _pool_gradient_spread_over_the_window(module):
    def spread(dout, cache):
        return np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3) / 4
    module.max_pool_backward_naive = spread


@pytest.mark.parametrize("mistake, broken", [
    (_drop_relu_mask, ["W1", "b1", "W2", "b2", "W3", "b3"]),
    (_bias_gradient_divided_by_n, ["b3", "b4"]),
    (_conv_weight_gradient_halved, ["W1", "W2"]),
    (_pool_gradient_spread_over_the_window, ["W1", "b1"]),
], ids=lambda v: v.__name__.strip("_") if callable(v) else None)
def test_a_broken_backward_fails_and_names_its_parameters(mistake, broken):
    module = _reference(mistake.__name__)
    mistake(module)
    with pytest.raises(GradingFailure) as failure:
        check_cifar_net(module.build_model)
    message = str(failure.value)
    assert "its gradients are not the derivatives of its loss" in message
    named = [name for name in ["W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"] if f"grads[{name!r}]" in message]
    assert named == broken


def test_a_wrong_contract_fails_with_a_clear_message():
    reference = _reference("contract")

    class FiveClasses(reference.CifarNet):
        def loss(self, X, y=None):
            result = super().loss(X, y)
            return result[:, :5] if y is None else result

    with pytest.raises(GradingFailure, match=r"scores of shape \(4, 5\), expected \(4, 10\)"):
        check_cifar_net(lambda **config: FiveClasses(**config))
