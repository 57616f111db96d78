"""assignments.plots: each function returns a titled, labelled Figure and rejects bad shapes."""
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")  # no display in tests; must precede pyplot's import

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from assignments.plots import (  # noqa: E402
    plot_compare_histories,
    plot_training_history,
    show_class_weights,
    show_conv_filters,
    show_feature_maps,
    show_image_grid,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def assert_line_axes_labelled(fig):
    assert isinstance(fig, Figure) and fig.get_suptitle()
    for ax in fig.axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_training_history_loss_only():
    fig = plot_training_history(np.linspace(2.3, 0.1, 50), title="My run")
    assert_line_axes_labelled(fig)
    assert fig.get_suptitle() == "My run" and len(fig.axes) == 1
    raw, smoothed = fig.axes[0].get_lines()
    assert len(raw.get_ydata()) == len(smoothed.get_ydata()) == 50


def test_training_history_smooths_the_loss():
    loss = np.tile([0.0, 2.0], 50)  # 100 iterations: a moving average over 4 of them
    fig = plot_training_history(loss)
    raw, smoothed = fig.axes[0].get_lines()
    np.testing.assert_array_equal(raw.get_ydata(), loss)
    np.testing.assert_allclose(smoothed.get_ydata()[3:], 1.0)


def test_training_history_with_accuracies():
    train, val = [0.1, 0.5, 0.8], [0.1, 0.4, 0.7]
    fig = plot_training_history(np.ones(30), train, val)
    assert_line_axes_labelled(fig)
    assert len(fig.axes) == 2
    lines = fig.axes[1].get_lines()
    assert [list(line.get_ydata()) for line in lines] == [train, val]
    assert [text.get_text() for text in fig.axes[1].get_legend().get_texts()] == ["train", "val"]


@pytest.mark.parametrize("loss", [[], np.ones((5, 2))])
def test_training_history_bad_loss_shape(loss):
    with pytest.raises(ValueError, match=r"loss_history.*\(n,\)"):
        plot_training_history(loss)


def test_compare_histories():
    histories = {
        "sgd": {"loss_history": np.ones(20), "train_acc_history": [0.1, 0.2],
                "val_acc_history": [0.1, 0.3]},
        "adam": SimpleNamespace(loss_history=np.ones(20), train_acc_history=[0.2, 0.6],
                                val_acc_history=[0.2, 0.5]),
        "loss only": {"loss_history": np.ones(10)},
    }
    fig = plot_compare_histories(histories, title="Optimizers")
    assert_line_axes_labelled(fig)
    ax_loss, ax_train, ax_val = fig.axes
    assert len(ax_loss.get_lines()) == 6  # raw and smoothed per run
    legend = [text.get_text() for text in ax_loss.get_legend().get_texts()]
    assert legend == ["sgd", "adam", "loss only"]
    assert [list(line.get_ydata()) for line in ax_val.get_lines()] == [[0.1, 0.3], [0.2, 0.5]]


def test_compare_histories_rejects_empty_and_missing_loss():
    with pytest.raises(ValueError, match="loss_history"):
        plot_compare_histories({})
    with pytest.raises(ValueError, match=r"'adam'.*loss_history"):
        plot_compare_histories({"adam": {"train_acc_history": [0.5]}})


def test_image_grid(rng):
    X = rng.normal(100.0, 50.0, size=(30, 1, 6, 5))  # any value range
    y = np.repeat(np.arange(3), 10)
    y[y == 2] = 1  # class 2 has no images
    fig = show_image_grid(X, y, classes=[0, 1, 2], samples_per_class=4,
                          class_names=["zero", "one", "two"])
    assert isinstance(fig, Figure) and fig.get_suptitle()
    assert len(image_axes(fig)) == 8
    assert [ax.get_title() for ax in fig.axes[:3]] == ["zero", "one", "two"]
    shown = image_axes(fig)[0].images[0].get_array()
    assert shown.shape == (6, 5) and shown.min() == 0.0 and shown.max() == 1.0


def test_image_grid_short_class_and_rgb(rng):
    X = rng.random((5, 3, 4, 4))
    y = np.array([0, 0, 1, 1, 1])
    fig = show_image_grid(X, y, classes=[1, 0], samples_per_class=3, seed=3)
    assert len(image_axes(fig)) == 5
    assert image_axes(fig)[0].images[0].get_array().shape == (4, 4, 3)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["1", "0"]


def test_image_grid_is_reproducible(rng):
    X = rng.random((40, 1, 3, 3))
    y = np.zeros(40, dtype=int)

    def shown(seed):
        fig = show_image_grid(X, y, classes=[0], samples_per_class=3, seed=seed)
        return [ax.images[0].get_array().tolist() for ax in image_axes(fig)]

    assert shown(1) == shown(1) != shown(2)


@pytest.mark.parametrize("shape", [(10, 28, 28), (10, 2, 28, 28), (0, 1, 28, 28)])
def test_image_grid_bad_shape(shape):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        show_image_grid(np.zeros(shape), np.zeros(shape[0], dtype=int), classes=[0])


def test_image_grid_labels_must_match(rng):
    with pytest.raises(ValueError, match=r"\(N,\) = \(4,\)"):
        show_image_grid(rng.random((4, 1, 3, 3)), np.zeros(5, dtype=int), classes=[0])


def test_conv_filters(rng):
    fig = show_conv_filters(rng.standard_normal((10, 3, 5, 5)))
    assert isinstance(fig, Figure) and fig.get_suptitle()
    assert len(image_axes(fig)) == 10
    assert all(ax.get_title() for ax in image_axes(fig))
    assert image_axes(fig)[0].images[0].get_array().shape == (5, 5, 3)


def test_conv_filters_constant_filter_is_drawn(rng):
    fig = show_conv_filters(np.zeros((2, 1, 3, 3)))
    assert np.all(image_axes(fig)[0].images[0].get_array() == 0.0)


@pytest.mark.parametrize("shape", [(10, 4, 5, 5), (10, 5, 5)])
def test_conv_filters_bad_shape(shape):
    with pytest.raises(ValueError, match=r"\(F, C, HH, WW\)"):
        show_conv_filters(np.zeros(shape))


def test_feature_maps_batch_with_channel_cap(rng):
    fig = show_feature_maps(rng.standard_normal((3, 20, 7, 9)), max_channels=16)
    assert isinstance(fig, Figure) and fig.get_suptitle()
    assert len(image_axes(fig)) == 3 * 16
    assert fig.axes[0].get_title() and fig.axes[0].get_ylabel() == "image 0"
    assert image_axes(fig)[0].images[0].get_array().shape == (7, 9)


def test_feature_maps_single_image_and_image_cap(rng):
    assert len(image_axes(show_feature_maps(rng.standard_normal((5, 4, 4))))) == 5
    fig = show_feature_maps(rng.standard_normal((20, 2, 4, 4)), max_images=8)
    assert len(image_axes(fig)) == 16


def test_feature_maps_bad_shape():
    with pytest.raises(ValueError, match=r"\(C, H, W\) or \(N, C, H, W\)"):
        show_feature_maps(np.zeros((4, 4)))


def test_class_weights_reshape_in_nchw_order(rng):
    templates = rng.random((10, 1, 28, 28))
    W = templates.reshape(10, -1).T  # (784, 10): column c is template c flattened
    names = [f"digit {c}" for c in range(10)]
    for image_shape in [(28, 28), (1, 28, 28)]:
        fig = show_class_weights(W, image_shape, class_names=names)
        axes = image_axes(fig)
        assert fig.get_suptitle() and len(axes) == 10
        assert [ax.get_title() for ax in axes] == names
        shown = axes[3].images[0].get_array()
        t = templates[3, 0]
        np.testing.assert_allclose(shown, (t - t.min()) / (t.max() - t.min()))


def test_class_weights_bad_shapes(rng):
    with pytest.raises(ValueError, match=r"\(D, num_classes\).*784"):
        show_class_weights(rng.random((785, 10)), (28, 28))
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        show_class_weights(rng.random((784, 10)), (2, 28, 14))


def test_saved_png_is_not_empty(tmp_path):
    path = tmp_path / "history.png"
    plot_training_history(np.linspace(2.3, 0.1, 50), [0.1, 0.9], [0.1, 0.8]).savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
