"""assignments.formats: IDX and CIFAR-10 batches, read back what was written, refuse what is broken."""
import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from assignments.formats import (FormatError, read_cifar_batch, read_cifar_meta, read_idx, read_mnist_pickle,
                                 write_cifar_batch, write_cifar_meta, write_idx)

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("name", ["array-idx3-ubyte", "array-idx3-ubyte.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    array = (RNG.standard_normal((4, 3, 5)) * 100).astype(dtype)
    write_idx(tmp_path / name, array)
    back = read_idx(tmp_path / name)
    assert back.dtype == np.dtype(dtype) and back.shape == (4, 3, 5)
    np.testing.assert_array_equal(back, array)


def test_idx_layout_is_the_documented_one(tmp_path):
    write_idx(tmp_path / "labels", np.array([1, 2, 3], dtype=np.uint8))
    assert (tmp_path / "labels").read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3])
    write_idx(tmp_path / "ints", np.array([[258]], dtype=np.int32))
    assert (tmp_path / "ints").read_bytes() == bytes([0, 0, 0x0C, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 2])


def test_gzip_is_recognised_by_content_not_by_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_idx(tmp_path / "a.gz", array)
    (tmp_path / "a.gz").rename(tmp_path / "compressed-but-no-suffix")
    write_idx(tmp_path / "b", array)
    (tmp_path / "b").rename(tmp_path / "plain-but-named.gz")
    for name in ["compressed-but-no-suffix", "plain-but-named.gz"]:
        np.testing.assert_array_equal(read_idx(tmp_path / name), array)
    assert (tmp_path / "compressed-but-no-suffix").read_bytes()[:2] == b"\x1f\x8b"


def test_gzip_output_is_byte_identical_across_runs(tmp_path):
    array = np.arange(100, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", array)
    write_idx(tmp_path / "b.gz", array)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    assert struct.unpack("<I", (tmp_path / "a.gz").read_bytes()[4:8]) == (0,)  # gzip mtime


@pytest.mark.parametrize("gzipped", [False, True])
def test_truncated_idx_is_refused(tmp_path, gzipped):
    raw = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(2 * 28 * 28 - 1)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(gzip.compress(raw) if gzipped else raw)
    with pytest.raises(FormatError, match=r"truncated.*\(2, 28, 28\).*1,568 bytes.*1,567") as error:
        read_idx(path)
    assert error.value.path == path


def test_extra_bytes_after_idx_data_are_refused(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 7, 7]))
    with pytest.raises(FormatError, match="too long"):
        read_idx(path)


@pytest.mark.parametrize("raw, message", [
    (b"", "truncated: 0 bytes"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated inside the header"),
    (b"PK\x03\x04" + bytes(20), "not an IDX file: magic bytes 50 4b 03 04"),
    (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]), "not an IDX file"),  # unknown type code
    (bytes([0, 0, 8, 0]), "not an IDX file"),  # zero dimensions
])
def test_corrupt_idx_is_refused(tmp_path, raw, message):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(raw)
    with pytest.raises(FormatError, match=message):
        read_idx(path)


def test_cut_gzip_stream_is_refused(tmp_path):
    write_idx(tmp_path / "a.gz", np.arange(1000, dtype=np.int32))
    (tmp_path / "a.gz").write_bytes((tmp_path / "a.gz").read_bytes()[:-20])
    with pytest.raises(FormatError, match="corrupt or truncated gzip"):
        read_idx(tmp_path / "a.gz")


def test_write_idx_refuses_types_idx_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="int64"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError):
        write_idx(tmp_path / "x", np.uint8(3))
    assert not list(tmp_path.iterdir())


# --- CIFAR-10 -----------------------------------------------------------------------------------

def _images(n):
    return RNG.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)


def test_cifar_batch_round_trip(tmp_path):
    X, y = _images(7), np.array([0, 9, 3, 3, 1, 2, 5])
    names = [f"{i}.png" for i in range(7)]
    write_cifar_batch(tmp_path / "data_batch_1", X, y, "training batch 1 of 5", names)
    X_back, y_back = read_cifar_batch(tmp_path / "data_batch_1")
    np.testing.assert_array_equal(X_back, X)
    np.testing.assert_array_equal(y_back, y)
    assert X_back.dtype == np.uint8 and y_back.dtype == np.int64


def test_cifar_batch_reads_with_the_dataset_pages_own_code(tmp_path):
    """The loader the CIFAR-10 page gives, `pickle.load(f, encoding='bytes')`, sees the official keys."""
    X, y = _images(3), [4, 0, 8]
    write_cifar_batch(tmp_path / "test_batch", X, y, "testing batch 1 of 1", ["a.png", "b.png", "c.png"])
    with open(tmp_path / "test_batch", "rb") as file:
        batch = pickle.load(file, encoding="bytes")
    assert batch[b"batch_label"] == b"testing batch 1 of 1"
    assert batch[b"labels"] == [4, 0, 8] and batch[b"filenames"] == [b"a.png", b"b.png", b"c.png"]
    assert batch[b"data"].shape == (3, 3072) and batch[b"data"].dtype == np.uint8
    np.testing.assert_array_equal(batch[b"data"][1, :1024].reshape(32, 32), X[1, 0])  # red plane first


def test_cifar_batch_is_byte_identical_across_runs(tmp_path):
    X, y = _images(2), [1, 2]
    for name in ["a", "b"]:
        write_cifar_batch(tmp_path / name, X, y, "label", ["x", "y"])
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def _python2_batch(data, labels):
    """A batch pickled the way the official files were (Python 2): `str` as SHORT_BINSTRING or
    BINSTRING, numpy's reconstructor under its old name numpy.core.multiarray."""
    def string(text):
        if len(text) < 256:
            return b"U" + bytes([len(text)]) + text
        return b"T" + struct.pack("<i", len(text)) + text

    def integer(n):
        return b"J" + struct.pack("<i", n)

    array = (b"cnumpy.core.multiarray\n_reconstruct\n" b"cnumpy\nndarray\n" + integer(0) + b"\x85"
             + string(b"b") + b"\x87R"
             + b"(" + integer(1) + integer(len(data)) + integer(3072) + b"\x86"
             + b"cnumpy\ndtype\n" + string(b"u1") + integer(0) + integer(1) + b"\x87R"
             + b"(" + integer(3) + string(b"|") + b"NNN" + integer(-1) + integer(-1) + integer(0) + b"tb"
             + b"\x89" + string(data.tobytes()) + b"tb")
    return (b"\x80\x02}(" + string(b"batch_label") + string(b"training batch 1 of 5")
            + string(b"labels") + b"](" + b"".join(integer(n) for n in labels) + b"e"
            + string(b"data") + array + b"u.")


def test_reads_a_python2_pickle_like_the_official_batches(tmp_path):
    X = _images(2)
    (tmp_path / "data_batch_1").write_bytes(_python2_batch(X.reshape(2, -1), [6, 9]))
    X_back, y_back = read_cifar_batch(tmp_path / "data_batch_1")
    np.testing.assert_array_equal(X_back, X)
    np.testing.assert_array_equal(y_back, [6, 9])


class _RunsACommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_a_pickle_that_runs_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": _RunsACommand(f"touch {marker}"), b"labels": []}))
    with pytest.raises(FormatError, match=r"refused to load the global (posix|os)\.system") as error:
        read_cifar_batch(path)
    assert error.value.path == path
    assert not marker.exists()


@pytest.mark.parametrize("content, message", [
    ([1, 2, 3], "holds a list, not a dict"),
    ({b"data": np.zeros((1, 3072), np.uint8)}, "lack b'data' or b'labels'"),
    ({b"data": np.zeros((1, 3072), np.float32), b"labels": [0]}, "uint8 array of shape"),
    ({b"data": np.zeros((1, 1024), np.uint8), b"labels": [0]}, "uint8 array of shape"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "list of 2 labels"),
    ({b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}, "integers in 0..9"),
])
def test_pickles_that_are_not_cifar_batches_are_refused(tmp_path, content, message):
    path = tmp_path / "data_batch_2"
    path.write_bytes(pickle.dumps(content, protocol=4))
    with pytest.raises(FormatError, match=message):
        read_cifar_batch(path)


@pytest.mark.parametrize("raw", [b"", b"not a pickle at all", None])
def test_truncated_or_foreign_pickles_are_refused(tmp_path, raw):
    path = tmp_path / "test_batch"
    write_cifar_batch(path, _images(2), [1, 2], "x", ["a", "b"])
    path.write_bytes(path.read_bytes()[:-100] if raw is None else raw)
    with pytest.raises(FormatError, match="not a readable CIFAR-10 pickle"):
        read_cifar_batch(path)


def test_cifar_meta_round_trip_and_refusal(tmp_path):
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    write_cifar_meta(tmp_path / "batches.meta", names, 10000)
    assert read_cifar_meta(tmp_path / "batches.meta") == names
    with open(tmp_path / "batches.meta", "rb") as file:
        assert pickle.load(file, encoding="bytes")[b"num_vis"] == 3072
    (tmp_path / "bad.meta").write_bytes(pickle.dumps({b"label_names": [b"a"]}))
    with pytest.raises(FormatError, match="label_names"):
        read_cifar_meta(tmp_path / "bad.meta")


def test_write_cifar_batch_checks_its_inputs(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_cifar_batch(tmp_path / "b", _images(2).astype(np.float32), [0, 1], "x", ["a", "b"])
    with pytest.raises(ValueError, match="1 labels"):
        write_cifar_batch(tmp_path / "b", _images(2), [0], "x", ["a", "b"])
    with pytest.raises(ValueError, match="1 names"):
        write_cifar_batch(tmp_path / "b", _images(2), [0, 1], "x", ["a"])
    assert not list(tmp_path.iterdir())


def test_missing_files_raise_file_not_found_and_errors_name_the_file(tmp_path):
    for reader in (read_idx, read_cifar_batch):
        with pytest.raises(FileNotFoundError):
            reader(tmp_path / "nothing")
    assert isinstance(FormatError("x", "y"), ValueError)
    assert str(FormatError(tmp_path / "f", "truncated")) == f"{tmp_path / 'f'}: truncated"


# --- MNIST as one pickle (mnist.pkl.gz) ---------------------------------------------------------

def _mnist_parts(scale=256):
    """A tiny (train, validation, test) tuple of mnist.pkl.gz's layout, pixels as byte / scale."""
    rng = np.random.default_rng(0)
    return tuple((rng.integers(0, 256, (n, 784)).astype(np.float32) / scale, rng.integers(0, 10, n))
                 for n in (3, 2, 4))


def test_mnist_pickle_gives_the_bytes_back_with_validation_after_train(tmp_path):
    parts = _mnist_parts()
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(parts, protocol=4)))
    X_train, y_train, X_test, y_test = read_mnist_pickle(path)
    assert X_train.dtype == X_test.dtype == y_train.dtype == np.uint8
    assert X_train.shape == (5, 28, 28) and X_test.shape == (4, 28, 28)
    np.testing.assert_array_equal(X_train.reshape(5, -1), np.concatenate([parts[0][0], parts[1][0]]) * 256)
    np.testing.assert_array_equal(y_train, np.concatenate([parts[0][1], parts[1][1]]))
    np.testing.assert_array_equal(y_test, parts[2][1])


@pytest.mark.parametrize("parts, problem", [
    (_mnist_parts(scale=255), "not bytes / 256"),  # pixels in [0, 1], not the official byte / 256
    (_mnist_parts()[:2], "a tuple of three (images, labels) pairs"),
    ({"train": 1}, "a tuple of three (images, labels) pairs"),
    (tuple((X.reshape(-1, 28, 28), y) for X, y in _mnist_parts()), "expected (N, 784) images"),
])
def test_mnist_pickle_of_another_layout_is_refused(tmp_path, parts, problem):
    path = tmp_path / "mnist.pkl"
    path.write_bytes(pickle.dumps(parts, protocol=4))
    with pytest.raises(FormatError, match="not an MNIST pickle") as error:
        read_mnist_pickle(path)
    assert problem in str(error.value) and str(path) in str(error.value)
