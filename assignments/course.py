"""The course's settings, kept in `course.toml` at the kit's root (`paths.COURSE_SETTINGS`).

One setting so far, `dataset`: the data set that assignments 01-04 train on, "mnist" or
"fashion-mnist" (`get_mnist_data()` loads it). The notebooks read it in the student's kernel, the
grader's jail can read the file, and `$DLKIT_DATASET` overrides it for one run (benchmarks, or an
instructor trying the other data set). The results a reference solution reaches on each data set
follow the setting too (`ACCURACY_TARGETS`).
"""
from __future__ import annotations

import os
import tomllib

from assignments import paths

DATASETS = ("mnist", "fashion-mnist")
"""The data sets `dataset` may name: both in MNIST's format, 10 classes of 28x28 grey images."""

ACCURACY_TARGETS = {
    "mnist": {"01_softmax": 0.92, "02_fully_connected": 0.98, "04_cnn": 0.99},
    "fashion-mnist": {"01_softmax": 0.83, "02_fully_connected": 0.88, "04_cnn": 0.91},
}
"""Test accuracy each reference notebook's main model reaches on the full data set (at least),
checked by benchmarks/bench_accuracy.py, which records the measured figures."""


class CourseSettingsError(ValueError):
    """A course setting that is missing or invalid; the message names the file and the choices."""


def dataset() -> str:
    """The course's data set for assignments 01-04: `$DLKIT_DATASET`, else `dataset` in course.toml.

    Returns one of DATASETS; "mnist" when course.toml is absent or does not set it.
    Raises CourseSettingsError for an unknown name or a course.toml that does not parse.
    """
    name = os.environ.get("DLKIT_DATASET")
    where = "$DLKIT_DATASET"
    if name is None:
        where = str(paths.COURSE_SETTINGS)
        try:
            settings = tomllib.loads(paths.COURSE_SETTINGS.read_text(encoding="utf-8"))
        except FileNotFoundError:
            settings = {}
        except tomllib.TOMLDecodeError as error:
            raise CourseSettingsError(f"{where}: not valid TOML: {error}") from None
        name = settings.get("dataset", "mnist")
    if name not in DATASETS:
        raise CourseSettingsError(f"{where}: dataset = {name!r} is not a data set of the course; "
                                  f"choose one of {', '.join(map(repr, DATASETS))}")
    return name
