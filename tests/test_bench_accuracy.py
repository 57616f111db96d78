"""benchmarks/bench_accuracy.py: the cut-down reference notebooks it runs, what it reads from them,
and its refusal to measure on anything but the full data set."""
import importlib.util

import pytest

from assignments import paths
from assignments.notebooks import nbgrader_meta


@pytest.fixture
def bench(monkeypatch):
    """benchmarks/bench_accuracy.py as a module (it imports its sibling `results`)."""
    monkeypatch.syspath_prepend(str(paths.REPO_ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("bench_accuracy",
                                                  paths.REPO_ROOT / "benchmarks" / "bench_accuracy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("assignment", ["01_softmax", "02_fully_connected", "04_cnn"])
def test_the_notebook_keeps_setup_data_solutions_and_the_main_training(bench, assignment):
    data_cell, train_cell, _, _ = bench.MAIN_MODELS[assignment]
    nb = bench.training_notebook(assignment)
    ids = [nbgrader_meta(cell).get("grade_id") for cell in nb.cells[:-1]]
    assert ids[0] == "setup" and ids[-1] == train_cell
    assert {nbgrader_meta(cell).get("grade_id") for cell in nb.cells[:-1]
            if not nbgrader_meta(cell).get("solution")} == {"setup", data_cell, train_cell}
    assert not any(nbgrader_meta(cell).get("grade") for cell in nb.cells)  # no test cells
    assert bench.RESULT_MARK in nb.cells[-1].source


def test_measure_reads_accuracy_epochs_and_time_from_the_run(bench, tmp_path, monkeypatch):
    # On the bundled fixture (the notebook's short schedule): what main() records for the full data.
    monkeypatch.setenv("DLKIT_DATA_DIR", str(tmp_path))
    result = bench.measure("01_softmax")
    assert 0.5 < result["accuracy"] <= 1 and 1 <= result["epochs"] <= 30
    assert isinstance(result["seconds_per_epoch"], float) and result["seconds_per_epoch"] > 0  # no speed bound: load


def test_refuses_to_measure_on_less_than_the_full_data(bench, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DLKIT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DLKIT_DATASET", "mnist")  # main() sets it for the kernels; restored after the test
    assert bench.main(["--dataset", "mnist"]) == 1
    err = capsys.readouterr().err
    assert "tiny MNIST fixture" in err and "is not the full data set" in err
    assert "python data_scripts/get_mnist.py" in err
