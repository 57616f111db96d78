"""Fetch CIFAR-10 (python version) into data/cifar10/ (or $DLKIT_DATA_DIR/cifar10, or --dir).

Downloads the official cifar-10-python.tar.gz (163 MiB, SHA-256 checked; kept, so that a second
run does not download it again), extracts its cifar-10-batches-py/ folder with tarfile's "data"
filter (no paths outside the folder, no links out, no devices), loads the batches once to verify
them, and records what they are in cifar-10-batches-py/SOURCE.txt (the notebooks print its first
line).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tarfile
from pathlib import Path

from assignments import paths
from assignments.data import DATASET_FOLDERS, SOURCE_FILE, DataFileError, download, load_cifar10
from assignments.formats import write_atomic

ARCHIVE = "cifar-10-python.tar.gz"
URLS = ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
"""SHA-256 of the official archive (the one Keras' cifar10.load_data pins)."""

FOLDER = DATASET_FOLDERS["cifar10"].name


def extract(archive: Path, directory: Path) -> Path:
    """Extract the archive's cifar-10-batches-py/ into `directory`, replacing an older copy only
    once the extraction succeeded; returns the extracted folder."""
    staging = directory / f".{FOLDER}.extracting"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
        if not (staging / FOLDER).is_dir():
            raise DataFileError(archive, f"wrong format: the archive holds no {FOLDER}/ folder",
                                "cifar10")
        shutil.rmtree(directory / FOLDER, ignore_errors=True)
        os.replace(staging / FOLDER, directory / FOLDER)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise DataFileError(archive, f"could not be extracted safely: {error}", "cifar10") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory / FOLDER


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (0: data ready, 1: it could not be fetched)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=None,
                        help="folder to write to (default: data/cifar10, or $DLKIT_DATA_DIR/cifar10)")
    parser.add_argument("--retries", type=int, default=1,
                        help="further attempts after a failed download (default: 1)")
    args = parser.parse_args(argv)
    directory = args.dir or paths.data_dir() / DATASET_FOLDERS["cifar10"].parent
    try:
        archive = download(ARCHIVE, SHA256, URLS, directory, "cifar10", args.retries)
        folder = extract(archive, directory)
        X_train, _, X_test, _ = load_cifar10(folder)
    except DataFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    description = f"full CIFAR-10 ({len(X_train):,} train / {len(X_test):,} test)"
    write_atomic(folder / SOURCE_FILE, (f"{description}\nDownloaded by data_scripts/get_cifar10.py from "
                                        f"{URLS[0]}; SHA-256 verified:\n{SHA256}  {ARCHIVE}\n").encode())
    print(f"{description}: ready in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
