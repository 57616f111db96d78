"""The notebooks' experiment helpers (assignments.experiments): FULL, the epoch schedule, the stopwatch."""
import re
from types import SimpleNamespace

import numpy as np
import pytest

from assignments import experiments, paths
from assignments.data import MAX_DEFAULT_VALIDATION, get_mnist_data
from assignments.experiments import FULL_TRAINING_IMAGES, Stopwatch, epoch_schedule, is_full
from assignments.notebooks import read_notebook

RAW_TRAINING_IMAGES = {"MNIST": 60_000, "Fashion-MNIST": 60_000, "CIFAR-10": 50_000}
SMALLER_SETS = {"the offline MNIST subset": 5_000, "the MNIST fixture": 500, "the CIFAR-10 fixture": 200}


def _data(name: str, n: int) -> dict:
    return {"name": name, "X_train": np.zeros((n, 1, 2, 2), np.float32)}


@pytest.mark.parametrize("name", sorted(FULL_TRAINING_IMAGES))
def test_the_full_data_set_after_its_validation_split_is_full_and_smaller_sets_are_not(name):
    raw = RAW_TRAINING_IMAGES[name]
    assert is_full(_data(name, raw - min(MAX_DEFAULT_VALIDATION, raw // 10)))
    for smaller in SMALLER_SETS.values():
        assert not is_full(_data(name, smaller - smaller // 10))


def test_the_bundled_fixture_is_not_full_and_a_cut_down_full_set_is_no_longer():
    assert not is_full(get_mnist_data(verbose=False))
    assert is_full(_data("MNIST", 55_000))
    assert not is_full(_data("MNIST", 500))  # what 04's data cell keeps when the grader runs it


def test_an_unknown_data_set_is_an_error_not_a_guess():
    with pytest.raises(KeyError):
        is_full(_data("SVHN", 70_000))


def test_the_epoch_schedule_picks_the_full_or_the_fixture_figure():
    assert epoch_schedule(True)(10, 4) == 10
    assert epoch_schedule(False)(10, 4) == 4


@pytest.fixture
def fake_clock(monkeypatch):
    """time.perf_counter as the stopwatch sees it: a clock the test advances by hand."""
    now = [100.0]
    monkeypatch.setattr(experiments, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    return now


def test_the_stopwatch_times_its_block_and_then_stands_still(fake_clock):
    with Stopwatch() as clock:
        fake_clock[0] += 2.5
        inside = clock.seconds
        fake_clock[0] += 1.0
    assert inside == 2.5 and clock.seconds == 3.5
    fake_clock[0] += 7.0
    assert clock.seconds == 3.5


def test_the_stopwatch_stops_when_its_block_raises(fake_clock):
    with pytest.raises(ValueError), Stopwatch() as clock:
        fake_clock[0] += 0.5
        raise ValueError
    fake_clock[0] += 7.0
    assert clock.seconds == 0.5


def test_an_unstarted_stopwatch_says_so():
    with pytest.raises(RuntimeError, match="before the stopwatch was started"):
        Stopwatch().seconds


def test_notebooks_import_the_helpers_instead_of_defining_them():
    for path in sorted(paths.SOURCE_DIR.glob("*/*.ipynb")):
        code = "\n".join(cell.source for cell in read_notebook(path).cells if cell.cell_type == "code")
        assert not re.search(r"^def (epochs|best_time)\b", code, re.MULTILINE), path.name
        assert not re.search(r"FULL = .*\d_000", code), f"{path.name} has its own threshold of the full data set"
        if "epochs(" in code:
            assert "epochs = epoch_schedule(FULL)" in code, path.name
