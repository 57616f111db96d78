"""Helpers of the notebooks' experiments: full or short schedule, and how long a run took.

Every notebook trains on the full data set once it has been fetched and scales down on the bundled
fixtures, so that it always runs:

    data = get_mnist_data()
    FULL = is_full(data)                 # the full data set, not a fixture or the offline subset
    epochs = epoch_schedule(FULL)        # epochs(10, 4): 10 on the full data set, else 4
    with Stopwatch() as clock:
        solver.train()
    print(f"{clock.seconds:.1f} s")
"""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping

FULL_TRAINING_IMAGES = {"MNIST": 50_000, "Fashion-MNIST": 50_000, "CIFAR-10": 40_000}
"""The fewest training images (after the validation split) that make the full data set, by the
"name" that get_mnist_data() / get_cifar10_data() give it: full MNIST and Fashion-MNIST keep
55,000, full CIFAR-10 45,000; the offline MNIST subset keeps 3,600 and the fixtures a few hundred."""


def is_full(data: Mapping[str, Any]) -> bool:
    """Whether `data` is the full data set, as the notebooks' FULL.

    Inputs:
    - data: a dict from get_mnist_data() or get_cifar10_data(), with "name" and "X_train"; it may
      have been cut down since (then it is no longer full).
    Returns len(data["X_train"]) >= FULL_TRAINING_IMAGES[data["name"]].
    """
    return len(data["X_train"]) >= FULL_TRAINING_IMAGES[data["name"]]


def epoch_schedule(full: bool) -> Callable[[int, int], int]:
    """epochs(full_epochs, fixture_epochs) -> the number of epochs to train.

    Inputs:
    - full: whether the notebook trains on the full data set (`is_full(data)`).
    Returns a function of two ints that returns the first when `full` and the second otherwise.
    """
    def epochs(full_epochs: int, fixture_epochs: int) -> int:
        """The number of epochs to train: `full_epochs` on the full data set, else `fixture_epochs`."""
        return full_epochs if full else fixture_epochs
    return epochs


class Stopwatch:
    """Wall-clock seconds of a `with` block.

        with Stopwatch() as clock:
            solver.train()
        seconds_per_epoch = clock.seconds / solver.num_epochs

    `seconds` grows while the block runs and stays fixed once it has ended (also by an exception).
    """

    def __init__(self) -> None:
        self._start: float | None = None
        self._end: float | None = None

    def __enter__(self) -> Stopwatch:
        self._start, self._end = time.perf_counter(), None
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._end = time.perf_counter()

    @property
    def seconds(self) -> float:
        """Seconds from entering the block to leaving it (or to now, inside it)."""
        if self._start is None:
            raise RuntimeError("Stopwatch.seconds is read before the stopwatch was started with `with`")
        return (time.perf_counter() if self._end is None else self._end) - self._start
