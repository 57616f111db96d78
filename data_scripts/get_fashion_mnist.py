"""Fetch Fashion-MNIST into data/fashion-mnist/ (or $DLKIT_DATA_DIR/fashion-mnist, or --dir).

Fashion-MNIST (Zalando Research, MIT licence): 60,000 training and 10,000 test images of clothing
in 10 classes, 28x28 grey, in MNIST's file format; `dataset = "fashion-mnist"` in course.toml
makes assignments 01-04 use it. Sources (--source; default auto: Debian's package when it is
installed, else the download):
- debian: the files of Debian's package dataset-fashion-mnist (`apt-get install
  dataset-fashion-mnist`), in /usr/share/datasets/fashion-mnist/. Debian compressed them again,
  so their uncompressed bytes are checked against the SHA-256 of the official files.
- official: the four official gzip files, each checked by its SHA-256, from Zalando's site or
  else the copy in the data set's GitHub repository.
The files are loaded once to verify them, and SOURCE.txt records what they are.
"""
from __future__ import annotations

import argparse
import gzip
import sys
import zlib
from pathlib import Path

from assignments import paths
from assignments.data import (DATASET_FOLDERS, MNIST_FILES, DataFileError, download, fetch_into,
                              load_mnist, require_sha256)
from assignments.formats import write_atomic

SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
"""SHA-256 of the official gzip files (as TensorFlow Datasets and others pin them)."""

IDX_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
"""SHA-256 of the official files uncompressed: what Debian's re-compressed files must hold."""

MIRRORS = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
]
"""Where the official files are, tried in this order: Zalando's site, then the data set's repository."""

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's package dataset-fashion-mnist installs the four files."""

SOURCES = ("auto", "debian", "official")


def fetch(directory: Path, retries: int) -> str:
    """Download and verify the four official files; returns the description for SOURCE.txt."""
    for filename, sha256 in SHA256.items():
        download(filename, sha256, [mirror + filename for mirror in MIRRORS], directory, "fashion-mnist",
                 retries)
    X_train, _, X_test, _ = load_mnist(directory, "fashion-mnist")
    return (f"full Fashion-MNIST ({len(X_train):,} train / {len(X_test):,} test)\n"
            f"Downloaded by data_scripts/get_fashion_mnist.py from the first of {', '.join(MIRRORS)} "
            f"that worked; SHA-256 verified:\n" + "".join(f"{h}  {f}\n" for f, h in SHA256.items()))


def copy_debian(directory: Path) -> str:
    """Copy and verify the files of Debian's package; returns the description for SOURCE.txt."""
    if not DEBIAN_DIR.is_dir():
        raise DataFileError(DEBIAN_DIR, "missing: Debian's package is not installed "
                                        "(apt-get install dataset-fashion-mnist)", "fashion-mnist")
    files = {}
    for name in MNIST_FILES.values():  # all four verified before any is written
        path = DEBIAN_DIR / f"{name}.gz"
        try:
            files[name] = path.read_bytes()
            require_sha256(path, gzip.decompress(files[name]), IDX_SHA256[name], "fashion-mnist")
        except (OSError, EOFError, zlib.error) as error:
            raise DataFileError(path, f"unreadable: {error}", "fashion-mnist") from error
    for name, data in files.items():
        write_atomic(directory / f"{name}.gz", data)
    X_train, _, X_test, _ = load_mnist(directory, "fashion-mnist")
    return (f"full Fashion-MNIST ({len(X_train):,} train / {len(X_test):,} test)\n"
            f"Copied by data_scripts/get_fashion_mnist.py from Debian's package dataset-fashion-mnist "
            f"({DEBIAN_DIR}); SHA-256 of the uncompressed files verified against the official ones:\n"
            + "".join(f"{h}  {f}\n" for f, h in IDX_SHA256.items()))


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (0: data ready, 1: it could not be fetched)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", choices=SOURCES, default="auto",
                        help="where the data comes from (default: auto, Debian's package when "
                             "installed, else the download)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="folder to write to (default: data/fashion-mnist, or "
                             "$DLKIT_DATA_DIR/fashion-mnist)")
    parser.add_argument("--retries", type=int, default=1,
                        help="further attempts at each host after a failed download (default: 1)")
    args = parser.parse_args(argv)
    directory = args.dir or paths.data_dir() / DATASET_FOLDERS["fashion-mnist"]
    use_debian = args.source == "debian" or (args.source == "auto" and DEBIAN_DIR.is_dir())
    return fetch_into(directory, lambda: copy_debian(directory) if use_debian else fetch(directory, args.retries))


if __name__ == "__main__":
    sys.exit(main())
