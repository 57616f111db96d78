"""The visible part of a graded cell never takes marks that its hidden part's policy gives: on the
kit's own catalogue of correct variants that the hidden checks accept, the visible checks pass
too, by a wide margin where they measure; a question's visible part does not run the student's
answers to other questions; and a failure caused by an earlier function names it."""
from __future__ import annotations

import numpy as np
import pytest

from assignments import paths
from assignments.data import get_mnist_data
from assignments.gradient_check import gradient_error, numerical_gradient
from assignments.notebooks import cell_by_grade_id, load_definitions, read_notebook
from grader_tests.fully_connected import check_affine_backward
from grader_tests.mutants.fully_connected import WorkingTwoLayerNet
from grader_tests.softmax import check_softmax_cross_entropy_gradient, check_linear_classifier_gradients


def run_visible(notebook: str, grade_id: str, **answers) -> dict:
    """Run the released visible part of `grade_id` in a namespace of the reference solution with
    `answers` replacing some of its definitions; returns the namespace."""
    namespace = dict(vars(load_definitions(paths.SOURCE_DIR / notebook, module_name=f"visible_{grade_id}")))
    namespace.update(answers)
    exec(cell_by_grade_id(read_notebook(paths.RELEASE_DIR / notebook), grade_id).source, namespace)
    return namespace


SOFTMAX, FULLY_CONNECTED, CNN = ("01_softmax/01_softmax.ipynb", "02_fully_connected/02_fully_connected.ipynb",
                                 "04_cnn/04_cnn.ipynb")


def _reference(notebook):
    return load_definitions(paths.SOURCE_DIR / notebook, module_name="reference_for_visible")


def test_a_summed_loss_does_not_cost_the_gradient_questions_of_01():
    reference = _reference(SOFTMAX)

    def summed_loss_averaged_gradient(scores, y):
        loss, dscores = reference.softmax_cross_entropy(scores, y)
        return loss * len(y), dscores

    def summed_linear_loss(W, b, X, y, reg):
        loss, dW, db = reference.linear_classifier_loss(W, b, X, y, reg)
        return loss * len(y), dW, db

    check_softmax_cross_entropy_gradient(summed_loss_averaged_gradient)  # the hidden policy: gradient marks kept
    check_linear_classifier_gradients(summed_linear_loss)
    run_visible(SOFTMAX, "test_softmax_cross_entropy_gradient", softmax_cross_entropy=summed_loss_averaged_gradient)
    run_visible(SOFTMAX, "test_linear_classifier_gradients", linear_classifier_loss=summed_linear_loss)


def test_a_float32_affine_forward_does_not_cost_affine_backward():
    reference = _reference(FULLY_CONNECTED)

    def affine_forward_float32(x, w, b):
        out, cache = reference.affine_forward(x, w, b)
        return out.astype(np.float32), cache

    check_affine_backward(affine_forward_float32, reference.affine_backward)
    run_visible(FULLY_CONNECTED, "test_affine_backward", affine_forward=affine_forward_float32)


def test_affine_backward_with_an_unanswered_forward_says_to_fix_affine_forward():
    def unanswered(x, w, b):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="Fix affine_forward first"):
        run_visible(FULLY_CONNECTED, "test_affine_backward", affine_forward=unanswered)


def test_the_solvers_visible_check_does_not_use_the_students_network_or_optimizers():
    class BrokenTwoLayerNet(WorkingTwoLayerNet):
        def loss(self, X, y=None):
            raise ValueError("operands could not be broadcast together with shapes (100,) (25,)")

    def broken(*args, **kwargs):
        raise ValueError("a broken answer to another question")

    run_visible(FULLY_CONNECTED, "test_Solver", TwoLayerNet=BrokenTwoLayerNet, adam=broken, sgd=broken,
                sgd_momentum=broken, rmsprop=broken, affine_forward=broken, affine_backward=broken,
                relu_forward=broken, relu_backward=broken, softmax_loss=broken,
                get_mnist_data=lambda verbose=True: get_mnist_data(verbose=False))


def test_the_conv_nets_visible_gradient_check_has_a_wide_margin():
    """The whole-array relative error of each gradient, on the visible input, is at least 100x below
    the visible threshold (1e-6) for the reference; an entry of dW2 of 3e-7 no longer decides it."""
    reference = _reference(CNN)
    np.random.seed(0)
    model = reference.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=3, filter_size=3, hidden_dim=7,
                                        num_classes=4, weight_scale=1e-1, reg=0.1, dtype=np.float64)
    X, y = np.random.randn(2, 3, 8, 8), np.array([1, 3])
    _, grads = model.loss(X, y)
    for name in model.params:
        numerical = numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name])
        assert gradient_error(grads[name], numerical) < 1e-8, name


# ------------------------------------ the kit's catalogue of correct variants passes the visible checks

def _softmax_variants():
    from tests import test_01_softmax as sm
    return [(f"{name} {v.__name__}", {name: v}) for name, variants in (
        ("softmax", (sm.softmax_loops, sm.softmax_logsumexp, sm.softmax_float32_preserving,
                     sm.softmax_allocating_like_input)),
        ("softmax_cross_entropy", (sm.ce_loops, sm.ce_logsumexp_onehot, sm.ce_float32_preserving, sm.ce_scipy,
                                   sm.ce_shifting_in_place)),
        ("linear_classifier_loss", (sm.linear_loops, sm.linear_einsum, sm.linear_float32_preserving,
                                    sm.linear_other_names))) for v in variants]


def _fully_connected_variants():
    from tests import test_02_fully_connected as fc
    return [
        ("affine loops", {"affine_forward": fc.affine_forward_loops, "affine_backward": fc.affine_backward_loops}),
        ("affine flat cache", {"affine_forward": fc.affine_forward_flat_cache,
                               "affine_backward": fc.affine_backward_flat_cache}),
        ("relu where", {"relu_forward": fc.relu_forward_where, "relu_backward": fc.relu_backward_where}),
        ("relu mask", {"relu_forward": fc.relu_forward_mask, "relu_backward": fc.relu_backward_mask}),
        *[(f"softmax_loss {v.__name__}", {"softmax_loss": v}) for v in
          (fc.softmax_loss_logsumexp, fc.softmax_loss_probabilities, fc.softmax_loss_loops, fc.softmax_loss_in_place)],
        ("sgd in place", {"sgd": fc.sgd_in_place}),
        ("momentum in place", {"sgd_momentum": fc.sgd_momentum_in_place}),
        ("momentum copying", {"sgd_momentum": fc.sgd_momentum_copying}),
        ("rmsprop copying", {"rmsprop": fc.rmsprop_copying}),
        ("adam in place", {"adam": fc.adam_in_place}),
    ]


def _cnn_variants():
    from tests import test_04_cnn as cnn
    return [(name, {k: v for k, v in vars(namespace).items() if k != "ThreeLayerConvNet"})
            for name, namespace in (("loops", cnn.LOOPS), ("vectorised", cnn.VECTORISED))]


def _cells_using(notebook: str, names) -> list[str]:
    cells = [c for c in read_notebook(paths.RELEASE_DIR / notebook).cells
             if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    return [c.metadata.nbgrader.grade_id for c in cells
            if c.metadata.nbgrader.grade_id != "test_conv_fast_speed"  # tests/test_04_cnn_speed.py
            and any(name in c.source for name in names)]


@pytest.mark.parametrize("notebook, name, answers", [
    *[(SOFTMAX, name, answers) for name, answers in _softmax_variants()],
    *[(FULLY_CONNECTED, name, answers) for name, answers in _fully_connected_variants()],
    *[(CNN, name, answers) for name, answers in _cnn_variants()]], ids=lambda v: v if isinstance(v, str) else "")
def test_every_correct_variant_of_the_catalogue_passes_the_visible_checks_that_call_it(notebook, name, answers):
    cells = _cells_using(notebook, answers)
    assert cells, f"no visible check calls {sorted(answers)}"
    extra = {"data": get_mnist_data(verbose=False)} if notebook == CNN else {}
    if notebook == SOFTMAX:
        extra = {"flat": get_mnist_data(flatten=True, verbose=False)}
    for grade_id in cells:
        run_visible(notebook, grade_id, **extra, **answers)
